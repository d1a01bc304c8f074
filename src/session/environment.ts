// The environment phase of a run: the cached Python env (built once per requirements hash and reused,
// its build output streamed like the log) and the GPU pick.
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { msSince, type PythonSettings, systemClock } from "../context.js";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { type GpuInfo, type HostFacts, planGpus } from "../host/index.js";
import {
  buildActivateLines,
  buildEnvScript,
  checkRequirementPath,
  explainEnvFailure,
  hashEnvInputs,
  parseEnvResult,
} from "../pyenv/index.js";
import type { Transport } from "../transport/types.js";
import { collectEnvInputs } from "./env-inputs.js";

export interface EnvironmentRequest {
  transport: Transport;
  projectDir: string;
  remoteDir: string;
  python: PythonSettings;
  rebuild: boolean;
  report: Reporter;
}

export interface PreparedEnvironment {
  /** Launcher lines that put the env first on PATH; empty without `python.requirements`. */
  activate: string[];
  envDir?: string;
  status?: "reused" | "built";
  ms: number;
}

/** Keeps the last bytes of a stream: enough for pip's error, never the whole build log in memory. */
function keepTail(limit: number) {
  let tail = "";
  return {
    push(chunk: Buffer) {
      tail = (tail + chunk.toString("utf8")).slice(-limit);
    },
    get text() {
      return tail;
    },
  };
}

/**
 * Refuses a `python.requirements` that is not a file in the project before anything connects: found
 * only after the sync, a typo cost a whole round trip and an upload.
 */
export function checkRequirementsFile(projectDir: string, python: PythonSettings): void {
  if (python.requirements === undefined) return;
  checkRequirementPath(python.requirements);
  const path = join(projectDir, python.requirements);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // missing: said below
  }
  if (isFile) return;
  throw new OffloadError(
    "E_CONFIG_VALUE",
    `python.requirements: ${python.requirements} is not a file in the project (${path}).`,
    {
      hint: "Create it, or set `python.requirements` in offload.yaml to the requirements file's path relative to the project root.",
    },
  );
}

export async function prepareEnvironment(
  request: EnvironmentRequest,
): Promise<PreparedEnvironment> {
  const { transport, python, report } = request;
  const started = performance.now();
  if (python.requirements === undefined) return { activate: [], ms: 0 };
  checkRequirementPath(python.requirements);
  const content = await readFile(join(request.projectDir, python.requirements)).catch(
    (cause: unknown) => {
      throw new OffloadError(
        "E_CONFIG_VALUE",
        `python.requirements: cannot read ${python.requirements} in the project.`,
        {
          hint: "Give a path relative to the project root, e.g. `requirements.txt`.",
          cause,
        },
      );
    },
  );
  const interpreter = python.interpreter ?? "python3";
  const systemSitePackages = python.systemSitePackages ?? false;
  const key = hashEnvInputs(
    collectEnvInputs(request.projectDir, python.requirements, content),
    interpreter,
    systemSitePackages,
  );
  report({ type: "env", phase: "checking", key });
  const tail = keepTail(16_384);
  const script = buildEnvScript({
    remoteDir: request.remoteDir,
    key,
    interpreter,
    requirements: [python.requirements],
    systemSitePackages,
    rebuild: request.rebuild,
  });
  const result = await transport.exec(script, {
    onStdout: (chunk) => {
      tail.push(chunk);
      report({ type: "env-output", data: chunk });
    },
  });
  if (result.connectionFailed) throw transport.explain(result);
  const parsed = parseEnvResult(result.stderr, tail.text);
  if (parsed === undefined) {
    throw new OffloadError(
      "E_ENV",
      `Building the Python environment on ${transport.label} stopped without an outcome.`,
      {
        hint: "The connection may have dropped mid-build; run again: the next run takes over and rebuilds.",
      },
    );
  }
  if (parsed.status === "failed") throw explainEnvFailure(parsed, transport.label);
  const ms = msSince(systemClock, started);
  report({ type: "env", phase: parsed.status, key, dir: parsed.dir, ms });
  return {
    activate: buildActivateLines(parsed.binDir),
    envDir: parsed.dir,
    status: parsed.status,
    ms,
  };
}

/** The GPU part: which GPUs the job sees, decided before anything starts. */
export function chooseGpus(
  requested: number | undefined,
  facts: HostFacts | undefined,
  label: string,
): { env: Record<string, string>; gpus: GpuInfo[] } {
  if (requested === undefined) return { env: {}, gpus: facts?.gpus ?? [] };
  if (facts === undefined) {
    throw new OffloadError(
      "E_GPU",
      `The run asks for ${requested} GPU(s) but probing ${label} failed.`,
      { hint: "Run `offload check --host <host>` to see what the host reports." },
    );
  }
  return planGpus(requested, facts);
}
