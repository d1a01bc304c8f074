// Builds the provider of a kind from the credentials its own CLI would use (the providers' composition).
import { CommandProvider } from "./command/command.js";
import { ProviderError } from "./errors.js";
import { GcpProvider } from "./gcp/compute.js";
import { readGcpSettings } from "./gcp/settings.js";
import { GcpTokens } from "./gcp/token.js";
import { LambdaProvider } from "./lambda/lambda.js";
import { readOpenStackCredentials } from "./openstack/credentials.js";
import { OpenStackProvider } from "./openstack/nova.js";
import type { MachineState, Provider } from "./types.js";

/** A target's settings for its cloud beside `region:` (each provider reads its own). */
export interface CloudOptions {
  /** gcp: the project (default gcloud's core/project). */
  project?: string | undefined;
  /** gcp: boot disk size in GB. */
  disk_gb?: number | undefined;
  /** lambda: the API's base URL (default LAMBDA_API_BASE_URL, else https://cloud.lambda.ai/api/v1). */
  base_url?: string | undefined;
  /** command: the cloud CLI's commands (sh), printing JSON. */
  create?: string | undefined;
  describe?: string | undefined;
  delete?: string | undefined;
  list?: string | undefined;
  stop?: string | undefined;
  start?: string | undefined;
  /** command: a dotted path to the id in create's output. */
  id_field?: string | undefined;
  /** command: the cloud's state words offload would misread (`TERMINATED: stopped`). */
  states?: Record<string, MachineState> | undefined;
  /** command: `first-use` when the cloud's CLI cannot pass user data. */
  host_keys?: "user-data" | "first-use" | undefined;
}

export interface ProviderSettings {
  kind: string;
  /** Regions (GCP: zones) to try in order; default the credentials' own. */
  regions?: readonly string[];
  options?: CloudOptions;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export const PROVIDER_KINDS = ["openstack", "gcp", "lambda", "command"] as const;

export function openProvider(settings: ProviderSettings): Provider {
  const env = settings.env ?? process.env;
  const regions = settings.regions === undefined ? {} : { regions: settings.regions };
  if (settings.kind === "openstack") {
    return new OpenStackProvider({
      credentials: readOpenStackCredentials(env, settings.cwd ?? process.cwd()),
      ...regions,
    });
  }
  if (settings.kind === "gcp") {
    const options = settings.options ?? {};
    const gcp = readGcpSettings(env, {
      ...(options.project === undefined ? {} : { project: options.project }),
      ...(settings.regions === undefined ? {} : { zones: settings.regions }),
    });
    return new GcpProvider({
      settings: gcp,
      tokens: new GcpTokens(env, gcp.configDir),
      ...(options.disk_gb === undefined ? {} : { diskGb: options.disk_gb }),
    });
  }
  if (settings.kind === "lambda") {
    const apiKey = env.LAMBDA_API_KEY;
    if (!apiKey) {
      throw new ProviderError("config", "LAMBDA_API_KEY is not set", {
        hint: "create an API key at cloud.lambda.ai (API keys) and export LAMBDA_API_KEY",
      });
    }
    const baseUrl = settings.options?.base_url ?? env.LAMBDA_API_BASE_URL;
    return new LambdaProvider({ apiKey, ...regions, ...(baseUrl ? { baseUrl } : {}) });
  }
  if (settings.kind === "command") return openCommand(settings, env);
  throw new ProviderError("config", `offload has no "${settings.kind}" cloud provider yet`, {
    hint: `available: ${PROVIDER_KINDS.join(", ")}`,
  });
}

function openCommand(settings: ProviderSettings, env: NodeJS.ProcessEnv): CommandProvider {
  const o = settings.options ?? {};
  if (o.create === undefined || o.describe === undefined || o.delete === undefined) {
    throw new ProviderError(
      "config",
      "a `cloud: command` target needs create, describe and delete commands",
      {
        hint: "give the cloud CLI's commands that print JSON; they see $OFFLOAD_TAG, $OFFLOAD_ID, $OFFLOAD_REGION, $OFFLOAD_USER_DATA_FILE…",
      },
    );
  }
  const optional = {
    list: o.list,
    stop: o.stop,
    start: o.start,
    idField: o.id_field,
    states: o.states,
    hostKeys: o.host_keys,
    regions: settings.regions,
    cwd: settings.cwd,
  };
  return new CommandProvider({
    create: o.create,
    describe: o.describe,
    delete: o.delete,
    env,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  });
}
