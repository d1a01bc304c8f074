// Host keys offload makes for the machines it creates (passed in cloud-init's ssh_keys, then pinned:
// no trust on first use), and the login key offload registers with them.
import { access, link, mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { OffloadError } from "../errors.js";
import { runProcess } from "../transport/process.js";

export interface KeyPair {
  /** OpenSSH private key text: only ever written to private files and request bodies, never argv. */
  privateKey: string;
  /** `ssh-ed25519 AAAA… comment` */
  publicKey: string;
}

/** A fresh ed25519 key pair, made in a private temp dir that is removed before returning. */
export async function generateKeyPair(comment: string): Promise<KeyPair> {
  const dir = await mkdtemp(join(tmpdir(), "offload-key-"));
  try {
    const path = join(dir, "key");
    await keygen(path, comment);
    const [privateKey, publicKey] = await Promise.all([
      readFile(path, "utf8"),
      readFile(`${path}.pub`, "utf8"),
    ]);
    return { privateKey, publicKey: publicKey.trim() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The login key being read or made, per state dir: the N machines of one job ask at the same time. */
const pendingLoginKeys = new Map<string, Promise<{ path: string; publicKey: string }>>();

/** offload's own login key for machines it makes (`<state dir>/keys/id_ed25519`), made once. */
export function ensureLoginKey(stateDir: string): Promise<{ path: string; publicKey: string }> {
  let key = pendingLoginKeys.get(stateDir);
  if (key === undefined) {
    key = readOrMakeLoginKey(stateDir);
    pendingLoginKeys.set(stateDir, key);
    const forget = () => pendingLoginKeys.delete(stateDir);
    key.then(forget, forget);
  }
  return key;
}

async function readOrMakeLoginKey(stateDir: string): Promise<{ path: string; publicKey: string }> {
  const dir = join(stateDir, "keys");
  const path = join(dir, "id_ed25519");
  const read = async () => ({ path, publicKey: (await readFile(`${path}.pub`, "utf8")).trim() });
  try {
    return await read();
  } catch {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Made aside and linked into place: another offload making it at the same time never sees half.
    const aside = await mkdtemp(join(dir, ".new-"));
    try {
      await keygen(join(aside, "key"), "offload-login");
      try {
        await link(join(aside, "key"), path);
        await rename(join(aside, "key.pub"), `${path}.pub`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        await waitForFile(`${path}.pub`);
      }
      return await read();
    } finally {
      await rm(aside, { recursive: true, force: true });
    }
  }
}

/** The other offload that linked the private key renames its public key next: a moment at most. */
async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await access(path);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export interface UserDataKeys {
  hostKey: KeyPair;
  loginKeys: readonly string[];
}

/**
 * cloud-init user data installing our host key (and no generated one, so the pinned key is the only
 * one the machine can show) and authorizing the login keys for the image's default user.
 */
export function buildUserData({ hostKey, loginKeys }: UserDataKeys): string {
  const doc = {
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: {
      ed25519_private: hostKey.privateKey,
      ed25519_public: publicKeyBody(hostKey.publicKey),
    },
    ssh_authorized_keys: [...loginKeys],
    ssh_pwauth: false,
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}

/** The known_hosts line pinning `publicKey` for `address` (bracketed with a port other than 22). */
export function knownHostsLine(address: string, publicKey: string, port = 22): string {
  const host = port === 22 ? address : `[${address}]:${port}`;
  return `${host} ${publicKeyBody(publicKey)}`;
}

/** `ssh-ed25519 AAAA…` without the comment. */
export function publicKeyBody(publicKey: string): string {
  return publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
}

async function keygen(path: string, comment: string): Promise<void> {
  const result = await runProcess([
    "ssh-keygen",
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    comment,
    "-f",
    path,
  ]);
  if (result.code !== 0) {
    throw new OffloadError(
      "E_SSH_MISSING",
      `ssh-keygen could not make a key (exit ${result.code}): ${result.stderr.trim()}`,
      {
        hint: "install OpenSSH's client tools (ssh-keygen)",
      },
    );
  }
}
