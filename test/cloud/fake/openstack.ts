// Owns the fake OpenStack cloud tests talk to over loopback: Keystone v3, Nova v2.1, and the Glance and
// Neutron lookups the openstack CLI makes, per region, with a request log and scripted faults.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CloudHosts } from "./hosts.js";
import { type FakeAppCredential, FakeKeystone, type FakeUser, unauthorized } from "./keystone.js";
import { type Answer, type FakeFaults, FakeNova } from "./nova.js";

export interface FakeOpenStackOptions {
  regions?: string[];
  users?: FakeUser[];
  appCredentials?: FakeAppCredential[];
  buildDelayMs?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** ms since the epoch when the request arrived. */
  at: number;
  status: number;
}

export const DEMO_USER: FakeUser = { username: "demo", password: "s3cret-pw", project: "demo" };
export const FLAVORS = [
  { id: "1", name: "m1.tiny" },
  { id: "7", name: "gpu.h100.1" },
];
export const IMAGES = [{ id: "70a599e0-31e7-49b7-b260-868f441e862b", name: "Ubuntu-22.04" }];
export const NETWORKS = [{ id: "3f3e1d1c-5b1a-4c6e-9f0a-2b7d9c1e4a55", name: "private" }];

export class FakeOpenStack {
  readonly hosts = new CloudHosts();
  readonly requests: LoggedRequest[] = [];
  readonly regions: string[];
  private readonly server: Server;
  readonly keystone: FakeKeystone;
  readonly nova: FakeNova;
  private port = 0;

  constructor(options: FakeOpenStackOptions = {}) {
    this.regions = options.regions ?? ["RegionOne", "RegionTwo"];
    this.keystone = new FakeKeystone(
      options.users ?? [DEMO_USER],
      options.appCredentials ?? [],
      (region, type) => this.endpointOf(region, type),
      this.regions,
    );
    this.nova = new FakeNova(
      this.hosts,
      {
        flavors: FLAVORS,
        images: IMAGES,
        networks: NETWORKS,
        buildDelayMs: options.buildDelayMs ?? 300,
      },
      (region) => this.endpointOf(region, "compute"),
    );
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  get faults(): FakeFaults {
    return this.nova.faults;
  }

  /** The auth URL a user puts in OS_AUTH_URL. */
  get authUrl(): string {
    return `http://127.0.0.1:${this.port}/identity/v3`;
  }

  async start(): Promise<this> {
    this.hosts.sweep();
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Servers the cloud still has, after pending lifecycle steps settle: the count that must reach 0. */
  async liveMachines(): Promise<number> {
    await this.nova.settle();
    return this.nova.servers.size;
  }

  /** Removes every machine it made (also when a test failed half way), then stops serving. */
  async close(): Promise<void> {
    await this.nova.settle();
    for (const server of this.nova.servers.values()) {
      if (server.slot !== undefined) this.hosts.remove(server.slot);
    }
    this.nova.servers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private endpointOf(region: string, type: string): string {
    const base = `http://127.0.0.1:${this.port}`;
    if (type === "compute") return `${base}/compute/${region}/v2.1`;
    if (type === "image") return `${base}/image/${region}`;
    return `${base}/network/${region}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = await readBody(req);
    const answer = this.route(req, url, body);
    this.requests.push({
      method: req.method ?? "GET",
      path: url.pathname,
      at: Date.now(),
      status: answer.status,
    });
    const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...(text === "" ? {} : { "content-type": "application/json" }),
      ...answer.headers,
    });
    res.end(text);
  }

  private route(req: IncomingMessage, url: URL, body: unknown): Answer {
    const method = req.method ?? "GET";
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts.join("/") === "identity/v3/auth/tokens" && method === "POST")
      return this.keystone.issue(body);
    const token = req.headers["x-auth-token"];
    if (typeof token !== "string" || !this.keystone.tokens.has(token)) return unauthorized();
    const [service, region, ...rest] = parts;
    if (region === undefined || !this.regions.includes(region))
      return { status: 404, body: { message: "no such endpoint" } };
    const path = rest.join("/");
    if (service === "image" && path === "v2/images") {
      const name = url.searchParams.get("name");
      return {
        status: 200,
        body: {
          images: IMAGES.filter((i) => name === null || i.name === name).map((i) => ({
            ...i,
            status: "active",
          })),
        },
      };
    }
    if (service === "network" && path === "v2.0/networks") {
      const name = url.searchParams.get("name");
      return {
        status: 200,
        body: { networks: NETWORKS.filter((n) => name === null || n.name === name) },
      };
    }
    if (service !== "compute" || rest[0] !== "v2.1")
      return { status: 404, body: { message: "not found" } };
    return this.routeNova(method, region, rest.slice(1), url, body, microversionOf(req));
  }

  private routeNova(
    method: string,
    region: string,
    rest: string[],
    url: URL,
    body: unknown,
    microversion: number,
  ): Answer {
    const [collection, id, sub] = rest;
    if (collection === "flavors" && id === undefined && method === "GET")
      return this.nova.flavors();
    if (collection !== "servers")
      return {
        status: 404,
        body: { itemNotFound: { code: 404, message: "The resource could not be found." } },
      };
    if (id === undefined && method === "POST") return this.nova.create(region, body, microversion);
    if (id === "detail" && method === "GET") return this.nova.list(region, url.searchParams);
    const owned = id !== undefined && this.nova.servers.get(id)?.region === region;
    if (id === undefined || !owned) {
      return {
        status: 404,
        body: { itemNotFound: { code: 404, message: `Instance ${id ?? ""} could not be found.` } },
      };
    }
    if (sub === "action" && method === "POST") return this.nova.action(id, body);
    if (sub === undefined && method === "GET") return this.nova.show(id);
    if (sub === undefined && method === "DELETE") return this.nova.delete(id);
    return { status: 405, body: { message: "method not allowed" } };
  }
}

function microversionOf(req: IncomingMessage): number {
  const header = req.headers["openstack-api-version"];
  const match = typeof header === "string" ? /compute\s+(\d+\.\d+)/.exec(header) : null;
  return match?.[1] === undefined ? 2.1 : Number(match[1]);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
