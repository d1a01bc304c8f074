// Owns the bed without root: one sshd as the current user on a free loopback port, alias offload-h1.

import { chmodSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { downUnlocked } from "./down.js";
import { ensureKey, publicKeyBody, sshConfigText, sshdConfigText, writeAtomic } from "./files.js";
import { describeBed } from "./info.js";
import { withLock } from "./lock.js";
import { clientFiles, defaultNames, hostDir, hostName, type TestbedNames } from "./names.js";
import { isGone } from "./procfs.js";
import { launchLoopbackSshd, readSshdPid, waitUntilServing } from "./sshd.js";
import { readState, writeState } from "./state.js";
import type { TestbedInfo } from "./types.js";

export async function upLoopback(
  names: TestbedNames = defaultNames(),
  reason?: string,
): Promise<TestbedInfo> {
  mkdirSync(names.stateDir, { recursive: true, mode: 0o700 });
  chmodSync(names.stateDir, 0o700);
  return withLock(names.stateDir, () => upLoopbackUnlocked(names, reason));
}

async function upLoopbackUnlocked(names: TestbedNames, reason?: string): Promise<TestbedInfo> {
  const alias = hostName(names, 1);
  const dir = hostDir(names, 1);
  const { sshConfig, knownHosts } = clientFiles(names);
  const state = readState(names.stateDir);
  const pid = readSshdPid(dir);
  if (state?.mode === "loopback" && pid !== undefined && !isGone(pid)) {
    await waitUntilServing(alias, sshConfig, dir);
    return describeBed(names, "loopback", [alias], reason);
  }
  downUnlocked(names);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const clientPub = ensureKey(join(names.stateDir, "id_ed25519"), "offload-testbed-client");
  const hostPub = ensureKey(join(dir, "ssh_host_ed25519_key"), alias);
  const port = await findFreePort();
  writeAtomic(join(dir, "sshd_config"), sshdConfigText({ dir, port, listen: "127.0.0.1" }));
  writeAtomic(join(dir, "authorized_keys"), `${clientPub}\n`);
  writeAtomic(knownHosts, `[127.0.0.1]:${port},[${alias}]:${port} ${publicKeyBody(hostPub)}\n`);
  const config = sshConfigText({
    hosts: [{ alias, hostName: "127.0.0.1", port }],
    patterns: [`${names.hostPrefix}*`, "127.0.0.1"],
    user: userInfo().username,
    identityFile: join(names.stateDir, "id_ed25519"),
    knownHosts,
  });
  writeAtomic(sshConfig, config);
  writeState(names.stateDir, { mode: "loopback", hosts: 1, port });
  const launched = launchLoopbackSshd(dir);
  await waitUntilServing(alias, sshConfig, dir, launched);
  return describeBed(names, "loopback", [alias], reason);
}

/** Binds port 0 to let the kernel pick; the tiny race until sshd binds it is acceptable here. */
function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
