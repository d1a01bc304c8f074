// The Transport interface: how the rest of offload reaches a target, whether over OpenSSH or on this machine.

export interface ExecOptions {
  /**
   * Bytes written to the script's standard input, then closed; or a stream piped into it as its bytes
   * come (the script waits on it meanwhile). Default: empty stdin.
   */
  stdin?: string | Uint8Array | NodeJS.ReadableStream;
  /** Called with each chunk of stdout as it arrives (stdout is then not buffered in the result). */
  onStdout?: (chunk: Buffer) => void;
  /** Send stdout straight into this open file descriptor instead (no copy through offload: a download at native speed). */
  stdoutFd?: number;
  /** Called with each chunk of stderr as it arrives (stderr is still collected in the result). */
  onStderr?: (chunk: Buffer) => void;
  /** Aborting kills the local client process (the remote side may go on: that is the point). */
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ExecResult {
  /** Exit status of the script; 255 from ssh means the connection failed (see `connectionFailed`). */
  code: number;
  stdout: string;
  stderr: string;
  /** True when the transport itself failed (ssh exit 255 with no remote status), not the script. */
  connectionFailed: boolean;
}

/** How rsync (or tar) reaches the target: the `-e` shell and the `host:` prefix, or nothing for local. */
export interface RemoteShell {
  /** The `-e` value for rsync, e.g. `ssh -o ControlPath=/tmp/x/m-… -o ControlMaster=no`; undefined for local. */
  rsh: string | undefined;
  /** Turns a remote path into rsync's `host:path` (or the path itself on local). */
  remotePath(path: string): string;
  /** argv (program first) that runs a shell command on the target, for tar pipes. */
  shellArgv(command: string): string[];
}

export interface Transport {
  readonly kind: "ssh" | "local";
  /** What the user named: `gpu-box`, `root@10.0.0.5:2222`, `local`. */
  readonly label: string;
  /**
   * A script's stdout carries its own bytes alone: nothing printed before them (a login shell's
   * `echo` in ~/.bashrc), as an earlier round trip proved. A stream may then go straight into a file
   * (`stdoutFd`); until then, or on a shell that printed, only a framed pipe keeps it clean.
   */
  readonly cleanStdout?: boolean;
  /** Opens the connection (the ssh ControlMaster); later calls reuse it. Idempotent. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Runs a POSIX sh script on the target. Never rejects for a non-zero exit; rejects on spawn failure. */
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  remoteShell(): RemoteShell;
  /** The OffloadError that explains a result with `connectionFailed` set. */
  explain(result: ExecResult): Error;
  /** Closes the master (for runs that must not leave one behind). */
  close(): Promise<void>;
  /**
   * Where facts probed about `remoteDir` on this target may be kept between runs (beside the ssh
   * control sockets: private, and scoped to the destination and ssh config); undefined: never cache.
   */
  factsCachePath?(remoteDir: string): string | undefined;
  /**
   * Forwards 127.0.0.1:`local` here to 127.0.0.1:`remote` on the target over the ControlMaster
   * (`ssh -O forward`); absent where there is no ssh (local).
   */
  forwardPort?(forward: PortForward): Promise<ExecResult>;
  /** Cancels a forward made by `forwardPort` (`ssh -O cancel`). */
  cancelForward?(forward: PortForward): Promise<ExecResult>;
  /**
   * Cancels the forward of `local` that an offload killed since left in its master (which holds the
   * port until it exits); returns that offload's pid, undefined when the port is not such a leftover.
   */
  reclaimForward?(local: number): Promise<number | undefined>;
}

export interface PortForward {
  remote: number;
  local: number;
}
