// Whether a host's `head -c` is GNU's (a node's held shell reads its steps with it: remote/node-hold.ts),
// kept on this machine with the boot id the host had when it said so: the held shell of the next job on
// that host, in that same boot, takes the answer instead of starting `head --version` again (a process
// start on every node of every job). Another boot id (a reboot, another machine behind the name) asks.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readHeldHead } from "../remote/node-hold.js";
import type { Transport } from "../transport/types.js";

/** What a boot id looks like: the only text taken from the kept file into a script. */
const BOOT_ID = /^[0-9a-f-]{8,64}$/;

/** The file beside the host's facts (transport's control dir), or undefined where there is none. */
function keptPath(transport: Transport): string | undefined {
  const facts = transport.factsCachePath?.("");
  return facts === undefined ? undefined : facts.replace(/(\.json)?$/, ".held-head");
}

/** The boot id in which the host said its head is GNU's, or undefined. */
export function readGnuHeadBoot(transport: Transport): string | undefined {
  const path = keptPath(transport);
  if (path === undefined) return undefined;
  try {
    const boot = readFileSync(path, "utf8").trim();
    // It goes into a script: only what a boot id looks like is taken.
    return BOOT_ID.test(boot) ? boot : undefined;
  } catch {
    return undefined;
  }
}

/**
 * After a node's held prepare (its `stderr`, the host's `bootId`): keeps what it said of its head, or
 * forgets what was kept, unless it only confirmed what was kept for this boot (`kept`): no write then.
 */
export function noteHeldHead(
  transport: Transport,
  stderr: string,
  kept: string | undefined,
  bootId: string,
): void {
  const gnu = readHeldHead(stderr);
  if (gnu && kept === bootId) return;
  keepGnuHead(transport, bootId, gnu);
}

/** Keeps (GNU) or forgets (not, or unknown) what a node's held prepare said of its head in boot `boot`. */
function keepGnuHead(transport: Transport, boot: string, gnu: boolean): void {
  const path = keptPath(transport);
  if (path === undefined) return;
  try {
    if (!gnu || !BOOT_ID.test(boot)) {
      rmSync(path, { force: true });
      return;
    }
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, `${boot}\n`, { mode: 0o600 });
    renameSync(temp, path);
  } catch {
    // best effort: the next held shell asks head again
  }
}
