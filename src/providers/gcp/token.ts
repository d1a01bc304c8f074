// An OAuth access token for Compute Engine, found where Google's own tools find one:
// GOOGLE_OAUTH_ACCESS_TOKEN (as Terraform's Google provider reads it), CLOUDSDK_AUTH_ACCESS_TOKEN_FILE,
// `gcloud auth print-access-token`, then Application Default Credentials (a service-account key, signed
// here, or an authorized_user refresh token from `gcloud auth application-default login`).
import { createSign } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "../../transport/process.js";
import { ProviderError } from "../errors.js";
import { requestJson } from "../http.js";

const SCOPE = "https://www.googleapis.com/auth/cloud-platform";
const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";
/** Renew this long before expiry: a long poll must not start with a dying token. */
const MARGIN_MS = 5 * 60_000;
/** gcloud may hand out a cached token near its end; ask it again after this long. */
const GCLOUD_REUSE_MS = 5 * 60_000;

interface Token {
  value: string;
  /** ms since the epoch after which it is asked for again. */
  renewAt: number;
}

export class GcpTokens {
  private current: Promise<Token> | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly configDir: string,
  ) {}

  /** A token valid now (cached until near its expiry). */
  async token(): Promise<string> {
    const cached =
      this.current === undefined ? undefined : await this.current.catch(() => undefined);
    if (cached !== undefined && cached.renewAt > Date.now()) return cached.value;
    const next = this.fetchToken();
    this.current = next;
    next.catch(() => {
      if (this.current === next) this.current = undefined;
    });
    return (await next).value;
  }

  /** The cloud refused the token (revoked, expired early): the next call asks again. */
  invalidate(): void {
    this.current = undefined;
  }

  private async fetchToken(): Promise<Token> {
    const fromEnv = this.env.GOOGLE_OAUTH_ACCESS_TOKEN;
    if (fromEnv) return { value: fromEnv.trim(), renewAt: Number.POSITIVE_INFINITY };
    const file = this.env.CLOUDSDK_AUTH_ACCESS_TOKEN_FILE;
    if (file)
      return { value: readFileSync(file, "utf8").trim(), renewAt: Date.now() + GCLOUD_REUSE_MS };
    const gcloud = await tokenFromGcloud(this.env);
    if (gcloud.token !== undefined) {
      return { value: gcloud.token, renewAt: Date.now() + GCLOUD_REUSE_MS };
    }
    const adc =
      this.env.GOOGLE_APPLICATION_CREDENTIALS ||
      join(this.configDir, "application_default_credentials.json");
    if (existsSync(adc)) return tokenFromAdc(adc);
    throw new ProviderError("auth", `no Google Cloud credentials found (${gcloud.why})`, {
      hint: "run `gcloud auth login` (or `gcloud auth application-default login`), set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or set GOOGLE_OAUTH_ACCESS_TOKEN",
    });
  }
}

async function tokenFromGcloud(env: NodeJS.ProcessEnv): Promise<{ token?: string; why: string }> {
  try {
    const result = await runProcess(["gcloud", "auth", "print-access-token"], {
      env,
      timeoutMs: 60_000,
    });
    const token = result.stdout.trim();
    if (result.code === 0 && token !== "") return { token, why: "" };
    const last = result.stderr.trim().split("\n").at(-1) ?? "";
    return {
      why: `gcloud auth print-access-token exited ${result.code}${last ? `: ${last}` : ""}`,
    };
  } catch {
    return { why: "gcloud is not installed and no Application Default Credentials exist" };
  }
}

interface AdcFile {
  type?: string;
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  token_uri?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
}

/** Exchanges the ADC file's credential for an access token at its token endpoint. */
async function tokenFromAdc(path: string): Promise<Token> {
  let adc: AdcFile;
  try {
    adc = JSON.parse(readFileSync(path, "utf8")) as AdcFile;
  } catch (error) {
    throw new ProviderError(
      "config",
      `${path} is not a readable credentials file: ${(error as Error).message}`,
    );
  }
  let form: Record<string, string>;
  if (adc.type === "service_account" && adc.client_email && adc.private_key) {
    form = {
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion: signJwt(adc, adc.token_uri ?? GOOGLE_TOKEN_URI),
    };
  } else if (adc.type === "authorized_user" && adc.refresh_token) {
    form = {
      grant_type: "refresh_token",
      refresh_token: adc.refresh_token,
      client_id: adc.client_id ?? "",
      client_secret: adc.client_secret ?? "",
    };
  } else {
    throw new ProviderError(
      "config",
      `${path} holds credentials of type "${adc.type}", which offload cannot use`,
      {
        hint: "use a service-account key file or `gcloud auth application-default login`",
      },
    );
  }
  const uri = adc.token_uri ?? GOOGLE_TOKEN_URI;
  const answer = await requestJson(uri, { method: "POST", form });
  const body = answer.json as {
    access_token?: string;
    expires_in?: number;
    error?: string;
    error_description?: string;
  };
  if (answer.status !== 200 || typeof body?.access_token !== "string") {
    const why = body?.error_description ?? body?.error ?? answer.text.slice(0, 200);
    throw new ProviderError(
      answer.status >= 500 ? "transient" : "auth",
      `the token endpoint refused the credentials in ${path} (HTTP ${answer.status}: ${why})`,
      { status: answer.status },
    );
  }
  const lifetimeMs = (body.expires_in ?? 3600) * 1000;
  return { value: body.access_token, renewAt: Date.now() + Math.max(0, lifetimeMs - MARGIN_MS) };
}

/**
 * The RS256 JWT a service account presents (RFC 7523). Signed with node:crypto because it is a dozen
 * lines, and a Google auth library would be a cloud SDK dependency offload promises not to need.
 */
export function signJwt(adc: AdcFile, audience: string, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const header = {
    alg: "RS256",
    typ: "JWT",
    ...(adc.private_key_id ? { kid: adc.private_key_id } : {}),
  };
  const claims = { iss: adc.client_email, scope: SCOPE, aud: audience, iat, exp: iat + 3600 };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign("RSA-SHA256")
    .update(unsigned)
    .sign(adc.private_key ?? "");
  return `${unsigned}.${signature.toString("base64url")}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}
