// The typed errors a cloud answers with: what the caller does next depends on the kind, not the text.
import { type ErrorCode, OffloadError } from "../errors.js";

/**
 * capacity: the cloud has no such machine here now (try the next zone or region);
 * quota: the account's limit (raise it or free some); auth: credentials refused;
 * rate-limit: too many requests (wait retryAfterMs); transient: a 5xx or a dropped connection
 * (back off and retry; a create may have happened anyway); request: the cloud refused what we asked.
 */
export type ProviderErrorKind =
  | "capacity"
  | "quota"
  | "auth"
  | "rate-limit"
  | "transient"
  | "request"
  | "config";

const CODES: Record<ProviderErrorKind, ErrorCode> = {
  capacity: "E_CLOUD_CAPACITY",
  quota: "E_CLOUD_QUOTA",
  auth: "E_CLOUD_AUTH",
  "rate-limit": "E_CLOUD_RATE_LIMIT",
  transient: "E_CLOUD_TRANSIENT",
  request: "E_CLOUD_REQUEST",
  config: "E_CLOUD_CONFIG",
};

const HINTS: Record<ProviderErrorKind, string> = {
  capacity: "add another region or zone to the target's `region:` list, or try a different flavor",
  quota: "free machines you no longer use (`offload machines`) or ask the cloud to raise the quota",
  auth: "check the credentials the cloud's own CLI would use (for OpenStack: OS_* variables or clouds.yaml with OS_CLOUD)",
  "rate-limit":
    "offload waits as long as the cloud asks; if this persists, run fewer offload commands at once",
  transient:
    "the cloud failed on its side; offload retried within bounds — run the command again later",
  request: "check the target's flavor, image and network names against what the cloud offers",
  config: "set the missing setting in the target or in the cloud CLI's own configuration",
};

export interface ProviderErrorDetails {
  /** rate-limit: how long the cloud asked us to wait (Retry-After). */
  retryAfterMs?: number;
  /** capacity: whether another zone of the same region may still work. */
  scope?: "zone" | "region";
  /** The HTTP status, when the error is an HTTP answer. */
  status?: number;
  hint?: string;
  cause?: unknown;
}

export class ProviderError extends OffloadError {
  readonly kind: ProviderErrorKind;
  readonly retryAfterMs: number | undefined;
  readonly scope: "zone" | "region" | undefined;
  readonly status: number | undefined;

  constructor(kind: ProviderErrorKind, message: string, details: ProviderErrorDetails = {}) {
    super(CODES[kind], message, {
      hint: details.hint ?? HINTS[kind],
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.name = "ProviderError";
    this.kind = kind;
    this.retryAfterMs = details.retryAfterMs;
    this.scope = details.scope;
    this.status = details.status;
  }
}

export function isProviderError(error: unknown, kind?: ProviderErrorKind): error is ProviderError {
  return error instanceof ProviderError && (kind === undefined || error.kind === kind);
}

/** Worth another try after a wait: rate limits and the cloud's own failures. */
export function isRetryable(error: unknown): error is ProviderError {
  return isProviderError(error, "rate-limit") || isProviderError(error, "transient");
}
