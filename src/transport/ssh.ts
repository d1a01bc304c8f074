// The ssh Transport: the system's OpenSSH with one ControlMaster per host, so a run pays one handshake.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { OffloadError } from "../errors.js";
import { quoteArgv } from "../shell/quote.js";
import { type AnswerWatch, watchForAnswer } from "./answer-watch.js";
import { dropForwardRecord, reclaimForward, recordForward } from "./forward-records.js";
import {
  connectTimeoutOf,
  controlPathIn,
  factsPathBeside,
  persistSecondsOf,
  type SshTransportOptions,
  sshBaseArgs,
  sshCommandTarget,
} from "./ssh-args.js";
import { controlDirectory } from "./ssh-control-dir.js";
import { classifySshFailure, NO_ANSWER } from "./ssh-errors.js";
import { execFramed, execToFile } from "./ssh-exec.js";
import { controlMaster, type MasterSpec, startMaster } from "./ssh-master.js";
import type { ExecOptions, ExecResult, PortForward, RemoteShell, Transport } from "./types.js";

export type { SshTransportOptions } from "./ssh-args.js";
export { controlDirectory } from "./ssh-control-dir.js";

export class SshTransport implements Transport {
  readonly kind = "ssh";
  readonly label: string;
  readonly #options: SshTransportOptions;
  readonly #controlPath: string;
  #connected: Promise<void> | undefined;
  /** Set once the host has run a script of ours: from then on a dead link is the keepalive's to notice. */
  #answered = false;
  /** What framed round trips showed of the login shell's stdout: clean until one shows it printing. */
  #stdout: "unknown" | "clean" | "noisy" = "unknown";

  get cleanStdout(): boolean {
    return this.#stdout === "clean";
  }

  constructor(options: SshTransportOptions) {
    // The last guard before argv (the host string's parser refuses these first, with a fuller hint): a
    // host that starts with `-` would be read by ssh, and by rsync through `-e ssh`, as an option.
    if (options.host === "" || options.host.startsWith("-")) {
      throw new OffloadError(
        "E_HOST_SYNTAX",
        `Refusing host ${JSON.stringify(options.host)}: ssh would read it as an option.`,
        { hint: "Give a host name, an IP address or an alias from your ssh config." },
      );
    }
    this.label = options.label;
    this.#options = options;
    this.#controlPath = controlPathIn(options.controlDir ?? controlDirectory(), options);
  }

  /** Options every ssh invocation shares. Host keys are always checked: no option here can relax that. */
  baseArgs(): string[] {
    return sshBaseArgs(this.#options, this.#controlPath);
  }

  #master(): MasterSpec {
    return {
      baseArgs: this.baseArgs(),
      host: this.#options.host,
      connectTimeoutSeconds: connectTimeoutOf(this.#options),
      persistSeconds: persistSecondsOf(this.#options),
    };
  }

  /** `signal` gives up waiting (a Ctrl+C that leaves): the attempt in flight is killed. */
  connect(signal?: AbortSignal): Promise<void> {
    this.#connected ??= this.#startMaster(signal).catch((error: unknown) => {
      this.#connected = undefined;
      throw error;
    });
    return this.#connected;
  }

  async #startMaster(signal?: AbortSignal): Promise<void> {
    const failed = await startMaster(this.#master(), signal);
    if (failed) throw this.explain(failed);
  }

  /**
   * Until the host has answered once, a script over an existing ControlMaster that has not started within
   * the connect timeout is given up: a master left over a link that died since takes new sessions and
   * holds them until its keepalives fail. Its socket is then retired, so the next attempt connects
   * afresh. Without a master, ssh's own ConnectTimeout bounds the connect, and a slow handshake on a busy
   * machine is not cut short.
   */
  #watchFirstAnswer(signal: AbortSignal | undefined): AnswerWatch | undefined {
    if (this.#answered || !existsSync(this.#controlPath)) return undefined;
    return watchForAnswer(connectTimeoutOf(this.#options), signal);
  }

  /**
   * A framed script started: the host answered (watched or not: the exec that opened the master was
   * not), and what its login shell printed before the mark says whether a stream may go straight into a
   * file. Noted at the mark, not at the end: a held prepare is still running when its launch streams.
   */
  #noteAnswer(noisy: boolean): void {
    this.#answered = true;
    if (this.#stdout !== "noisy") this.#stdout = noisy ? "noisy" : "clean";
  }

  async #giveUpUnanswered(result: ExecResult): Promise<ExecResult> {
    // `-O stop`, not `exit`: sessions still running over the master (another offload's) keep going.
    await controlMaster(this.#master(), "stop");
    return {
      ...result,
      code: 255,
      stderr: `${result.stderr}${NO_ANSWER}\n`,
      connectionFailed: true,
    };
  }

  async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    // ControlMaster=auto: the first exec becomes the master (ControlPersist detaches it from our pipes),
    // so a cold run pays one handshake and no separate `ssh -O check` / `ssh -f -N` step. Bytes that go
    // straight to a file never open the master: one opened so would keep the file as its stdout after
    // the transfer, and go on writing it after a kill -9 of offload (seen in downloads.test.ts).
    const toFile = options.stdoutFd !== undefined;
    const master = toFile
      ? ["-o", "ControlMaster=no"]
      : ["-o", "ControlMaster=auto", "-o", `ControlPersist=${persistSecondsOf(this.#options)}`];
    const argv = ["ssh", ...this.baseArgs(), ...master, "-T", "--", this.#options.host];
    if (toFile) return execToFile(argv, script, options);
    const watch = this.#watchFirstAnswer(options.signal);
    const { result, started } = await execFramed(argv, script, options, watch, (noisy) =>
      this.#noteAnswer(noisy),
    );
    return watch?.expired && !started ? this.#giveUpUnanswered(result) : result;
  }

  /** Raises the OffloadError that explains a failed connection. */
  explain(result: ExecResult): Error {
    return classifySshFailure(
      this.label,
      result.stderr,
      sshCommandTarget(this.#options),
      connectTimeoutOf(this.#options),
    );
  }

  remoteShell(): RemoteShell {
    const sshArgv = ["ssh", ...this.baseArgs(), "-o", "ControlMaster=no", "-T"];
    const host = this.#options.host;
    return {
      rsh: quoteArgv(sshArgv),
      remotePath: (path) => `${host}:${path}`,
      shellArgv: (command) => [...sshArgv, "--", host, command],
    };
  }

  factsCachePath(remoteDir: string): string {
    return factsPathBeside(this.#controlPath, this.#options, remoteDir);
  }

  async forwardPort(forward: PortForward): Promise<ExecResult> {
    const result = await controlMaster(this.#master(), "forward", ["-L", loopbackSpec(forward)]);
    if (result.code === 0)
      await recordForward(
        dirname(this.#controlPath),
        forward.local,
        this.#controlPath,
        loopbackSpec(forward),
      );
    return result;
  }

  async cancelForward(forward: PortForward): Promise<ExecResult> {
    const result = await controlMaster(this.#master(), "cancel", ["-L", loopbackSpec(forward)]);
    await dropForwardRecord(dirname(this.#controlPath), forward.local);
    return result;
  }

  reclaimForward(local: number): Promise<number | undefined> {
    return reclaimForward(dirname(this.#controlPath), local);
  }

  async close(): Promise<void> {
    this.#connected = undefined;
    await controlMaster(this.#master(), "exit");
  }
}

/** Both ends on loopback: the forward is reachable from this machine only, and only the host's own. */
function loopbackSpec(f: PortForward): string {
  return `127.0.0.1:${f.local}:127.0.0.1:${f.remote}`;
}
