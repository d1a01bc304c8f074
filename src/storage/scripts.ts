// Remote scripts of the bucket transfers (pure): run a Python program from the remote dir, plan on stdin.
import { quoteRemotePath, quoteShell } from "../shell/quote.js";
import { INPUTS_PROGRAM } from "./inputs-program.js";
import { STAT_PROGRAM } from "./stat-program.js";
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

/** Says size and mtime of the files named on stdin (NUL-separated, relative to `remoteDir`). */
export function buildStatScript(remoteDir: string): string {
  return buildPythonScript(remoteDir, STAT_PROGRAM);
}
