// The GCP provider: Compute Engine v1 instances (insert, get, aggregated list by offload's label, delete,
// stop, start) over fetch; an insert's zone Operation says why a machine never appeared.
import { randomUUID } from "node:crypto";
import { isProviderError, ProviderError } from "../errors.js";
import { type HttpAnswer, type HttpRequest, requestJson } from "../http.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "../retry.js";
import type { MachineDescription, MachineSpec, Provider } from "../types.js";
import { gcpError, operationError } from "./errors.js";
import {
  describeInstance,
  type GcpInstance,
  gone,
  instanceBody,
  isNotFound,
  TAG_LABEL,
} from "./instance.js";
import type { GcpSettings } from "./settings.js";
import type { GcpTokens } from "./token.js";

export interface GcpOptions {
  settings: GcpSettings;
  tokens: GcpTokens;
  retry?: RetryPolicy;
  /** Boot disk size in GB (default: the image's). */
  diskGb?: number;
}

interface Insert {
  zone: string;
  operation: string;
}

export class GcpProvider implements Provider {
  readonly kind = "gcp";
  readonly regions: readonly string[];
  private readonly retry: RetryPolicy;
  /** Inserts this process made: an instance that vanished is explained by its Operation's error. */
  private readonly inserts = new Map<string, Insert>();

  constructor(private readonly options: GcpOptions) {
    this.regions = options.settings.zones;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** Not retried on a 5xx (the instance may exist anyway: the caller looks for the label instead). */
  async create(spec: MachineSpec, tag: string): Promise<string> {
    const zone = spec.region ?? this.regions[0];
    if (zone === undefined) {
      throw new ProviderError("config", "no Compute Engine zone is set", {
        hint: "set the target's `region:` to zones (e.g. [europe-west1-b]), or run `gcloud config set compute/zone ZONE`",
      });
    }
    // The tag is the name: unique per zone and a valid instance name, which a target's name may not be.
    const name = tag;
    const requestId = randomUUID();
    const answer = await withRetries(
      () =>
        this.compute(
          `/zones/${zone}/instances?requestId=${requestId}`,
          { method: "POST", body: instanceBody(spec, { zone, name, tag, ...this.bodyOptions() }) },
          `creating instance ${name} in ${zone}`,
          [200],
        ),
      this.retry,
      (error): error is ProviderError => isProviderError(error, "rate-limit"),
    );
    const operation = answer.json as { name?: string; status?: string };
    const failed = operationError(answer.json);
    if (failed !== undefined) {
      throw new ProviderError(
        failed.kind,
        `creating instance ${name} in ${zone}: ${failed.message}`,
        {
          ...(failed.kind === "capacity" ? { scope: "zone" as const } : {}),
        },
      );
    }
    if (typeof operation?.name === "string")
      this.inserts.set(name, { zone, operation: operation.name });
    return name;
  }

  async describe(id: string, region?: string): Promise<MachineDescription> {
    const zones = region !== undefined ? [region] : this.regions.length > 0 ? this.regions : [];
    if (zones.length === 0) {
      return (await this.list()).find((m) => m.id === id) ?? gone(id);
    }
    for (const zone of zones) {
      const answer = await this.retrying(() =>
        this.compute(`/zones/${zone}/instances/${id}`, {}, `reading instance ${id}`, [200, 404]),
      );
      if (answer.status === 200) return describeInstance(answer.json as GcpInstance);
      // Only Compute's own "not found" means gone: a 404 from a wrong endpoint must not end a teardown.
      if (!isNotFound(answer)) throw gcpError(answer, `reading instance ${id}`);
    }
    return this.explainMissing(id);
  }

  async list(tag?: string): Promise<MachineDescription[]> {
    const filter = tag === undefined ? `labels.${TAG_LABEL}:*` : `labels.${TAG_LABEL} = "${tag}"`;
    const found: MachineDescription[] = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ filter, returnPartialSuccess: "true" });
      if (pageToken !== undefined) query.set("pageToken", pageToken);
      const answer = await this.retrying(() =>
        this.compute(`/aggregated/instances?${query}`, {}, "listing instances", [200]),
      );
      const body = answer.json as {
        items?: Record<string, { instances?: GcpInstance[] }>;
        nextPageToken?: string;
      };
      for (const scope of Object.values(body?.items ?? {})) {
        for (const instance of scope.instances ?? []) {
          const mine = instance.labels?.[TAG_LABEL];
          if (mine !== undefined && (tag === undefined || mine === tag)) {
            found.push(describeInstance(instance));
          }
        }
      }
      pageToken = body?.nextPageToken || undefined;
    } while (pageToken !== undefined);
    return found;
  }

  async terminate(id: string, region?: string): Promise<void> {
    // A failed insert explains a missing instance only until it is deleted: after that it is gone.
    this.inserts.delete(id);
    const zones = region !== undefined ? [region] : await this.zonesOf(id);
    for (const zone of zones) {
      await this.retrying(() =>
        this.compute(
          `/zones/${zone}/instances/${id}`,
          { method: "DELETE" },
          `deleting instance ${id}`,
          [200, 404],
        ),
      );
    }
  }

  stop(id: string, region?: string): Promise<void> {
    return this.action(id, region, "stop");
  }

  start(id: string, region?: string): Promise<void> {
    return this.action(id, region, "start");
  }

  /** Compute Engine accepts stop on a stopped instance and start on a running one: both idempotent. */
  private async action(id: string, region: string | undefined, verb: string): Promise<void> {
    const zone = region ?? (await this.zonesOf(id))[0];
    if (zone === undefined) throw new ProviderError("request", `no instance ${id} to ${verb}`);
    await this.retrying(() =>
      this.compute(
        `/zones/${zone}/instances/${id}/${verb}`,
        { method: "POST" },
        `${verb} instance ${id}`,
        [200],
      ),
    );
  }

  /** An instance the cloud does not know: still being inserted, failed (the Operation's error), or gone. */
  private async explainMissing(id: string): Promise<MachineDescription> {
    const insert = this.inserts.get(id);
    if (insert === undefined) return gone(id);
    const answer = await this.retrying(() =>
      this.compute(
        `/zones/${insert.zone}/operations/${insert.operation}`,
        {},
        `reading the insert operation of ${id}`,
        [200, 404],
      ),
    );
    const operation = answer.json as { status?: string };
    if (answer.status === 200 && operation?.status !== "DONE") {
      return {
        ...gone(id),
        state: "pending",
        rawState: `insert ${operation?.status ?? "PENDING"}`,
        region: insert.zone,
      };
    }
    const failed = answer.status === 200 ? operationError(answer.json) : undefined;
    if (failed === undefined) return gone(id);
    return {
      ...gone(id),
      state: "error",
      rawState: failed.code,
      fault: failed.message,
      faultIsCapacity: failed.kind === "capacity",
      faultIsQuota: failed.kind === "quota",
      region: insert.zone,
    };
  }

  private async zonesOf(id: string): Promise<string[]> {
    if (this.regions.length > 0) return [...this.regions];
    const zone = (await this.list()).find((m) => m.id === id)?.region;
    return zone === undefined ? [] : [zone];
  }

  private bodyOptions(): { project: string; diskGb?: number } {
    const { settings, diskGb } = this.options;
    return { project: settings.project, ...(diskGb === undefined ? {} : { diskGb }) };
  }

  private retrying<T>(call: () => Promise<T>): Promise<T> {
    return withRetries(call, this.retry);
  }

  /** A Compute call below `projects/{project}` whose status must be one of `ok`; a 401 renews the token once. */
  private async compute(
    path: string,
    request: Pick<HttpRequest, "method" | "body">,
    doing: string,
    ok: readonly number[],
  ): Promise<HttpAnswer> {
    const { endpoint, project } = this.options.settings;
    const url = `${endpoint}/projects/${project}${path}`;
    const send = async () =>
      requestJson(url, {
        ...request,
        headers: { authorization: `Bearer ${await this.options.tokens.token()}` },
      });
    let answer = await send();
    if (answer.status === 401) {
      this.options.tokens.invalidate();
      answer = await send();
    }
    if (ok.includes(answer.status)) return answer;
    throw gcpError(answer, doing);
  }
}
