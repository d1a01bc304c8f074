// The ssh Transport: the system's OpenSSH with one ControlMaster per host, so a run pays one handshake.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { OffloadError } from "../errors.js";
import { quoteArgv, quoteShell } from "../shell/quote.js";
import { type AnswerWatch, watchForAnswer } from "./answer-watch.js";
import { createStdoutFrame, frameScript } from "./frame.js";
import { runDaemonizing, runProcess } from "./process.js";
import { cipherOptions } from "./ssh-ciphers.js";
import { classifySshFailure, isSshFailure, NO_ANSWER } from "./ssh-errors.js";
import type { ExecOptions, ExecResult, PortForward, RemoteShell, Transport } from "./types.js";

export interface SshTransportOptions {
  /** What the user named, for messages. */
  label: string;
  host: string;
  user?: string | undefined;
  port?: number | undefined;
  /** An ssh config file to use instead of ~/.ssh/config (`ssh -F`). */
  configFile?: string | undefined;
  connectTimeoutSeconds?: number | undefined;
  /** Seconds between keepalives; three unanswered ones end the connection, so a dead link is noticed. */
  keepaliveSeconds?: number | undefined;
  /** How long the master outlives the last session; a later `offload` call reuses it while it lives. */
  persistSeconds?: number | undefined;
  controlDir?: string | undefined;
}

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

export class SshTransport implements Transport {
  readonly kind = "ssh";
  readonly label: string;
  readonly #options: SshTransportOptions;
  readonly #controlPath: string;
  #connected: Promise<void> | undefined;
  /** Set once the host has run a script of ours: from then on a dead link is the keepalive's to notice. */
  #answered = false;

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
    // Named by offload, not ssh's %C, so that whether a master is there can be seen without a spawn.
    const target = [options.configFile ?? "", options.user ?? "", options.host, options.port ?? ""];
    const key = createHash("sha256").update(target.join("\0")).digest("hex").slice(0, 20);
    this.#controlPath = join(options.controlDir ?? controlDirectory(), `m-${key}`);
  }

  /** Options every ssh invocation shares. Host keys are always checked: no option here can relax that. */
  baseArgs(): string[] {
    const o = this.#options;
    const args: string[] = [];
    if (o.configFile) args.push("-F", o.configFile);
    if (o.user) args.push("-l", o.user);
    if (o.port) args.push("-p", String(o.port));
    args.push(
      "-o",
      `ControlPath=${this.#controlPath}`,
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `ServerAliveInterval=${o.keepaliveSeconds ?? 5}`,
      "-o",
      "ServerAliveCountMax=3",
      "-o",
      `ConnectTimeout=${this.#connectTimeout()}`,
      ...cipherOptions(o.configFile),
    );
    return args;
  }

  #connectTimeout(): number {
    return this.#options.connectTimeoutSeconds ?? 10;
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
    const check = await runProcess(
      ["ssh", ...this.baseArgs(), "-O", "check", "--", this.#options.host],
      signal ? { signal } : {},
    );
    if (check.code === 0) return;
    const persist = this.#options.persistSeconds ?? 600;
    const result = await runDaemonizing(
      [
        "ssh",
        ...this.baseArgs(),
        "-o",
        "ControlMaster=yes",
        "-o",
        `ControlPersist=${persist}`,
        "-f",
        "-N",
        "--",
        this.#options.host,
      ],
      // ConnectTimeout bounds TCP and the banner; this bounds a handshake that stalls after them, with room
      // for key exchange and auth on a busy machine (2 s of connect_timeout cut them short under CI load).
      { timeoutMs: (this.#connectTimeout() * 2 + 5) * 1000, ...(signal ? { signal } : {}) },
    );
    if (result.code === 0) return;
    // Killed by the bound above (not by the caller): ConnectTimeout covers only TCP and the banner.
    const timedOut = result.code === 137 && signal?.aborted !== true;
    const stderr = timedOut ? `${result.stderr}${NO_ANSWER}\n` : result.stderr;
    throw this.explain({ ...result, stderr, connectionFailed: true });
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
    return watchForAnswer(this.#connectTimeout(), signal);
  }

  async #giveUpUnanswered(result: ExecResult): Promise<ExecResult> {
    // `-O stop`, not `exit`: sessions still running over the master (another offload's) keep going.
    await runProcess(["ssh", ...this.baseArgs(), "-O", "stop", "--", this.#options.host]);
    return {
      ...result,
      code: 255,
      stderr: `${result.stderr}${NO_ANSWER}\n`,
      connectionFailed: true,
    };
  }

  async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    // The remote login shell parses the command line; `sh -c` with one quoted word makes that parse trivial.
    // ControlMaster=auto: the first exec becomes the master (ControlPersist detaches it from our pipes),
    // so a cold run pays one handshake and no separate `ssh -O check` / `ssh -f -N` step. Bytes that go
    // straight to a file never open the master: one opened so would keep the file as its stdout after
    // the transfer, and go on writing it after a kill -9 of offload (seen in downloads.test.ts).
    const toFile = options.stdoutFd !== undefined;
    const master = toFile
      ? ["-o", "ControlMaster=no"]
      : ["-o", "ControlMaster=auto", "-o", `ControlPersist=${this.#options.persistSeconds ?? 600}`];
    const argv = ["ssh", ...this.baseArgs(), ...master, "-T", "--", this.#options.host];
    if (toFile) {
      // The caller frames the bytes (by length, see sync/download.ts).
      const result = await runProcess([...argv, `sh -c ${quoteShell(script)}`], options);
      return { ...result, connectionFailed: isSshFailure(result.code, result.stderr) };
    }
    // What the login shell prints before our script (an `echo` in ~/.bashrc) is not ours: drop it.
    const frame = createStdoutFrame();
    const kept: Buffer[] = [];
    const watch = this.#watchFirstAnswer(options.signal);
    const result = await runProcess([...argv, `sh -c ${quoteShell(frameScript(script))}`], {
      ...options,
      ...(watch ? { signal: watch.signal } : {}),
      onStdout: (chunk) => {
        const payload = frame.push(chunk);
        if (frame.started && watch) {
          this.#answered = true;
          watch.answered();
        }
        if (payload.length === 0) return;
        if (options.onStdout) options.onStdout(payload);
        else kept.push(payload);
      },
    }).finally(() => watch?.dispose());
    const framed: ExecResult = {
      ...result,
      stdout: Buffer.concat(kept).toString("utf8"),
      connectionFailed: isSshFailure(result.code, result.stderr),
    };
    return watch?.expired && !frame.started ? this.#giveUpUnanswered(framed) : framed;
  }

  /** Raises the OffloadError that explains a failed connection. */
  explain(result: ExecResult): Error {
    return classifySshFailure(
      this.label,
      result.stderr,
      this.#sshCommandTarget(),
      this.#connectTimeout(),
    );
  }

  /** What a person types after `ssh` to reach this target by hand, for hints. */
  #sshCommandTarget(): string {
    const o = this.#options;
    return [
      ...(o.configFile ? ["-F", quoteShell(o.configFile)] : []),
      ...(o.port ? ["-p", String(o.port)] : []),
      o.user ? `${o.user}@${o.host}` : o.host,
    ].join(" ");
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
    const o = this.#options;
    const scope = [o.configFile ?? "", o.user ?? "", o.host, o.port ?? "", remoteDir].join("\0");
    const key = createHash("sha256").update(scope).digest("hex").slice(0, 20);
    return join(dirname(this.#controlPath), `facts-${key}.json`);
  }

  forwardPort(forward: PortForward): Promise<ExecResult> {
    return this.#controlForward("forward", forward);
  }

  cancelForward(forward: PortForward): Promise<ExecResult> {
    return this.#controlForward("cancel", forward);
  }

  /** Both ends on loopback: the forward is reachable from this machine only, and only the host's own. */
  async #controlForward(op: "forward" | "cancel", f: PortForward): Promise<ExecResult> {
    const spec = `127.0.0.1:${f.local}:127.0.0.1:${f.remote}`;
    const result = await runProcess([
      "ssh",
      ...this.baseArgs(),
      "-O",
      op,
      "-L",
      spec,
      "--",
      this.#options.host,
    ]);
    return { ...result, connectionFailed: false };
  }

  async close(): Promise<void> {
    this.#connected = undefined;
    await runProcess(["ssh", ...this.baseArgs(), "-O", "exit", "--", this.#options.host]);
  }
}
