// Local programs offload drives (ssh, rsync, tar): whether they are installed, and the error when not.
import { accessSync, constants, statSync } from "node:fs";
import { basename, delimiter, join } from "node:path";
import { OffloadError } from "../errors.js";

/** True where `name` is an executable file in one of PATH's directories, as a shell would find it. */
export function hasLocalProgram(name: string, path = process.env.PATH ?? ""): boolean {
  return findLocalProgram(name, path) !== undefined;
}

/** The file a shell would run for `name`: the first executable file of that name in PATH's directories. */
export function findLocalProgram(name: string, path = process.env.PATH ?? ""): string | undefined {
  return path
    .split(delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => join(dir, name))
    .find((file) => {
      try {
        accessSync(file, constants.X_OK);
        return statSync(file).isFile();
      } catch {
        return false;
      }
    });
}

const INSTALL: Record<string, { code: "E_SSH_MISSING" | "E_SYNC"; needs: string; hint: string }> = {
  ssh: {
    code: "E_SSH_MISSING",
    needs: "the OpenSSH client to reach the host",
    hint: "Install the OpenSSH client (Debian/Ubuntu: `apt install openssh-client`; Fedora: `dnf install openssh-clients`; macOS has it built in), or add the directory holding `ssh` to PATH.",
  },
  rsync: {
    code: "E_SYNC",
    needs: "rsync to copy files (sync.tool: rsync)",
    hint: "Install rsync (Debian/Ubuntu: `apt install rsync`; macOS: `brew install rsync`) or add it to PATH; or set `sync: { tool: tar }` in offload.yaml to send the workspace with tar instead.",
  },
  tar: {
    code: "E_SYNC",
    needs: "tar to copy files",
    hint: "Install tar (Debian/Ubuntu: `apt install tar`) or add it to PATH.",
  },
};

/**
 * The OffloadError for a program that could not be started because it is not there (spawn ENOENT), or
 * undefined for a program offload has no advice about (that stays a bug).
 */
export function explainMissingProgram(program: string, cause: unknown): OffloadError | undefined {
  const known = INSTALL[basename(program)];
  if (known === undefined) return undefined;
  return new OffloadError(
    known.code,
    `\`${program}\` was not found on this machine (PATH=${process.env.PATH ?? ""}); offload needs ${known.needs}.`,
    { hint: known.hint, cause },
  );
}
