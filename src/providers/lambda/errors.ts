// Turns Lambda Cloud's error answers ({"error": {code, message, suggestion}}) into typed errors.
import { ProviderError } from "../errors.js";
import { type HttpAnswer, parseRetryAfter } from "../http.js";

export function lambdaErrorCode(answer: HttpAnswer): string {
  return (answer.json as { error?: { code?: string } } | undefined)?.error?.code ?? "";
}

export function lambdaError(answer: HttpAnswer, doing: string): ProviderError {
  const error = (
    answer.json as
      | { error?: { code?: string; message?: string; suggestion?: string | null } }
      | undefined
  )?.error;
  const code = error?.code ?? "";
  const status = answer.status;
  const text = error?.message ?? answer.text.slice(0, 300).trim();
  const message = `${doing}: HTTP ${status}${code ? ` ${code}` : ""}${text ? `: ${text}` : ""}`;
  const hint = error?.suggestion ?? undefined;
  const retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"));
  if (status === 429 || code === "global/too-many-requests") {
    return new ProviderError("rate-limit", message, {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (code.endsWith("insufficient-capacity")) {
    return new ProviderError("capacity", message, { status, scope: "region" });
  }
  if (/quota/.test(code)) return new ProviderError("quota", message, { status });
  if (
    status === 401 ||
    status === 403 ||
    code === "global/invalid-api-key" ||
    code === "global/account-inactive"
  ) {
    return new ProviderError("auth", message, {
      status,
      hint: "check LAMBDA_API_KEY (cloud.lambda.ai → API keys)",
    });
  }
  if (status === 409 || status >= 500) return new ProviderError("transient", message, { status });
  return new ProviderError("request", message, { status, ...(hint === undefined ? {} : { hint }) });
}
