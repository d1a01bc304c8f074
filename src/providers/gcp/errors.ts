// Turns Compute Engine's error answers ({"error": {code, message, errors: [{reason}], status}}) and the
// errors of a finished zone Operation (ZONE_RESOURCE_POOL_EXHAUSTED, QUOTA_EXCEEDED…) into typed errors.
import { ProviderError, type ProviderErrorKind } from "../errors.js";
import { type HttpAnswer, parseRetryAfter } from "../http.js";

interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  errors?: { reason?: string; message?: string; domain?: string }[];
}

/** What `doing` answered, as the kind the caller acts on. */
export function gcpError(answer: HttpAnswer, doing: string): ProviderError {
  const error = (answer.json as { error?: GoogleError } | undefined)?.error;
  const reasons = (error?.errors ?? []).map((e) => e.reason ?? "");
  const text = error?.message ?? answer.text.slice(0, 300).trim();
  const status = answer.status;
  const message = `${doing}: HTTP ${status}${text === "" ? "" : `: ${text}`}`;
  const retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"));
  // A 429's text says "Quota exceeded for quota metric 'Queries'": a rate limit, not a machine quota.
  if (status === 429 || reasons.some((r) => /rateLimitExceeded/i.test(r))) {
    return new ProviderError("rate-limit", message, {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (/ZONE_RESOURCE_POOL_EXHAUSTED|resource_availability/i.test(`${text} ${reasons.join(" ")}`)) {
    return new ProviderError("capacity", message, { status, scope: "zone" });
  }
  if (reasons.some((r) => /quotaExceeded/i.test(r)) || /QUOTA_EXCEEDED/.test(text)) {
    return new ProviderError("quota", message, { status });
  }
  if (status === 401) return new ProviderError("auth", message, { status, hint: AUTH_HINT });
  if (status === 403) return new ProviderError("auth", message, { status, hint: PERMISSION_HINT });
  if (status === 409 || status >= 500) return new ProviderError("transient", message, { status });
  return new ProviderError("request", message, {
    status,
    hint: "check the target's flavor (a machine type), image, zone and project against `gcloud compute machine-types list` and `gcloud compute images list`",
  });
}

const AUTH_HINT =
  "run `gcloud auth login` or `gcloud auth application-default login`, or set GOOGLE_OAUTH_ACCESS_TOKEN";
const PERMISSION_HINT =
  "the account needs the Compute Instance Admin role in this project, and the Compute Engine API enabled";

export interface OperationError {
  code: string;
  message: string;
  kind: ProviderErrorKind;
}

/** The first error of a DONE Operation, with the kind offload acts on; undefined when it succeeded. */
export function operationError(operation: unknown): OperationError | undefined {
  const op = operation as {
    error?: { errors?: { code?: string; message?: string }[] };
    httpErrorStatusCode?: number;
  };
  const first = op?.error?.errors?.[0];
  if (first === undefined) return undefined;
  const code = first.code ?? "UNKNOWN";
  const message = `${code}: ${first.message ?? "the operation failed"}`;
  return { code, message, kind: kindOfOperationCode(code, op.httpErrorStatusCode) };
}

function kindOfOperationCode(code: string, status: number | undefined): ProviderErrorKind {
  if (code.startsWith("ZONE_RESOURCE_POOL_EXHAUSTED") || code === "RESOURCE_AVAILABILITY") {
    return "capacity";
  }
  if (code === "QUOTA_EXCEEDED") return "quota";
  if (code === "RATE_LIMIT_EXCEEDED") return "rate-limit";
  if (status !== undefined && status >= 500) return "transient";
  return "request";
}
