// What `offload config --json` prints: every effective value beside the place it came from.
import { formatHost } from "./host.js";
import type { ResolvedSettings } from "./resolve.js";
import type { LoadedSettings, Source } from "./settings.js";

export interface DescribedValue {
  value: unknown;
  /** `cli`, `offload.yaml:12`, `~/.config/offload/config.yaml:3`, `ssh -G` or `default`. */
  source: string;
}

export function formatSource(source: Source | undefined): string {
  if (source === undefined) return "default";
  switch (source.kind) {
    case "cli":
      return "cli";
    case "ssh":
      return "ssh -G";
    case "default":
      return "default";
    default:
      return `${source.file}:${source.line}`;
  }
}

/** Pure. Keys read as in offload.yaml; values that nothing set show as null with source `default`. */
export function describeSettings(
  resolved: LoadedSettings | ResolvedSettings,
): Record<string, unknown> {
  const { settings: s, sources } = resolved;
  const at = (key: string, value: unknown): DescribedValue => ({
    value: value ?? null,
    source: formatSource(sources[key]),
  });
  const list = (key: "upload" | "download" | "ignore" | "startup" | "shutdown") =>
    s[key].map((value, index) => at(`${key}[${index}]`, value));
  const out: Record<string, unknown> = {
    name: at("name", s.name),
    host: at("host", s.hostLabel),
    target: at("target", s.target),
    remote_dir: at("remote_dir", s.remoteDir),
  };
  const connection = "connection" in resolved ? resolved.connection : undefined;
  if (connection?.kind === "ssh") {
    out.hostname = at("hostname", connection.hostname);
    out.user = at("user", connection.user);
    out.port = at("port", connection.port);
    out.identity_files = at("identity_files", connection.identityFiles);
    out.proxy_jump = at("proxy_jump", connection.proxyJump);
  } else if (s.host.kind === "ssh") {
    // Not resolved through ssh -G: show what the host string itself says.
    out.hostname = at("host", s.host.host);
    out.user = at(s.host.user === undefined ? "user" : "host", s.host.user);
    out.port = at(s.host.port === undefined ? "port" : "host", s.host.port);
  } else {
    out.hostname = at("host", formatHost(s.host));
  }
  out.env = Object.fromEntries(
    Object.entries(s.env).map(([name, value]) => [name, at(`env.${name}`, value)]),
  );
  for (const key of ["upload", "download", "ignore", "startup", "shutdown"] as const)
    out[key] = list(key);
  out.sync = { tool: at("sync.tool", s.sync.tool) };
  // The values SshTransport uses when nothing sets them (transport/ssh-args.ts), shown rather than null.
  out.ssh = {
    config_file: at("ssh.config_file", s.ssh.configFile),
    connect_timeout: at("ssh.connect_timeout", s.ssh.connectTimeout ?? 10),
    keepalive: at("ssh.keepalive", s.ssh.keepalive ?? 5),
  };
  out.reconnect = { timeout: at("reconnect.timeout", s.reconnect.timeout) };
  out.stop = { grace: at("stop.grace", s.stop.grace) };
  out.python = {
    requirements: at("python.requirements", s.python.requirements),
    interpreter: at("python.interpreter", s.python.interpreter),
    system_site_packages: at("python.system_site_packages", s.python.systemSitePackages ?? false),
  };
  out.gpus = at("gpus", s.gpus);
  out.machine_metrics = at("machine_metrics", s.machineMetrics);
  out.forward = at("forward", s.forward);
  out.progress = {
    patterns: s.progress.patterns.map((value, index) => at(`progress.patterns[${index}]`, value)),
  };
  return out;
}
