// The one error type offload throws for anything a user can act on: a stable code, what happened, what to do.

export type ErrorCode =
  | "E_HOST_SYNTAX"
  | "E_HOST_UNREACHABLE"
  | "E_HOST_KEY_UNKNOWN"
  | "E_HOST_KEY_CHANGED"
  | "E_AUTH"
  | "E_SSH"
  | "E_SSH_MISSING"
  | "E_CONFIG_SYNTAX"
  | "E_CONFIG_KEY"
  | "E_CONFIG_VALUE"
  | "E_USAGE"
  | "E_NO_HOST"
  | "E_SYNC"
  | "E_SHELL_NOISE"
  | "E_PATH_ESCAPE"
  | "E_DOWNLOAD"
  | "E_DIR_REUSED"
  | "E_LOCKED"
  | "E_LAUNCH"
  | "E_RUN_LOST"
  | "E_RUN_NOT_FOUND"
  | "E_RUN_DAMAGED"
  | "E_STOP_REFUSED"
  | "E_DISCONNECTED"
  | "E_ENV"
  | "E_GPU"
  | "E_SECRET"
  | "E_DISK_FULL"
  | "E_INTERRUPTED"
  | "E_CLOUD_CAPACITY"
  | "E_CLOUD_QUOTA"
  | "E_CLOUD_AUTH"
  | "E_CLOUD_RATE_LIMIT"
  | "E_CLOUD_TRANSIENT"
  | "E_CLOUD_REQUEST"
  | "E_CLOUD_CONFIG"
  | "E_MACHINE_FAILED"
  | "E_MACHINE_LEAK"
  | "E_OUTPUT_CLOSED"
  | "E_LOG_MISSING"
  | "E_PORT_IN_USE"
  | "E_STORAGE_AUTH"
  | "E_STORAGE"
  | "E_FORWARD"
  | "E_SLURM";

export interface ErrorDetails {
  hint?: string;
  cause?: unknown;
  /** The failing program's own last lines (pip's error), shown under the message unless already seen. */
  output?: string;
}

export class OffloadError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly output: string | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "OffloadError";
    this.code = code;
    this.hint = details.hint;
    this.output = details.output;
  }
}

export function isOffloadError(error: unknown): error is OffloadError {
  return error instanceof OffloadError;
}

/**
 * Exit codes offload uses for its own failures. They sit above the range a shell gives a command
 * killed by a signal (128+n, up to 159 in practice) so `offload run` can pass the job's own code through.
 */
export const EXIT_CODES = {
  usage: 2,
  /** Any OffloadError not listed below. */
  failure: 200,
  /** The connection dropped and retries ran out; the remote job still runs: `offload attach`. */
  disconnected: 201,
  /** The remote dir is held by another run. */
  locked: 202,
  /** Building the remote environment failed. */
  environment: 203,
  /** The run's launcher vanished without writing an exit status (host rebooted, process killed). */
  lost: 204,
  /** The job succeeded but its outputs could not all be brought home: `offload attach` fetches them. */
  download: 205,
  /** Left a run with a second Ctrl+C; it goes on remotely (128 + SIGINT, as a shell reports it). */
  interrupted: 130,
  /** Standard output was closed (`| head`): offload stopped printing; a run goes on remotely (128 + SIGPIPE). */
  outputClosed: 141,
  /** offload itself hit a bug. */
  bug: 250,
} as const;

export function exitCodeFor(error: OffloadError): number {
  switch (error.code) {
    case "E_USAGE":
    case "E_NO_HOST":
      return EXIT_CODES.usage;
    case "E_DISCONNECTED":
      return EXIT_CODES.disconnected;
    case "E_LOCKED":
      return EXIT_CODES.locked;
    case "E_ENV":
      return EXIT_CODES.environment;
    case "E_RUN_LOST":
      return EXIT_CODES.lost;
    case "E_INTERRUPTED":
      return EXIT_CODES.interrupted;
    case "E_OUTPUT_CLOSED":
      return EXIT_CODES.outputClosed;
    default:
      return EXIT_CODES.failure;
  }
}
