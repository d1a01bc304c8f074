// Turns an OpenStack error answer ({"itemNotFound": {"code", "message"}}…) into a typed ProviderError.
import { ProviderError } from "../errors.js";
import { type HttpAnswer, parseRetryAfter } from "../http.js";

/** The `message` of OpenStack's one-key error body, or the body text. */
export function messageOf(answer: HttpAnswer): string {
  const body = answer.json;
  if (typeof body === "object" && body !== null) {
    for (const value of Object.values(body as Record<string, unknown>)) {
      const message = (value as { message?: unknown } | null)?.message;
      if (typeof message === "string") return message;
    }
  }
  return answer.text.slice(0, 300).trim();
}

/** What `doing` (e.g. "creating the server in RegionOne") answered, as the kind the caller acts on. */
export function openStackError(answer: HttpAnswer, doing: string): ProviderError {
  const status = answer.status;
  const text = messageOf(answer);
  const message = `${doing}: HTTP ${status}${text === "" ? "" : `: ${text}`}`;
  const retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"));
  const isQuota = /quota/i.test(text);
  if ((status === 413 || status === 403) && isQuota && retryAfterMs === undefined) {
    return new ProviderError("quota", message, { status });
  }
  if (status === 429 || status === 413) {
    return new ProviderError("rate-limit", message, {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status === 401 || status === 403) return new ProviderError("auth", message, { status });
  if (isCapacityText(text))
    return new ProviderError("capacity", message, { status, scope: "region" });
  // 409: "not yet" (a task in progress); 5xx: the cloud's own failure. Both are worth another try.
  if (status === 409 || status >= 500) return new ProviderError("transient", message, { status });
  return new ProviderError("request", message, { status });
}

/** Nova's scheduler words for "no room": NoValidHost, "not enough hosts available". */
export function isCapacityText(text: string): boolean {
  return /no valid host|novalidhost|not enough hosts|insufficient capacity|capacity/i.test(text);
}
