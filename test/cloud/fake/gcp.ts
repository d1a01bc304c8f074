// Owns the fake Compute Engine v1 (instances insert/get/delete/stop/start, aggregatedList with a label
// filter, zone Operations) and the OAuth token endpoint, with the real answers' shapes and status codes,
// scripted faults, and real machines behind it (CloudHosts). Differs from the real one: the login user
// is root whatever `ssh-keys` names, only `labels.KEY = "v"` and `labels.KEY:*` filters are understood,
// and user-data is read as cloud-init would on an Ubuntu image.
import { createVerify, randomBytes } from "node:crypto";
import { readCloudInit } from "./cloud-init.js";
import { CloudHosts, type MachineKeys } from "./hosts.js";
import { type Answer, generateHostKey } from "./nova.js";
import { FakeHttp, type FakeRequest, sleep } from "./serve.js";

export interface GcpFaults {
  /** Zones where an insert's Operation ends in ZONE_RESOURCE_POOL_EXHAUSTED. */
  noCapacityIn: Set<string>;
  /** Inserts' Operations end in QUOTA_EXCEEDED. */
  quotaExceeded: boolean;
  /** The next N inserts answer 429 with Retry-After. */
  rateLimitInserts: number;
  retryAfterSeconds: number;
  /** The next N inserts make the instance and then answer 500. */
  insertsAnswer500: number;
  /** Inserts make the instance at once and answer this much later (a kill lands before the id is heard). */
  insertAnswerDelayMs: number;
  /** New instances stay PROVISIONING (their Operation RUNNING) for ever. */
  stuckProvisioning: boolean;
  /** A RUNNING instance shows no natIP for its first N reads. */
  noAddressForReads: number;
  /** A started instance comes back at another external address (an ephemeral IP). */
  newAddressOnStart: boolean;
  /** The next N deletes answer 500 and delete nothing. */
  failDeletes: number;
  sshdNeverUp: boolean;
}

export function noGcpFaults(): GcpFaults {
  return {
    noCapacityIn: new Set(),
    quotaExceeded: false,
    rateLimitInserts: 0,
    retryAfterSeconds: 1,
    insertsAnswer500: 0,
    insertAnswerDelayMs: 0,
    stuckProvisioning: false,
    noAddressForReads: 0,
    newAddressOnStart: false,
    failDeletes: 0,
    sshdNeverUp: false,
  };
}

interface Instance {
  id: string;
  name: string;
  zone: string;
  status: string;
  machineType: string;
  labels: Record<string, string>;
  metadata: { key: string; value: string }[];
  created: string;
  slot?: number;
  keys?: MachineKeys;
  /** Reads left without a natIP (the noAddressForReads fault). */
  hiddenReads: number;
  work: Promise<void>;
}

interface Operation {
  name: string;
  zone: string;
  operationType: string;
  target: string;
  status: "PENDING" | "RUNNING" | "DONE";
  error?: { code: string; message: string };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
}

export const GCP_PROJECT = "offload-demo";
export const GCP_TOKEN = "ya29.fake-static-token";
const MACHINE_TYPES = ["e2-small", "n1-standard-2", "a2-highgpu-1g"];

const googleError = (
  status: number,
  reason: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Answer => ({
  status,
  ...(headers === undefined ? {} : { headers }),
  body: {
    error: { code: status, message, errors: [{ message, domain: "global", reason }], ...extra },
  },
});

export class FakeGcp {
  readonly hosts = new CloudHosts();
  readonly instances = new Map<string, Instance>();
  readonly operations = new Map<string, Operation>();
  /** Bearer tokens the API accepts; the static one stands for GOOGLE_OAUTH_ACCESS_TOKEN. */
  readonly tokens = new Set<string>([GCP_TOKEN]);
  /** Service accounts (client_email → PEM public key) and refresh tokens the token endpoint accepts. */
  readonly serviceAccounts = new Map<string, string>();
  readonly refreshTokens = new Set<string>();
  faults: GcpFaults = noGcpFaults();
  private readonly http = new FakeHttp((request) => this.route(request));

  constructor(
    readonly zones: string[] = ["europe-west1-b", "europe-west1-c"],
    private readonly bootDelayMs = 200,
  ) {}

  get calls() {
    return this.http.calls;
  }

  /** What CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE is set to. */
  get endpoint(): string {
    return `${this.http.base}/compute/v1/`;
  }

  get tokenUri(): string {
    return `${this.http.base}/token`;
  }

  async start(): Promise<this> {
    this.hosts.sweep();
    await this.http.listen();
    return this;
  }

  async settle(): Promise<void> {
    await Promise.all([...this.instances.values()].map((i) => i.work.catch(() => {})));
  }

  async liveMachines(): Promise<number> {
    await this.settle();
    return this.instances.size;
  }

  slotOf(name: string): number | undefined {
    return [...this.instances.values()].find((i) => i.name === name)?.slot;
  }

  async close(): Promise<void> {
    await this.settle();
    for (const instance of this.instances.values()) {
      if (instance.slot !== undefined) this.hosts.remove(instance.slot);
    }
    this.instances.clear();
    await this.http.close();
  }

  private route(request: FakeRequest): Answer | Promise<Answer> {
    const { method, url } = request;
    if (url.pathname === "/token" && method === "POST") return this.issueToken(request.body);
    const auth = String(request.headers.authorization ?? "");
    if (!auth.startsWith("Bearer ") || !this.tokens.has(auth.slice("Bearer ".length))) {
      return googleError(
        401,
        "required",
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        { status: "UNAUTHENTICATED" },
      );
    }
    const parts = url.pathname.split("/").filter(Boolean);
    const [api, version, projects, project, scope, zone, collection, name, verb] = parts;
    if (api !== "compute" || version !== "v1" || projects !== "projects")
      return googleError(404, "notFound", "Not Found");
    if (project !== GCP_PROJECT) {
      return googleError(403, "forbidden", `Permission denied on resource project ${project}.`);
    }
    if (scope === "aggregated" && zone === "instances" && method === "GET")
      return this.aggregated(url);
    if (scope !== "zones" || zone === undefined || !this.zones.includes(zone)) {
      return googleError(
        404,
        "notFound",
        `The resource 'projects/${project}/zones/${zone}' was not found`,
      );
    }
    if (collection === "operations" && name !== undefined && method === "GET") {
      const op = this.operations.get(name);
      return op === undefined
        ? googleError(
            404,
            "notFound",
            `The resource 'projects/${project}/zones/${zone}/operations/${name}' was not found`,
          )
        : { status: 200, body: this.operationView(op) };
    }
    if (collection !== "instances") return googleError(404, "notFound", "Not Found");
    if (name === undefined && method === "POST") {
      const answer = this.insert(zone, request.body);
      const delay = this.faults.insertAnswerDelayMs;
      return delay > 0 ? sleep(delay).then(() => answer) : answer;
    }
    const instance = name === undefined ? undefined : this.instances.get(`${zone}/${name}`);
    if (instance === undefined) {
      return googleError(
        404,
        "notFound",
        `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`,
      );
    }
    if (verb === undefined && method === "GET")
      return { status: 200, body: this.view(instance, true) };
    if (verb === undefined && method === "DELETE") return this.delete(instance);
    if ((verb === "stop" || verb === "start") && method === "POST")
      return this.power(instance, verb);
    return googleError(400, "badRequest", "Invalid request");
  }

  private insert(zone: string, body: unknown): Answer {
    const spec = (body ?? {}) as {
      name?: string;
      machineType?: string;
      labels?: Record<string, string>;
      metadata?: { items?: { key: string; value: string }[] };
    };
    if (this.faults.rateLimitInserts > 0) {
      this.faults.rateLimitInserts--;
      return googleError(
        429,
        "rateLimitExceeded",
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'compute.googleapis.com'",
        { status: "RESOURCE_EXHAUSTED" },
        { "retry-after": String(this.faults.retryAfterSeconds) },
      );
    }
    const name = spec.name ?? "";
    if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
      return googleError(
        400,
        "invalid",
        `Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    }
    const type = spec.machineType?.split("/").at(-1) ?? "";
    if (!MACHINE_TYPES.includes(type)) {
      return googleError(
        400,
        "invalid",
        `Invalid value for field 'resource.machineType': '${spec.machineType}'. Machine type with name '${type}' does not exist in zone '${zone}'.`,
      );
    }
    if (this.instances.has(`${zone}/${name}`)) {
      return googleError(
        409,
        "alreadyExists",
        `The resource 'projects/${GCP_PROJECT}/zones/${zone}/instances/${name}' already exists`,
      );
    }
    const instance: Instance = {
      id: String(BigInt(`0x${randomBytes(7).toString("hex")}`)),
      name,
      zone,
      status: "PROVISIONING",
      machineType: type,
      labels: spec.labels ?? {},
      metadata: spec.metadata?.items ?? [],
      created: new Date().toISOString().replace("Z", "-00:00"),
      hiddenReads: this.faults.noAddressForReads,
      work: Promise.resolve(),
    };
    this.instances.set(`${zone}/${name}`, instance);
    const op = this.newOperation(zone, "insert", name);
    instance.work = this.boot(instance, op);
    if (this.faults.insertsAnswer500 > 0) {
      this.faults.insertsAnswer500--;
      return googleError(500, "backendError", "Internal Error");
    }
    return { status: 200, body: this.operationView(op) };
  }

  private async boot(instance: Instance, op: Operation): Promise<void> {
    await sleep(this.bootDelayMs);
    if (this.faults.stuckProvisioning) return;
    const key = `${instance.zone}/${instance.name}`;
    if (this.faults.noCapacityIn.has(instance.zone) || this.faults.quotaExceeded) {
      this.instances.delete(key);
      op.status = "DONE";
      op.error = this.faults.quotaExceeded
        ? {
            code: "QUOTA_EXCEEDED",
            message: `Quota 'CPUS' exceeded.  Limit: 24.0 in region ${instance.zone.replace(/-[a-z]$/, "")}.`,
          }
        : {
            code: "ZONE_RESOURCE_POOL_EXHAUSTED",
            message: `The zone 'projects/${GCP_PROJECT}/zones/${instance.zone}' does not have enough resources available to fulfill the request.  Try a different zone, or try again later.`,
          };
      op.httpErrorStatusCode = this.faults.quotaExceeded ? 403 : 503;
      op.httpErrorMessage = this.faults.quotaExceeded ? "FORBIDDEN" : "SERVICE UNAVAILABLE";
      return;
    }
    instance.status = "STAGING";
    const items = Object.fromEntries(instance.metadata.map((i) => [i.key, i.value]));
    const cloudInit = readCloudInit(
      items["user-data"] === undefined
        ? undefined
        : Buffer.from(items["user-data"]).toString("base64"),
    );
    // The guest agent authorizes each `user:key` line of ssh-keys.
    const agentKeys = (items["ssh-keys"] ?? "")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.slice(l.indexOf(":") + 1));
    instance.keys = {
      hostKey: cloudInit.hostKey ?? generateHostKey(),
      authorizedKeys: [...agentKeys, ...cloudInit.authorizedKeys],
    };
    try {
      instance.slot = this.hosts.allocate();
      this.hosts.boot(instance.slot, instance.keys, !this.faults.sshdNeverUp);
    } catch (failure) {
      // A boot the fake could not do fails the insert, as Compute Engine says a failed one: at once and
      // with the reason, not a machine left STAGING that a run waits 15 minutes for (and a test counts
      // as alive after its timeout).
      if (instance.slot !== undefined) this.hosts.remove(instance.slot);
      this.instances.delete(key);
      op.status = "DONE";
      op.error = {
        code: "INTERNAL_ERROR",
        message: `The fake could not boot it: ${String(failure)}`,
      };
      op.httpErrorStatusCode = 500;
      op.httpErrorMessage = "INTERNAL SERVER ERROR";
      return;
    }
    instance.status = "RUNNING";
    op.status = "DONE";
  }

  private delete(instance: Instance): Answer {
    if (this.faults.failDeletes > 0) {
      this.faults.failDeletes--;
      return googleError(500, "backendError", "Internal Error");
    }
    const op = this.newOperation(instance.zone, "delete", instance.name);
    if (instance.status !== "STOPPING" || !instance.work) {
      instance.status = "STOPPING";
      instance.work = instance.work.then(async () => {
        await sleep(50);
        if (instance.slot !== undefined) this.hosts.remove(instance.slot);
        this.instances.delete(`${instance.zone}/${instance.name}`);
        op.status = "DONE";
      });
    }
    return { status: 200, body: this.operationView(op) };
  }

  private power(instance: Instance, verb: "stop" | "start"): Answer {
    const op = this.newOperation(instance.zone, verb, instance.name);
    const already =
      verb === "stop" ? instance.status === "TERMINATED" : instance.status === "RUNNING";
    const slot = instance.slot;
    if (already || slot === undefined) {
      op.status = "DONE";
      return { status: 200, body: this.operationView(op) };
    }
    instance.status = verb === "stop" ? "STOPPING" : "STAGING";
    instance.work = instance.work.then(async () => {
      await sleep(50);
      if (verb === "stop") this.hosts.halt(slot);
      else if (this.faults.newAddressOnStart && instance.keys !== undefined) {
        // Differs from a real restart: ~ and /tmp start empty at the new address.
        instance.slot = this.hosts.allocate();
        this.hosts.remove(slot);
        this.hosts.boot(instance.slot, instance.keys);
      } else this.hosts.startSshd(slot);
      instance.status = verb === "stop" ? "TERMINATED" : "RUNNING";
      op.status = "DONE";
    });
    return { status: 200, body: this.operationView(op) };
  }

  private aggregated(url: URL): Answer {
    const filter = url.searchParams.get("filter") ?? "";
    const equals = /^labels\.([a-z0-9_-]+)\s*=\s*"?([^"]*)"?$/.exec(filter.trim());
    const has = /^labels\.([a-z0-9_-]+):\*$/.exec(filter.trim());
    const items: Record<string, unknown> = {};
    for (const zone of this.zones) {
      const instances = [...this.instances.values()].filter(
        (i) =>
          i.zone === zone &&
          (equals !== null
            ? i.labels[equals[1] ?? ""] === equals[2]
            : has !== null
              ? (has[1] ?? "") in i.labels
              : filter === ""),
      );
      items[`zones/${zone}`] =
        instances.length > 0
          ? { instances: instances.map((i) => this.view(i, false)) }
          : {
              warning: {
                code: "NO_RESULTS_ON_PAGE",
                message: `There are no results for scope 'zones/${zone}' on this page.`,
                data: [{ key: "scope", value: `zones/${zone}` }],
              },
            };
    }
    return {
      status: 200,
      body: {
        kind: "compute#instanceAggregatedList",
        id: `projects/${GCP_PROJECT}/aggregated/instances`,
        items,
        selfLink: `${this.endpoint}projects/${GCP_PROJECT}/aggregated/instances`,
      },
    };
  }

  private newOperation(zone: string, type: string, target: string): Operation {
    const name = `operation-${Date.now()}-${randomBytes(6).toString("hex")}`;
    const op: Operation = { name, zone, operationType: type, target, status: "RUNNING" };
    this.operations.set(name, op);
    return op;
  }

  private operationView(op: Operation): unknown {
    const zoneUrl = `${this.endpoint}projects/${GCP_PROJECT}/zones/${op.zone}`;
    return {
      kind: "compute#operation",
      id: String(BigInt(`0x${randomBytes(7).toString("hex")}`)),
      name: op.name,
      zone: zoneUrl,
      operationType: op.operationType,
      targetLink: `${zoneUrl}/instances/${op.target}`,
      status: op.status,
      progress: op.status === "DONE" ? 100 : 0,
      selfLink: `${zoneUrl}/operations/${op.name}`,
      ...(op.error === undefined
        ? {}
        : {
            error: { errors: [op.error] },
            httpErrorStatusCode: op.httpErrorStatusCode,
            httpErrorMessage: op.httpErrorMessage,
          }),
    };
  }

  private view(instance: Instance, isRead: boolean): unknown {
    const zoneUrl = `${this.endpoint}projects/${GCP_PROJECT}/zones/${instance.zone}`;
    const hidden = instance.status === "RUNNING" && instance.hiddenReads > 0;
    if (hidden && isRead) instance.hiddenReads--;
    const running = instance.status === "RUNNING" && instance.slot !== undefined && !hidden;
    return {
      kind: "compute#instance",
      id: instance.id,
      creationTimestamp: instance.created,
      name: instance.name,
      machineType: `${zoneUrl}/machineTypes/${instance.machineType}`,
      status: instance.status,
      zone: zoneUrl,
      labels: instance.labels,
      metadata: { kind: "compute#metadata", fingerprint: "Xq3TbD1n4Mk=", items: instance.metadata },
      networkInterfaces: [
        {
          kind: "compute#networkInterface",
          network: `${this.endpoint}projects/${GCP_PROJECT}/global/networks/default`,
          name: "nic0",
          ...(instance.slot === undefined ? {} : { networkIP: `10.132.0.${instance.slot}` }),
          accessConfigs: [
            {
              kind: "compute#accessConfig",
              type: "ONE_TO_ONE_NAT",
              name: "External NAT",
              networkTier: "PREMIUM",
              ...(running && instance.slot !== undefined
                ? { natIP: this.hosts.address(instance.slot) }
                : {}),
            },
          ],
        },
      ],
      selfLink: `${zoneUrl}/instances/${instance.name}`,
    };
  }

  private issueToken(body: unknown): Answer {
    const form = (body ?? {}) as Record<string, string>;
    let ok = false;
    if (form.grant_type === "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      ok = this.verifyAssertion(form.assertion ?? "");
    } else if (form.grant_type === "refresh_token") {
      ok = this.refreshTokens.has(form.refresh_token ?? "");
    }
    if (!ok)
      return {
        status: 400,
        body: { error: "invalid_grant", error_description: "Invalid JWT Signature." },
      };
    const token = `ya29.${randomBytes(24).toString("base64url")}`;
    this.tokens.add(token);
    return { status: 200, body: { access_token: token, expires_in: 3599, token_type: "Bearer" } };
  }

  private verifyAssertion(assertion: string): boolean {
    const [header, claims, signature] = assertion.split(".");
    if (header === undefined || claims === undefined || signature === undefined) return false;
    const payload = JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as {
      iss?: string;
      aud?: string;
      exp?: number;
    };
    const key = this.serviceAccounts.get(payload.iss ?? "");
    if (key === undefined || payload.aud !== this.tokenUri) return false;
    if ((payload.exp ?? 0) * 1000 < Date.now()) return false;
    return createVerify("RSA-SHA256")
      .update(`${header}.${claims}`)
      .verify(key, Buffer.from(signature, "base64url"));
  }
}
