// JSON over plain fetch for the REST clouds: one request, its answer, and network failures as typed errors.
import { ProviderError } from "./errors.js";

export interface HttpRequest {
  method?: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as application/x-www-form-urlencoded instead (OAuth token endpoints). */
  form?: Record<string, string>;
  timeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when the body is empty or not JSON. */
  json: unknown;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Never rejects for an HTTP status; a connection that fails or times out is a transient ProviderError. */
export async function requestJson(url: string, request: HttpRequest = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: "application/json", ...request.headers };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (request.form !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
  const body =
    request.form !== undefined
      ? new URLSearchParams(request.form).toString()
      : request.body === undefined
        ? undefined
        : JSON.stringify(request.body);
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method ?? "GET",
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    throw new ProviderError(
      "transient",
      `${request.method ?? "GET"} ${redactUrl(url)} failed: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text().catch(() => "");
  return { status: response.status, headers: response.headers, json: parseJson(text), text };
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The URL without its query string, which may carry a secret on some clouds. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
