// The composition root: builds the RunContext (transport, backend, host source, run store) from the
// effective settings and hands it down whole.
import { SlurmBackend } from "./backends/slurm/backend.js";
import type { Backend } from "./backends/types.js";
import type { EffectiveSettings } from "./config/settings.js";
import {
  type Clock,
  existingHost,
  type HostSource,
  type RunContext,
  type RunControls,
  type RunSettings,
  type RunTarget,
  systemClock,
} from "./context.js";
import { type Reporter, silentReporter } from "./events.js";
import { openRunStore, type RunStore } from "./runs/store.js";
import { RunProtocolBackend } from "./session/protocol-backend.js";
import { LocalTransport } from "./transport/local.js";
import { SshTransport } from "./transport/ssh.js";
import type { Transport } from "./transport/types.js";

export function createTransport(settings: EffectiveSettings): Transport {
  const { host } = settings;
  if (host.kind === "local") return new LocalTransport();
  return new SshTransport({
    label: settings.hostLabel,
    host: host.host,
    user: host.user,
    port: host.port,
    configFile: settings.ssh.configFile,
    connectTimeoutSeconds: settings.ssh.connectTimeout,
    keepaliveSeconds: settings.ssh.keepalive,
  });
}

export function createStore(projectDir: string): RunStore {
  return openRunStore(projectDir);
}

/** The part of the settings a run relies on, with the defaults a run needs. */
export function toRunSettings(settings: EffectiveSettings): RunSettings {
  return {
    remoteDir: settings.remoteDir,
    // Python buffers stdout when it is not a terminal; a live log needs it unbuffered. The user may override.
    env: { PYTHONUNBUFFERED: "1", ...settings.env },
    startup: settings.startup,
    shutdown: settings.shutdown,
    ignore: settings.ignore,
    upload: settings.upload,
    download: settings.download,
    syncTool: settings.sync.tool,
    reconnectTimeoutSeconds: settings.reconnect.timeout,
    graceSeconds: settings.stop.grace,
    python: settings.python,
    gpus: settings.gpus,
    sampleSeconds: settings.machineMetrics,
    progressPatterns: settings.progress.patterns,
    slurm: settings.slurm,
    buckets: { results: settings.results, inputs: settings.inputs, storage: settings.storage },
    retry: settings.retry,
  };
}

/** How the run record names the host the settings point at. */
export function toRunTarget(settings: EffectiveSettings): RunTarget {
  const { host } = settings;
  if (host.kind === "local") return { label: settings.hostLabel, kind: "local" };
  return {
    label: settings.hostLabel,
    ...(settings.target !== undefined && settings.target !== settings.hostLabel
      ? { name: settings.target }
      : {}),
    kind: "ssh",
    host: host.host,
    ...(host.user ? { user: host.user } : {}),
    ...(host.port ? { port: host.port } : {}),
    ...(settings.ssh.configFile ? { sshConfig: settings.ssh.configFile } : {}),
  };
}

/** How jobs run on a target: submitted to Slurm where it has `slurm:`, else the run protocol. */
export function createBackend(transport: Transport, settings: RunSettings): Backend {
  const { reconnectTimeoutSeconds } = settings;
  if (settings.slurm) {
    return new SlurmBackend(transport, { slurm: settings.slurm, reconnectTimeoutSeconds });
  }
  return new RunProtocolBackend(transport, { reconnectTimeoutSeconds });
}

/** The backend of the target the settings name, on a transport of its own (`ps`). */
export function createBackendFor(settings: EffectiveSettings): Backend {
  return createBackend(createTransport(settings), toRunSettings(settings));
}

export interface ContextOptions {
  projectDir: string;
  settings: EffectiveSettings;
  report?: Reporter;
  controls?: RunControls;
  /** Shares a transport already made for these settings (one ssh master per target). */
  transport?: Transport;
  store?: RunStore;
  clock?: Clock;
}

/** Everything a session needs, built once per command from the effective settings. */
export function createRunContext(options: ContextOptions): RunContext {
  const settings = toRunSettings(options.settings);
  const transport = options.transport ?? createTransport(options.settings);
  return {
    projectDir: options.projectDir,
    settings,
    target: toRunTarget(options.settings),
    transport,
    backend: createBackend(transport, settings),
    hosts: hostSourceFor(options),
    store: options.store ?? createStore(options.projectDir),
    clock: options.clock ?? systemClock,
    report: options.report ?? silentReporter,
    controls: options.controls ?? {},
  };
}

/**
 * Where a run gets its host: the one the settings name, or (a `cloud:` target) a machine made for the
 * run, whose context is these settings pointed at the machine. The providers load only for such a target.
 */
function hostSourceFor(options: ContextOptions): HostSource {
  const { cloud, ...plain } = options.settings;
  if (cloud === undefined) return existingHost;
  return {
    acquire: async (context, needs) => {
      const { cloudMachine } = await import("./providers/host-source.js");
      const source = cloudMachine({
        targetName: plain.hostLabel,
        target: cloud,
        contextOn: (machine, base) => {
          const onMachine = createRunContext({
            projectDir: base.projectDir,
            settings: {
              ...plain,
              host: { kind: "ssh", host: machine.alias, user: machine.user },
              ssh: { ...plain.ssh, configFile: machine.sshConfigFile },
            },
            report: base.report,
            controls: base.controls,
            store: base.store,
            clock: base.clock,
          });
          return { ...onMachine, target: { ...onMachine.target, machine: machine.alias } };
        },
      });
      return source.acquire(context, needs);
    },
  };
}
