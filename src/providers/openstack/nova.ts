// The OpenStack provider: Nova v2.1 servers (create, show, list by offload's metadata tag, delete,
// os-stop/os-start) through an authenticated Keystone session.
import { isProviderError, ProviderError } from "../errors.js";
import type { HttpAnswer } from "../http.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "../retry.js";
import type { MachineDescription, MachineSpec, MachineState, Provider } from "../types.js";
import type { OpenStackCredentials } from "./credentials.js";
import { openStackError } from "./errors.js";
import { resolveFlavor, resolveImage, resolveNetworks } from "./resolve.js";
import { describeServer, type NovaServer, TAG_KEY } from "./server.js";
import { OpenStackSession } from "./session.js";

/** 2.37 gives `networks: "auto"`; everything else used here is in 2.1. */
const MICROVERSION = {
  "openstack-api-version": "compute 2.37",
  "x-openstack-nova-api-version": "2.37",
};

export interface OpenStackOptions {
  credentials: OpenStackCredentials;
  /** Regions tried in order on capacity errors; default the credentials' region. */
  regions?: readonly string[];
  retry?: RetryPolicy;
}

export class OpenStackProvider implements Provider {
  readonly kind = "openstack";
  readonly regions: readonly string[];
  private readonly session: OpenStackSession;
  private readonly retry: RetryPolicy;

  constructor(options: OpenStackOptions) {
    this.session = new OpenStackSession(options.credentials);
    const fallback =
      options.credentials.regionName === undefined ? [] : [options.credentials.regionName];
    this.regions =
      options.regions !== undefined && options.regions.length > 0 ? options.regions : fallback;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** Not retried on a 5xx: the server may exist anyway; the caller looks for the tag instead. */
  async create(spec: MachineSpec, tag: string): Promise<string> {
    const region = spec.region ?? this.regions[0];
    const [flavorRef, imageRef, networks] = await Promise.all([
      this.retrying(() => resolveFlavor(this.session, region, spec.flavor)),
      this.retrying(() => resolveImage(this.session, region, spec.image)),
      this.retrying(() => resolveNetworks(this.session, region, spec.network)),
    ]);
    const server: Record<string, unknown> = {
      name: spec.name ?? tag,
      flavorRef,
      imageRef,
      networks,
      metadata: { [TAG_KEY]: tag },
    };
    if (spec.keyName !== undefined) server.key_name = spec.keyName;
    if (spec.userData !== undefined)
      server.user_data = Buffer.from(spec.userData).toString("base64");
    const answer = await withRetries(
      () =>
        this.nova(
          region,
          "/servers",
          { method: "POST", body: { server } },
          `creating a server in ${regionName(region)}`,
          [202],
        ),
      this.retry,
      (error): error is ProviderError => isProviderError(error, "rate-limit"),
    );
    const id = (answer.json as { server?: { id?: unknown } })?.server?.id;
    if (typeof id !== "string") {
      throw new ProviderError(
        "transient",
        `Nova accepted the server in ${regionName(region)} but gave no id`,
      );
    }
    return id;
  }

  async describe(id: string, region?: string): Promise<MachineDescription> {
    const regions = region === undefined ? this.regionsOrAny() : [region];
    for (const r of regions) {
      const answer = await this.retrying(() =>
        this.nova(r, `/servers/${encodeURIComponent(id)}`, {}, `reading server ${id}`, [200, 404]),
      );
      if (answer.status === 200)
        return describeServer((answer.json as { server: NovaServer }).server, r);
    }
    return { id, state: "gone", rawState: "not found", addresses: { public: [], private: [] } };
  }

  async list(tag?: string): Promise<MachineDescription[]> {
    const found: MachineDescription[] = [];
    for (const region of this.regionsOrAny()) {
      let path: string | undefined = "/servers/detail";
      while (path !== undefined) {
        const page = path;
        const answer = await this.retrying(() =>
          this.nova(region, page, {}, `listing servers in ${regionName(region)}`, [200]),
        );
        const body = answer.json as {
          servers?: NovaServer[];
          servers_links?: { rel: string; href: string }[];
        };
        for (const server of body?.servers ?? []) {
          const mine = server.metadata?.[TAG_KEY];
          if (mine !== undefined && (tag === undefined || mine === tag))
            found.push(describeServer(server, region));
        }
        path = nextPage(body?.servers_links, await this.session.endpoint("compute", region));
      }
    }
    return found;
  }

  async terminate(id: string, region?: string): Promise<void> {
    const regions = region === undefined ? this.regionsOrAny() : [region];
    for (const r of regions) {
      await this.retrying(() =>
        this.nova(
          r,
          `/servers/${encodeURIComponent(id)}`,
          { method: "DELETE" },
          `deleting server ${id}`,
          [202, 204, 404],
        ),
      );
    }
  }

  stop(id: string, region?: string): Promise<void> {
    return this.action(id, region, "os-stop", "stopped");
  }

  start(id: string, region?: string): Promise<void> {
    return this.action(id, region, "os-start", "running");
  }

  /** A 409 when the server is already where we want it counts as done: stop and start are idempotent. */
  private async action(
    id: string,
    region: string | undefined,
    action: string,
    wanted: MachineState,
  ): Promise<void> {
    try {
      await this.retrying(() =>
        this.nova(
          region ?? this.regions[0],
          `/servers/${encodeURIComponent(id)}/action`,
          { method: "POST", body: { [action]: null } },
          `${action} on server ${id}`,
          [202],
        ),
      );
    } catch (error) {
      if (
        isProviderError(error) &&
        error.status === 409 &&
        (await this.describe(id, region)).state === wanted
      )
        return;
      throw error;
    }
  }

  private regionsOrAny(): (string | undefined)[] {
    return this.regions.length > 0 ? [...this.regions] : [undefined];
  }

  private retrying<T>(call: () => Promise<T>): Promise<T> {
    return withRetries(call, this.retry);
  }

  /** A Nova call whose status must be one of `ok`; anything else becomes a typed error. */
  private async nova(
    region: string | undefined,
    path: string,
    request: { method?: "GET" | "POST" | "DELETE"; body?: unknown },
    doing: string,
    ok: readonly number[],
  ): Promise<HttpAnswer> {
    const answer = await this.session.request("compute", region, path, {
      ...request,
      headers: MICROVERSION,
    });
    if (ok.includes(answer.status)) return answer;
    throw openStackError(answer, doing);
  }
}

/** Nova's `servers_links` next href, as a path below the compute endpoint. */
function nextPage(
  links: { rel: string; href: string }[] | undefined,
  base: string,
): string | undefined {
  const next = links?.find((link) => link.rel === "next")?.href;
  if (next === undefined) return undefined;
  const url = new URL(next);
  const basePath = new URL(base).pathname.replace(/\/+$/, "");
  const path = url.pathname.startsWith(basePath)
    ? url.pathname.slice(basePath.length)
    : url.pathname;
  return `${path}${url.search}`;
}

function regionName(region: string | undefined): string {
  return region ?? "the default region";
}
