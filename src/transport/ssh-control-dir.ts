// Where offload keeps its ssh control sockets (and the facts cached beside them): a private directory.
import { lstatSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OffloadError } from "../errors.js";
import { quoteShell } from "../shell/quote.js";

/**
 * A private directory for control sockets. Short, because a unix socket path is limited to 108 bytes, and
 * mode 700, because whoever can open the socket can run commands on the remote host as you. One that is
 * not private is refused, never repaired: someone may already have put a socket of theirs in it.
 */
export function controlDirectory(): string {
  const uid = process.getuid?.() ?? 0;
  const parent = process.env.OFFLOAD_CONTROL_DIR ?? tmpdir();
  const dir = join(parent, `offload-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new OffloadError(
      "E_SSH",
      `Could not create ${dir} for ssh control sockets: ${(error as Error).message}`,
      {
        hint: `Make ${parent} writable for you, or point OFFLOAD_CONTROL_DIR at a directory of your own.`,
        cause: error,
      },
    );
  }
  const stat = lstatSync(dir);
  const mode = (stat.mode & 0o777).toString(8).padStart(3, "0");
  if (!stat.isDirectory() || stat.uid !== uid) {
    const what = stat.isDirectory() ? `is owned by uid ${stat.uid}` : "is not a directory";
    throw new OffloadError(
      "E_SSH",
      `${dir} ${what}; offload keeps its ssh control sockets there and needs it to be a directory owned by you (uid ${uid}) with mode 700.`,
      {
        hint: `Someone else may control it: have its owner (or root) remove it (\`rm -rf ${quoteShell(dir)}\`), or point OFFLOAD_CONTROL_DIR at a directory of your own.`,
      },
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new OffloadError(
      "E_SSH",
      `${dir} has mode ${mode}; offload keeps its ssh control sockets there and needs mode 700 (owner ${uid} only), since whoever can open a socket can run commands on your hosts.`,
      {
        hint: `Remove it so offload makes it afresh (\`rm -rf ${quoteShell(dir)}\`), or, if you trust everything in it, \`chmod 700 ${quoteShell(dir)}\`.`,
      },
    );
  }
  return dir;
}
