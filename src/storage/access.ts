// Where a bucket is reached and with which keys, read as the official CLIs read them: AWS_* env vars,
// then the profile in ~/.aws/credentials and ~/.aws/config; for gs:// the HMAC keys gsutil/boto reads.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OffloadError } from "../errors.js";
import { type IniSections, parseIni } from "./ini.js";
import type { BucketUrl } from "./url.js";

export interface StorageCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Everything needed to sign a request for one bucket. */
export interface StorageAccess {
  bucket: BucketUrl;
  credentials: StorageCredentials;
  region: string;
  /** Scheme, host and port of the endpoint, e.g. `https://s3.us-east-1.amazonaws.com`. */
  origin: string;
  /** Path-style (`origin/bucket/key`) rather than virtual-hosted (`bucket.host/key`). */
  pathStyle: boolean;
}

export interface AccessOptions {
  /** `storage.endpoint`: any S3-compatible endpoint (R2, MinIO); implies path-style addressing. */
  endpoint?: string | undefined;
  /** `storage.region`; otherwise AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1. */
  region?: string | undefined;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

const GCS_ORIGIN = "https://storage.googleapis.com";

function readIni(path: string): IniSections {
  try {
    return parseIni(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw error;
  }
}

/** The profile's keys: ~/.aws/credentials `[name]` first, then ~/.aws/config `[profile name]`. */
function readProfile(env: NodeJS.ProcessEnv, home: string): Map<string, string> {
  const name = env.AWS_PROFILE ?? "default";
  const credentials = readIni(env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, ".aws", "credentials"));
  const config = readIni(env.AWS_CONFIG_FILE ?? join(home, ".aws", "config"));
  const fromConfig = config.get(name === "default" ? "default" : `profile ${name}`);
  return new Map([...(fromConfig ?? []), ...(credentials.get(name) ?? [])]);
}

function toCredentials(id: string | undefined, secret: string | undefined, token?: string) {
  if (!id || !secret) return undefined;
  const credentials: StorageCredentials = { accessKeyId: id, secretAccessKey: secret };
  if (token) credentials.sessionToken = token;
  return credentials;
}

function readAwsCredentials(env: NodeJS.ProcessEnv, profile: Map<string, string>) {
  return (
    toCredentials(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN) ??
    toCredentials(
      profile.get("aws_access_key_id"),
      profile.get("aws_secret_access_key"),
      profile.get("aws_session_token"),
    )
  );
}

/** GCS HMAC keys: GS_ACCESS_KEY_ID/GS_SECRET_ACCESS_KEY, else `[Credentials]` of ~/.boto (BOTO_CONFIG). */
function readGcsCredentials(env: NodeJS.ProcessEnv, home: string) {
  const fromEnv = toCredentials(env.GS_ACCESS_KEY_ID, env.GS_SECRET_ACCESS_KEY);
  if (fromEnv) return fromEnv;
  const boto = readIni(env.BOTO_CONFIG ?? join(home, ".boto")).get("Credentials");
  return toCredentials(boto?.get("gs_access_key_id"), boto?.get("gs_secret_access_key"));
}

function toOrigin(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new OffloadError("E_CONFIG_VALUE", `storage.endpoint ${endpoint} is not a URL.`, {
      hint: "Write it with its scheme, e.g. https://<account>.r2.cloudflarestorage.com.",
    });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new OffloadError("E_CONFIG_VALUE", `storage.endpoint ${endpoint} is not http(s).`, {
      hint: "S3-compatible endpoints are reached over https:// (or http:// on a private network).",
    });
  }
  return url.origin;
}

function missingKeys(bucket: BucketUrl): OffloadError {
  const gs = bucket.scheme === "gs";
  return new OffloadError(
    "E_STORAGE_AUTH",
    `No ${gs ? "GCS HMAC" : "AWS"} keys found for ${bucket.scheme}://${bucket.bucket}.`,
    {
      hint: gs
        ? "Set GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY (an HMAC key of a service account), or put gs_access_key_id/gs_secret_access_key under [Credentials] in ~/.boto."
        : "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials (AWS_PROFILE picks it).",
    },
  );
}

/** Resolves endpoint, region and keys for a bucket; throws E_STORAGE_AUTH when no keys are found. */
export function resolveStorageAccess(
  bucket: BucketUrl,
  options: AccessOptions = {},
): StorageAccess {
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME ?? "";
  if (bucket.scheme === "gs") {
    const credentials = readGcsCredentials(env, home);
    if (!credentials) throw missingKeys(bucket);
    const origin = options.endpoint ? toOrigin(options.endpoint) : GCS_ORIGIN;
    return { bucket, credentials, region: options.region ?? "auto", origin, pathStyle: true };
  }
  const profile = readProfile(env, home);
  const credentials = readAwsCredentials(env, profile);
  if (!credentials) throw missingKeys(bucket);
  const region =
    options.region ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    profile.get("region") ??
    "us-east-1";
  const endpoint =
    options.endpoint ??
    env.AWS_ENDPOINT_URL_S3 ??
    env.AWS_ENDPOINT_URL ??
    profile.get("endpoint_url");
  if (endpoint) return { bucket, credentials, region, origin: toOrigin(endpoint), pathStyle: true };
  // A bucket with dots breaks the TLS wildcard of virtual-hosted names: AWS says to use path-style then.
  const pathStyle = bucket.bucket.includes(".");
  const host = `s3.${region}.amazonaws.com`;
  return {
    bucket,
    credentials,
    region,
    origin: pathStyle ? `https://${host}` : `https://${bucket.bucket}.${host}`,
    pathStyle,
  };
}
