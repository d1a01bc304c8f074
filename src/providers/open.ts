// Builds the provider of a kind from the credentials its own CLI would use (the providers' composition).
import { ProviderError } from "./errors.js";
import { readOpenStackCredentials } from "./openstack/credentials.js";
import { OpenStackProvider } from "./openstack/nova.js";
import type { Provider } from "./types.js";

export interface ProviderSettings {
  kind: string;
  /** Regions to try in order; default the credentials' own. */
  regions?: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export const PROVIDER_KINDS = ["openstack"] as const;

export function openProvider(settings: ProviderSettings): Provider {
  if (settings.kind === "openstack") {
    return new OpenStackProvider({
      credentials: readOpenStackCredentials(
        settings.env ?? process.env,
        settings.cwd ?? process.cwd(),
      ),
      ...(settings.regions === undefined ? {} : { regions: settings.regions }),
    });
  }
  throw new ProviderError("config", `offload has no "${settings.kind}" cloud provider yet`, {
    hint: `available: ${PROVIDER_KINDS.join(", ")}`,
  });
}
