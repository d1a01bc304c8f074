// The composition root: builds the real Transport and run store from settings and hands them down.
import type { EffectiveSettings } from "./config/settings.js";
import { openRunStore, type RunStore } from "./runs/store.js";
import type { RunSettings } from "./session/run.js";
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

/** The part of the settings a run needs, with defaults a run relies on. */
/** What a run takes beyond the settings files: values only the command line gives. */
export interface RunExtras {
  secrets?: Record<string, string>;
  rebuildEnv?: boolean;
}

export function toRunSettings(settings: EffectiveSettings, extras: RunExtras = {}): RunSettings {
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
    rebuildEnv: extras.rebuildEnv ?? false,
    gpus: settings.gpus,
    secrets: extras.secrets ?? {},
    progressPatterns: settings.progress.patterns,
    slurm: settings.slurm,
    buckets: { results: settings.results, inputs: settings.inputs, storage: settings.storage },
    retry: settings.retry,
  };
}
