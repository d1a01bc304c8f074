// Reads OpenStack credentials exactly where the openstack CLI does: clouds.yaml (+ secure.yaml) picked by
// OS_CLOUD, with OS_* variables on top (the CLI's --os-* options default to them and win over the file).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { ProviderError } from "../errors.js";

export interface OpenStackCredentials {
  authUrl: string;
  authType: "password" | "v3applicationcredential";
  username?: string;
  userId?: string;
  password?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
  regionName?: string;
  /** Which catalog endpoint to use: public (the default), internal, admin. */
  interface: string;
  /** Where the settings came from, for messages: `clouds.yaml cloud "x"` or `OS_* variables`. */
  source: string;
}

type Fields = Record<string, string | undefined>;

/** clouds.yaml `auth:` keys and the variables that set them (first one present wins). */
const AUTH_KEYS: Record<string, readonly string[]> = {
  auth_url: ["OS_AUTH_URL"],
  username: ["OS_USERNAME"],
  user_id: ["OS_USER_ID"],
  password: ["OS_PASSWORD"],
  project_name: ["OS_PROJECT_NAME", "OS_TENANT_NAME"],
  project_id: ["OS_PROJECT_ID", "OS_TENANT_ID"],
  user_domain_name: ["OS_USER_DOMAIN_NAME"],
  user_domain_id: ["OS_USER_DOMAIN_ID"],
  project_domain_name: ["OS_PROJECT_DOMAIN_NAME"],
  project_domain_id: ["OS_PROJECT_DOMAIN_ID"],
  application_credential_id: ["OS_APPLICATION_CREDENTIAL_ID"],
  application_credential_name: ["OS_APPLICATION_CREDENTIAL_NAME"],
  application_credential_secret: ["OS_APPLICATION_CREDENTIAL_SECRET"],
};

/** The credentials the openstack CLI would use in this environment. */
export function readOpenStackCredentials(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): OpenStackCredentials {
  const cloudName = env.OS_CLOUD;
  const fromFile = cloudName === undefined ? undefined : readCloud(cloudName, env, cwd);
  const fields: Fields = { ...fromFile?.fields };
  for (const [key, names] of Object.entries(AUTH_KEYS)) {
    const value = names.map((name) => env[name]).find((v) => v !== undefined && v !== "");
    if (value !== undefined) fields[key] = value;
  }
  const regionName = env.OS_REGION_NAME || fields.region_name;
  const iface = env.OS_INTERFACE || env.OS_ENDPOINT_TYPE || fields.interface || "public";
  const source = fromFile?.source ?? "OS_* variables";
  const authUrl = fields.auth_url;
  if (authUrl === undefined) {
    throw new ProviderError("config", `no OpenStack auth URL in ${source}`, {
      hint: "set OS_CLOUD to a cloud of your clouds.yaml, or source the project's openrc (OS_AUTH_URL, OS_USERNAME…) as for the openstack CLI",
    });
  }
  const authType = readAuthType(env.OS_AUTH_TYPE || fields.auth_type, fields, source);
  // The openstack CLI's default domain (OS_DEFAULT_DOMAIN, else `default`) fills unset domains.
  const defaultDomain = env.OS_DEFAULT_DOMAIN || "default";
  const domainless = fields.user_domain_name === undefined && fields.user_domain_id === undefined;
  const projectDomainless =
    fields.project_domain_name === undefined && fields.project_domain_id === undefined;
  return compact<OpenStackCredentials>({
    authUrl,
    authType,
    username: fields.username,
    userId: fields.user_id,
    password: fields.password,
    userDomainName: fields.user_domain_name,
    userDomainId: domainless ? defaultDomain : fields.user_domain_id,
    projectName: fields.project_name,
    projectId: fields.project_id,
    projectDomainName: fields.project_domain_name,
    projectDomainId: projectDomainless ? defaultDomain : fields.project_domain_id,
    applicationCredentialId: fields.application_credential_id,
    applicationCredentialName: fields.application_credential_name,
    applicationCredentialSecret: fields.application_credential_secret,
    regionName: regionName === "" ? undefined : regionName,
    interface: iface.replace(/URL$/, ""),
    source,
  });
}

function readAuthType(
  given: string | undefined,
  fields: Fields,
  source: string,
): OpenStackCredentials["authType"] {
  const type =
    given ?? (fields.application_credential_secret ? "v3applicationcredential" : "password");
  if (type === "password" || type === "v3password") return "password";
  if (type === "v3applicationcredential" || type === "application_credential") {
    return "v3applicationcredential";
  }
  throw new ProviderError(
    "config",
    `OpenStack auth type "${type}" (from ${source}) is not supported`,
    {
      hint: "use password or v3applicationcredential authentication",
    },
  );
}

/** The search path of openstacksdk: OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack/, /etc/openstack/. */
function configFiles(
  env: NodeJS.ProcessEnv,
  cwd: string,
  base: string,
  override?: string,
): string[] {
  const home = env.HOME || homedir();
  const dirs = [
    cwd,
    join(env.XDG_CONFIG_HOME || join(home, ".config"), "openstack"),
    "/etc/openstack",
  ];
  const files = dirs.flatMap((dir) => [join(dir, `${base}.yaml`), join(dir, `${base}.yml`)]);
  return override === undefined ? files : [override, ...files];
}

function readCloud(
  name: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { fields: Fields; source: string } {
  const cloudsFile = configFiles(env, cwd, "clouds", env.OS_CLIENT_CONFIG_FILE).find(existsSync);
  const secureFile = configFiles(env, cwd, "secure", env.OS_CLIENT_SECURE_FILE).find(existsSync);
  const cloud = cloudsFile === undefined ? undefined : cloudOf(cloudsFile, name);
  if (cloud === undefined) {
    const where = cloudsFile ?? "clouds.yaml (searched ./, ~/.config/openstack/, /etc/openstack/)";
    throw new ProviderError("config", `OS_CLOUD is "${name}" but ${where} has no such cloud`, {
      hint: "set OS_CLOUD to one of the names under `clouds:` in your clouds.yaml",
    });
  }
  const secure = secureFile === undefined ? undefined : cloudOf(secureFile, name);
  return {
    fields: { ...flatten(cloud), ...flatten(secure ?? {}) },
    source: `${cloudsFile} cloud "${name}"`,
  };
}

function cloudOf(file: string, name: string): Record<string, unknown> | undefined {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ProviderError("config", `${file} is not valid YAML: ${(error as Error).message}`);
  }
  const clouds = (doc as { clouds?: Record<string, unknown> } | null)?.clouds;
  const cloud = clouds?.[name];
  return typeof cloud === "object" && cloud !== null
    ? (cloud as Record<string, unknown>)
    : undefined;
}

/** `auth:` keys beside the cloud's own (region_name, interface, auth_type), as strings. */
function flatten(cloud: Record<string, unknown>): Fields {
  const fields: Fields = {};
  const auth = (cloud.auth ?? {}) as Record<string, unknown>;
  for (const [key, value] of [...Object.entries(cloud), ...Object.entries(auth)]) {
    if (typeof value === "string" || typeof value === "number") fields[key] = String(value);
  }
  return fields;
}

/** Drops unset fields, so the result satisfies optional properties under exactOptionalPropertyTypes. */
function compact<T>(value: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
