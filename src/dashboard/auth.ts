// Who may talk to the dashboard: a request must carry the token the URL was printed with (as Jupyter's),
// name this server as its Host (a DNS-rebinding page names its own), and an action must come from the
// page itself: POST, the token in a header a cross-site form cannot set, and a same-origin Origin.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const TOKEN_COOKIE = "offload-token";

export function createToken(): string {
  return randomBytes(24).toString("base64url");
}

function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

export function hostAllowed(request: IncomingMessage, port: number): boolean {
  const host = request.headers.host;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** Reading: the token in the query, the cookie the page got, or the header. */
export function mayRead(request: IncomingMessage, url: URL, token: string): boolean {
  return (
    sameToken(url.searchParams.get("token"), token) ||
    sameToken(readCookie(request, TOKEN_COOKIE), token) ||
    sameToken(header(request, "x-offload-token"), token)
  );
}

/** Acting (Stop): only the header counts; a cookie rides along on a forged cross-site request. */
export function mayAct(request: IncomingMessage, token: string, port: number): boolean {
  if (request.method !== "POST") return false;
  if (!sameToken(header(request, "x-offload-token"), token)) return false;
  const origin = header(request, "origin");
  if (
    origin !== undefined &&
    origin !== `http://127.0.0.1:${port}` &&
    origin !== `http://localhost:${port}`
  )
    return false;
  const site = header(request, "sec-fetch-site");
  return site === undefined || site === "same-origin";
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
