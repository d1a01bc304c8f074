// Owns the HTTP side shared by the fake GCP and Lambda clouds: a loopback server, JSON and form bodies
// read once, the answer written with its status and headers, and a log of what was asked.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Answer } from "./nova.js";

export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingMessage["headers"];
  /** The body parsed as JSON, or as a form when it was form-encoded. */
  body: unknown;
}

export interface LoggedCall {
  method: string;
  path: string;
  status: number;
}

export class FakeHttp {
  readonly calls: LoggedCall[] = [];
  private readonly server: Server;
  port = 0;

  constructor(handle: (request: FakeRequest) => Answer | Promise<Answer>) {
    this.server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? "/", "http://fake");
        const request = {
          method: req.method ?? "GET",
          url,
          headers: req.headers,
          body: await readBody(req),
        };
        const answer = await handle(request);
        this.calls.push({ method: request.method, path: url.pathname, status: answer.status });
        const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
        res.writeHead(answer.status, {
          ...(text === "" ? {} : { "content-type": "application/json" }),
          ...answer.headers,
        });
        res.end(text);
      })();
    });
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  if (String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
