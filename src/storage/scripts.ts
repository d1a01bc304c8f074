// Remote scripts of the bucket transfers (pure): run a Python program from the remote dir, plan on stdin.
import { quoteRemotePath, quoteShell } from "../shell/quote.js";
import { INPUTS_PROGRAM } from "./inputs-program.js";
import { LISTED_STAT_PROGRAM } from "./stat-program.js";
import { UPLOAD_PROGRAM } from "./upload-program.js";

/** Exit status of the scripts when the host has no Python to run them. */
export const NO_PYTHON_EXIT = 127;

function buildPythonScript(remoteDir: string, program: string): string {
  return [
    `cd ${quoteRemotePath(remoteDir)} || exit 3`,
    `PY=$(command -v python3 || command -v /usr/bin/python3) || { echo 'offload: no python3 on this machine: bucket transfers need it' >&2; exit ${NO_PYTHON_EXIT}; }`,
    `exec "$PY" -c ${quoteShell(program)}`,
  ].join("\n");
}

/** Puts the files of an upload plan (given on stdin) into the bucket; paths are relative to `remoteDir`. */
export function buildUploadScript(remoteDir: string): string {
  return buildPythonScript(remoteDir, UPLOAD_PROGRAM);
}

/** Fetches the inputs of a plan (given on stdin) through the ETag cache into `remoteDir`. */
export function buildFetchInputsScript(remoteDir: string): string {
  return buildPythonScript(remoteDir, INPUTS_PROGRAM);
}

/**
 * Runs `listing` (a script whose stdout is NUL-separated records, as sync's download listing) and says
 * the size, mtime and inode of the files it names, in one round trip (LISTED_STAT_PROGRAM). Without
 * python3 the listing still comes, and the script exits NO_PYTHON_EXIT.
 */
export function buildListedStatScript(remoteDir: string, listing: string): string {
  const list = `(\n${listing}\n)`;
  return [
    `cd ${quoteRemotePath(remoteDir)} || exit 3`,
    `PY=$(command -v python3 || command -v /usr/bin/python3) || { ${list}; echo 'offload: no python3 on this machine' >&2; exit ${NO_PYTHON_EXIT}; }`,
    `${list} | "$PY" -c ${quoteShell(LISTED_STAT_PROGRAM)}`,
  ].join("\n");
}
