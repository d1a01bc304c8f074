// Turns the CLI's flags into a settings layer and loads the effective settings for a command.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { replacePort } from "../config/host.js";
import { loadSettings } from "../config/load.js";
import type { SettingsFile } from "../config/schema.js";
import type { LoadedSettings } from "../config/settings.js";
import { OffloadError } from "../errors.js";
import { findProjectDir } from "../project.js";
import type { RunRecord } from "../runs/record.js";
import { openRunStore } from "../runs/store.js";

export interface TargetFlags {
  host?: string;
  port?: string;
  remoteDir?: string;
  env?: string[];
  upload?: string[];
  download?: string[];
  sshConfig?: string;
  gpus?: string;
  json?: boolean;
  quiet?: boolean;
  results?: string;
  retries?: string;
}

export function toCliLayer(flags: TargetFlags): SettingsFile {
  const layer: SettingsFile = {};
  if (flags.host !== undefined) {
    let host = flags.host;
    if (flags.port !== undefined) {
      if (!/^[0-9]+$/.test(flags.port))
        throw new OffloadError("E_USAGE", `--port ${flags.port} is not a port number.`, {
          hint: "Give a number from 1 to 65535.",
        });
      host = replacePort(host, flags.port);
    }
    layer.host = host;
  }
  if (flags.remoteDir !== undefined) layer.remote_dir = flags.remoteDir;
  if (flags.env) {
    for (const pair of flags.env)
      if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(pair))
        throw new OffloadError("E_USAGE", `-e ${pair} is not KEY=VALUE.`, {
          hint: "Give a variable name, =, and its value, e.g. -e SEED=1.",
        });
    layer.env = flags.env;
  }
  if (flags.upload) layer.upload = flags.upload;
  if (flags.download) layer.download = flags.download;
  if (flags.sshConfig) layer.ssh = { config_file: flags.sshConfig };
  if (flags.results !== undefined) layer.results = flags.results;
  if (flags.retries !== undefined) {
    if (!/^[0-9]+$/.test(flags.retries) || Number(flags.retries) > 99)
      throw new OffloadError("E_USAGE", `--retries ${flags.retries} is not a number of retries.`, {
        hint: "Give a whole number from 0 to 99, e.g. --retries 2.",
      });
    layer.retry = { attempts: Number(flags.retries) + 1 };
  }
  if (flags.gpus !== undefined) {
    if (!/^[0-9]+$/.test(flags.gpus))
      throw new OffloadError("E_USAGE", `--gpus ${flags.gpus} is not a number of GPUs.`, {
        hint: "Give a whole number, e.g. --gpus 2.",
      });
    layer.gpus = Number(flags.gpus);
  }
  return layer;
}

/** Settings for a run that exists (its own target unless --host says otherwise), and its full id. */
export async function loadForRun(run: string | undefined, flags: TargetFlags) {
  const projectDir = findProjectDir(process.cwd());
  const store = openRunStore(projectDir);
  const runId = await store.resolveId(run);
  const record = await store.load(runId);
  const loaded = await load(flagsForRecord(record, flags));
  return { projectDir, settings: loaded.settings, runId };
}

/**
 * The flags that reach a recorded run's host: its target (by the name it was chosen by), and the ssh config file it was started with
 * unless a flag names another. A `cloud:` run is reached on its machine, by the config its ledger keeps.
 */
export function flagsForRecord(record: RunRecord, flags: TargetFlags): TargetFlags {
  const { sshConfig, machine } = record.target;
  if (machine !== undefined && sshConfig !== undefined && flags.host === undefined) {
    return { ...flags, ...reachMachine(record.id, machine, sshConfig, flags) };
  }
  const recorded = flags.sshConfig === undefined && sshConfig !== undefined && !record.machine;
  return {
    ...flags,
    host: flags.host ?? record.target.name ?? record.target.label,
    ...(recorded ? { sshConfig } : {}),
  };
}

/**
 * A `cloud:` run's machine, by the ssh config its ledger entry keeps (alias and pinned host key). Its
 * target named again would only name a machine to make. Once offload deleted the machine, the ledger
 * holds no config for it: said as such, not as ssh failing to resolve the target's name.
 */
function reachMachine(
  runId: string,
  machine: string,
  sshConfig: string,
  flags: TargetFlags,
): TargetFlags {
  const config = flags.sshConfig ?? sshConfig;
  if (flags.sshConfig === undefined && !existsSync(sshConfig))
    throw new OffloadError(
      "E_HOST_UNREACHABLE",
      `Run ${runId} ran on the cloud machine ${machine}, which offload no longer has (deleted, or its ledger entry removed).`,
      {
        hint:
          "`offload machines` lists the machines offload has; what the run brought home is in .offload/runs/" +
          `${runId}/.`,
      },
    );
  return { host: machine, sshConfig: config };
}

/**
 * A run needs a host someone chose: with none from a flag, offload.yaml or the user's settings it would
 * silently run on this machine, which nobody asked for. `--host local` says so explicitly.
 */
export function requireHost(sources: LoadedSettings["sources"]): void {
  if (sources.host?.kind !== "default") return;
  throw new OffloadError(
    "E_NO_HOST",
    "No host to run on: none given by --host, offload.yaml or your user settings.",
    {
      hint: "Pass `--host <host>` (an ssh host, alias or target), set `host:` in offload.yaml, or use `--host local` to run on this machine.",
    },
  );
}

export async function load(flags: TargetFlags) {
  const projectDir = findProjectDir(process.cwd());
  const loaded = await loadSettings({
    projectDir,
    cli: toCliLayer(flags),
    env: process.env,
    homeDir: homedir(),
  });
  for (const warning of loaded.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
  return { projectDir, ...loaded };
}
