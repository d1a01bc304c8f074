// The command provider: any cloud through its own CLI. The user's create/describe/delete (and optional
// list/stop/start) commands run under `sh -c` with OFFLOAD_* variables, print JSON, and offload finds the
// id, state and addresses in it. Nothing secret goes in argv: the user data (it holds the machine's host
// key) is a private temp file ($OFFLOAD_USER_DATA_FILE) and stdin; the user's own credentials stay in
// the environment their CLI reads.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess } from "../../transport/process.js";
import { findAddresses } from "../address.js";
import { ProviderError, type ProviderErrorKind } from "../errors.js";
import type { MachineDescription, MachineSpec, MachineState, Provider } from "../types.js";
import { findId, findMachines, findRawState, findTag, stateOfWord } from "./parse.js";

export interface CommandOptions {
  create: string;
  describe: string;
  delete: string;
  list?: string;
  stop?: string;
  start?: string;
  regions?: readonly string[];
  /** A dotted path to the id in create's output (default: found by its usual names). */
  idField?: string;
  /** The cloud's state words that mean something else than offload guesses (`TERMINATED: stopped`). */
  states?: Record<string, MachineState>;
  /** `first-use` for a cloud whose CLI cannot pass user data. */
  hostKeys?: "user-data" | "first-use";
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

const NOT_FOUND =
  /not[ _-]?found|does not exist|doesn't exist|no such|\b404\b|InvalidInstanceID\.NotFound/i;

export class CommandProvider implements Provider {
  readonly kind = "command";
  readonly regions: readonly string[];
  readonly hostKeys: "user-data" | "first-use";
  readonly stop?: (id: string, region?: string) => Promise<void>;
  readonly start?: (id: string, region?: string) => Promise<void>;

  constructor(private readonly options: CommandOptions) {
    this.regions = options.regions ?? [];
    this.hostKeys = options.hostKeys ?? "user-data";
    const { stop, start } = options;
    if (stop !== undefined) this.stop = (id, region) => this.power(stop, "stop", id, region);
    if (start !== undefined) this.start = (id, region) => this.power(start, "start", id, region);
  }

  async create(spec: MachineSpec, tag: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "offload-userdata-"));
    try {
      const userDataFile = join(dir, "user-data");
      await writeFile(userDataFile, spec.userData ?? "", { mode: 0o600 });
      const vars: Record<string, string | undefined> = {
        OFFLOAD_TAG: tag,
        OFFLOAD_NAME: spec.name ?? tag,
        OFFLOAD_FLAVOR: spec.flavor,
        OFFLOAD_IMAGE: spec.image,
        OFFLOAD_REGION: spec.region,
        OFFLOAD_NETWORK: spec.network,
        OFFLOAD_USER: spec.login?.user,
        OFFLOAD_PUBLIC_KEY: spec.login?.publicKey,
        OFFLOAD_USER_DATA_FILE: userDataFile,
      };
      const result = await this.run("create", this.options.create, vars, spec.userData);
      if (result.code !== 0) throw commandError("create", result, "request");
      const id = findId(parseJson(result.stdout), this.options.idField);
      if (id === undefined) {
        // It may have made the machine all the same: the caller looks for the tag with list().
        throw new ProviderError(
          "transient",
          `the create command printed no machine id: ${result.stdout.slice(0, 200)}`,
          {
            hint: "make it print the new machine as JSON (e.g. --format json / -o json), or set the target's `id_field:`",
          },
        );
      }
      return id;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async describe(id: string, region?: string): Promise<MachineDescription> {
    const result = await this.run("describe", this.options.describe, {
      OFFLOAD_ID: id,
      OFFLOAD_REGION: region,
    });
    if (result.code !== 0) {
      if (NOT_FOUND.test(`${result.stderr}\n${result.stdout}`)) return gone(id);
      throw commandError("describe", result, "transient");
    }
    const output = parseJson(result.stdout);
    const machine = findMachines(output)[0] ?? (Array.isArray(output) ? output[0] : output);
    if (machine === undefined || machine === null || result.stdout.trim() === "") return gone(id);
    return this.describeMachine(machine as Record<string, unknown>, id, region);
  }

  /** Without a list command offload knows machines only by the ids it heard. */
  async list(tag?: string): Promise<MachineDescription[]> {
    if (this.options.list === undefined) return [];
    const result = await this.run("list", this.options.list, { OFFLOAD_TAG: tag });
    if (result.code !== 0) throw commandError("list", result, "transient");
    return findMachines(parseJson(result.stdout))
      .map((machine) =>
        this.describeMachine(machine, findId(machine, this.options.idField) ?? "", undefined),
      )
      .filter((m) => m.tag !== undefined && (tag === undefined || m.tag === tag));
  }

  /** "Not found" is success; any other failure is retried by the caller as "not yet". */
  async terminate(id: string, region?: string): Promise<void> {
    const result = await this.run("delete", this.options.delete, {
      OFFLOAD_ID: id,
      OFFLOAD_REGION: region,
    });
    if (result.code === 0 || NOT_FOUND.test(`${result.stderr}\n${result.stdout}`)) return;
    throw commandError("delete", result, "transient");
  }

  private async power(command: string, verb: string, id: string, region?: string): Promise<void> {
    const result = await this.run(verb, command, { OFFLOAD_ID: id, OFFLOAD_REGION: region });
    if (result.code !== 0) throw commandError(verb, result, "transient");
  }

  private describeMachine(
    machine: Record<string, unknown>,
    id: string,
    region: string | undefined,
  ): MachineDescription {
    const rawState = findRawState(machine) ?? "unknown";
    const description: MachineDescription = {
      id,
      state: stateOfWord(rawState, this.options.states),
      rawState,
      addresses: findAddresses(machine),
    };
    const tag = findTag(machine);
    if (tag !== undefined) description.tag = tag;
    if (region !== undefined) description.region = region;
    return description;
  }

  private run(
    what: string,
    command: string,
    vars: Record<string, string | undefined>,
    stdin?: string,
  ) {
    const env: NodeJS.ProcessEnv = { ...(this.options.env ?? process.env) };
    for (const [key, value] of Object.entries(vars)) if (value !== undefined) env[key] = value;
    return runProcess(["sh", "-c", command], {
      env,
      ...(this.options.cwd === undefined ? {} : { cwd: this.options.cwd }),
      ...(stdin === undefined ? {} : { stdin }),
      timeoutMs: this.options.timeoutMs ?? 10 * 60_000,
    }).catch((error: unknown) => {
      throw new ProviderError(
        "config",
        `the ${what} command could not start: ${(error as Error).message}`,
      );
    });
  }
}

/** A failed command's kind from what it said: clouds' CLIs print the API's words. */
function commandError(
  what: string,
  result: { code: number; stderr: string; stdout: string },
  fallback: ProviderErrorKind,
): ProviderError {
  const said = `${result.stderr}\n${result.stdout}`.trim();
  const last = said.split("\n").filter(Boolean).slice(-3).join(" ").slice(0, 400);
  const message = `the ${what} command exited ${result.code}${last ? `: ${last}` : ""}`;
  if (/rate.?limit|too many requests|\b429\b|throttl/i.test(said))
    return new ProviderError("rate-limit", message);
  if (
    /capacity|RESOURCE_POOL_EXHAUSTED|NoValidHost|no valid host|Insufficient\w*Capacity/i.test(said)
  ) {
    return new ProviderError("capacity", message, { scope: "region" });
  }
  if (/quota|limit exceeded|LimitExceeded/i.test(said)) return new ProviderError("quota", message);
  if (
    /unauthori[sz]ed|unauthenticated|\b401\b|credentials|permission denied|forbidden/i.test(said)
  ) {
    return new ProviderError("auth", message, {
      hint: "log in with the cloud's own CLI; offload runs it with your environment",
    });
  }
  if (/timed? ?out|\b5\d\d\b|internal error|unavailable|connection (reset|refused)/i.test(said)) {
    return new ProviderError("transient", message);
  }
  return new ProviderError(fallback, message, {
    hint: `run the target's ${what} command by hand to see what it says`,
  });
}

function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    throw new ProviderError(
      "request",
      `a command printed something that is not JSON: ${trimmed.slice(0, 200)}`,
      {
        hint: "make the cloud CLI print JSON (e.g. --format json, -o json, --output json)",
      },
    );
  }
}

function gone(id: string): MachineDescription {
  return { id, state: "gone", rawState: "not found", addresses: { public: [], private: [] } };
}
