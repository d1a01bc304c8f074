// `offload ui`'s web server: node:http on 127.0.0.1 only, every request checked against the token,
// the page and its API over the project's run store.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isOffloadError } from "../errors.js";
import { listArtifacts, openArtifact } from "./artifacts.js";
import { hostAllowed, mayAct, mayRead, TOKEN_COOKIE } from "./auth.js";
import { compareRuns } from "./compare.js";
import { renderDashboardPage } from "./page.js";
import { createRunsView, type DashboardContext, isLive, type RunsView } from "./runs.js";
import { stopFromPage } from "./stop.js";
import { streamRun } from "./stream.js";

export interface DashboardOptions {
  context: DashboardContext;
  token: string;
  /** 0: any free port. */
  port: number;
  /** uPlot's code and style, inlined into the page: it loads nothing from the network. */
  assets: { js: string; css: string };
}

export interface Dashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  response.end(JSON.stringify(body));
}

function refuse(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  response.end(`${message}\n`);
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const view = createRunsView(options.context);
  let port = 0;
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) response.end();
      else json(response, isOffloadError(error) ? 404 : 500, { error: describe(error) });
    });
  });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", `http://127.0.0.1:${port}`);
    if (!hostAllowed(request, port)) return refuse(response, 403, "Forbidden: unknown Host.");
    if (!mayRead(request, url, options.token))
      return refuse(
        response,
        403,
        "Forbidden: open the URL `offload ui` printed (it holds the token).",
      );
    const parts = decodePath(url.pathname);
    if (parts === undefined) return refuse(response, 400, "Bad request: a malformed %-escape.");
    if (request.method === "POST") {
      if (!mayAct(request, options.token, port))
        return refuse(response, 403, "Forbidden: actions come from the dashboard page only.");
      if (parts[0] === "api" && parts[1] === "runs" && parts[3] === "stop" && parts[2])
        return stop(response, view, options.context, parts[2]);
      return refuse(response, 404, "Not found.");
    }
    if (request.method !== "GET") return refuse(response, 405, "Method not allowed.");
    if (parts[0] === "api") return api(request, response, url, parts.slice(1), view);
    if (parts[0] === "runs" && parts[1] && parts[2] === "artifacts")
      return artifact(response, view, parts[1], parts.slice(3).join("/"));
    if (parts.length === 0 || parts[0] === "runs" || parts[0] === "compare") {
      response.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        // The token lives on in a cookie only this origin sends, so a reload needs no query.
        "set-cookie": `${TOKEN_COOKIE}=${options.token}; Path=/; HttpOnly; SameSite=Strict`,
        "content-security-policy":
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'",
      });
      return void response.end(renderDashboardPage(options.token, options.assets));
    }
    return refuse(response, 404, "Not found.");
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/?token=${options.token}`,
    close: async () => {
      view.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function api(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  parts: string[],
  view: RunsView,
): Promise<void> {
  if (parts[0] === "runs" && parts.length === 1) return json(response, 200, await view.list());
  if (parts[0] === "compare") {
    const ids = (url.searchParams.get("runs") ?? "").split(",").filter(Boolean);
    const records = await Promise.all(ids.map((id) => view.record(id)));
    const summaries = await Promise.all(records.map((r) => view.summary(r)));
    return json(response, 200, compareRuns(records, summaries));
  }
  if (parts[0] !== "runs" || !parts[1]) return json(response, 404, { error: "no such API" });
  let record = await view.record(parts[1]);
  if (parts[2] === "stream") return streamRun(request, response, url, view, record);
  if (isLive(record)) {
    await view.refresh();
    record = await view.record(parts[1]);
  }
  const summary = await view.summary(record);
  return json(response, 200, {
    record,
    metrics: summary.metrics.map(({ series: _series, ...m }) => ({
      ...m,
      final: Number.isFinite(m.final) ? m.final : null,
      best: Number.isFinite(m.best) ? m.best : null,
    })),
    artifacts: await listArtifacts(view.artifactsDir(record.id)),
  });
}

async function artifact(response: ServerResponse, view: RunsView, id: string, path: string) {
  const record = await view.record(id);
  const file = await openArtifact(view.artifactsDir(record.id), path);
  if (file === undefined) return refuse(response, 404, "No such artifact.");
  response.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": String(file.bytes),
    "content-disposition": `attachment; filename="${encodeURIComponent(path.split("/").at(-1) ?? "file")}"`,
  });
  file.stream.pipe(response);
}

async function stop(
  response: ServerResponse,
  view: RunsView,
  context: DashboardContext,
  id: string,
): Promise<void> {
  const record = await view.record(id);
  if (!isLive(record)) return json(response, 409, { error: `run ${id} has already ended` });
  try {
    json(response, 200, { outcome: await stopFromPage(context, record) });
  } catch (error) {
    json(response, 502, { error: describe(error) });
  }
}

/** The path's parts, decoded; undefined for a malformed `%` escape (a 400, not a 500). */
function decodePath(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
