// Owns the fake Lambda Cloud API v1 (instance-types with prices and regions with capacity, launch,
// instances, terminate, ssh-keys), with the real answers' shapes and status codes, scripted faults, and
// real machines behind it (CloudHosts). Like the real one it takes no user data: each machine's image
// makes its own host key. Differs: the login user is root (Lambda's is ubuntu).
import { randomBytes } from "node:crypto";
import { CloudHosts, type MachineKeys } from "./hosts.js";
import { type Answer, generateHostKey } from "./nova.js";
import { FakeHttp, type FakeRequest, sleep } from "./serve.js";

export interface LambdaFaults {
  /** Regions where launch answers 400 insufficient-capacity (and instance-types shows none). */
  noCapacityIn: Set<string>;
  /** Regions instance-types still lists with capacity but whose launch answers 400 (taken meanwhile). */
  launchRefusedIn: Set<string>;
  quotaExceeded: boolean;
  /** The next N launches answer 429 with Retry-After. */
  rateLimitLaunches: number;
  retryAfterSeconds: number;
  /** The next N launches make the instance and then answer 500. */
  launchesAnswer500: number;
  /** Launches make the instance at once and answer this much later (a kill lands before the id is heard). */
  launchAnswerDelayMs: number;
  /** New instances stay booting for ever. */
  stuckBooting: boolean;
  /** An active instance shows no ip for its first N reads. */
  noAddressForReads: number;
  /** The next N terminates answer 500 and terminate nothing. */
  failTerminates: number;
  sshdNeverUp: boolean;
}

export function noLambdaFaults(): LambdaFaults {
  return {
    noCapacityIn: new Set(),
    launchRefusedIn: new Set(),
    quotaExceeded: false,
    rateLimitLaunches: 0,
    retryAfterSeconds: 1,
    launchesAnswer500: 0,
    launchAnswerDelayMs: 0,
    stuckBooting: false,
    noAddressForReads: 0,
    failTerminates: 0,
    sshdNeverUp: false,
  };
}

interface Instance {
  id: string;
  name: string | null;
  status: "booting" | "active" | "unhealthy" | "terminating";
  region: string;
  type: string;
  sshKeyNames: string[];
  slot?: number;
  keys?: MachineKeys;
  hiddenReads: number;
  work: Promise<void>;
}

export const LAMBDA_KEY = "secret_offload-test_0123456789abcdef";
export const LAMBDA_REGIONS = ["us-east-1", "us-west-1"];
const TYPES = [
  {
    name: "gpu_1x_a10",
    description: "1x A10 (24 GB PCIe)",
    gpu_description: "A10 (24 GB PCIe)",
    price_cents_per_hour: 75,
    specs: { vcpus: 30, memory_gib: 200, storage_gib: 1400, gpus: 1 },
  },
  {
    name: "gpu_1x_h100_pcie",
    description: "1x H100 (80 GB PCIe)",
    gpu_description: "H100 (80 GB PCIe)",
    price_cents_per_hour: 249,
    specs: { vcpus: 26, memory_gib: 200, storage_gib: 1000, gpus: 1 },
  },
];
const REGION_DESCRIPTIONS: Record<string, string> = {
  "us-east-1": "Virginia, USA",
  "us-west-1": "California, USA",
};

const lambdaError = (
  status: number,
  code: string,
  message: string,
  suggestion: string | null = null,
  headers?: Record<string, string>,
): Answer => ({
  status,
  ...(headers === undefined ? {} : { headers }),
  body: { error: { code, message, suggestion } },
});

export class FakeLambda {
  readonly hosts = new CloudHosts();
  readonly instances = new Map<string, Instance>();
  readonly sshKeys: { id: string; name: string; public_key: string }[] = [];
  faults: LambdaFaults = noLambdaFaults();
  private readonly http = new FakeHttp((request) => this.route(request));

  constructor(private readonly bootDelayMs = 200) {}

  get calls() {
    return this.http.calls;
  }

  get baseUrl(): string {
    return `${this.http.base}/api/v1`;
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

  slotOf(id: string): number | undefined {
    return this.instances.get(id)?.slot;
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
    const auth = String(request.headers.authorization ?? "");
    const basic = auth.startsWith("Basic ")
      ? Buffer.from(auth.slice(6), "base64").toString().replace(/:$/, "")
      : undefined;
    if (auth !== `Bearer ${LAMBDA_KEY}` && basic !== LAMBDA_KEY) {
      return lambdaError(
        401,
        "global/invalid-api-key",
        "API key was invalid, expired, or deleted.",
        "Check your API key or create a new one, then try again.",
      );
    }
    const path = request.url.pathname.replace(/^\/api\/v1/, "");
    const { method } = request;
    if (path === "/instance-types" && method === "GET") return this.instanceTypes();
    if (path === "/instances" && method === "GET")
      return {
        status: 200,
        body: { data: [...this.instances.values()].map((i) => this.view(i, false)) },
      };
    const one = /^\/instances\/([^/]+)$/.exec(path);
    if (one !== null && method === "GET") {
      const instance = this.instances.get(one[1] ?? "");
      return instance === undefined
        ? lambdaError(404, "global/object-does-not-exist", "Specified instance does not exist.")
        : { status: 200, body: { data: this.view(instance, true) } };
    }
    if (path === "/instance-operations/launch" && method === "POST") {
      const answer = this.launch(request.body);
      const delay = this.faults.launchAnswerDelayMs;
      return delay > 0 ? sleep(delay).then(() => answer) : answer;
    }
    if (path === "/instance-operations/terminate" && method === "POST")
      return this.terminate(request.body);
    if (path === "/ssh-keys" && method === "GET")
      return { status: 200, body: { data: this.sshKeys } };
    if (path === "/ssh-keys" && method === "POST") {
      const { name, public_key } = (request.body ?? {}) as { name?: string; public_key?: string };
      if (!name || !public_key)
        return lambdaError(400, "global/invalid-parameters", "Invalid request body.");
      if (this.sshKeys.some((k) => k.name === name))
        return lambdaError(
          400,
          "global/invalid-parameters",
          "SSH key with that name already exists.",
        );
      const key = { id: randomBytes(16).toString("hex"), name, public_key };
      this.sshKeys.push(key);
      return { status: 200, body: { data: key } };
    }
    return lambdaError(404, "global/object-does-not-exist", "Not found.");
  }

  private instanceTypes(): Answer {
    const data = Object.fromEntries(
      TYPES.map((t) => [
        t.name,
        {
          instance_type: t,
          regions_with_capacity_available: LAMBDA_REGIONS.filter(
            (r) => !this.faults.noCapacityIn.has(r),
          ).map((name) => ({ name, description: REGION_DESCRIPTIONS[name] })),
        },
      ]),
    );
    return { status: 200, body: { data } };
  }

  private launch(body: unknown): Answer {
    const spec = (body ?? {}) as {
      region_name?: string;
      instance_type_name?: string;
      ssh_key_names?: string[];
      name?: string | null;
    };
    if (this.faults.rateLimitLaunches > 0) {
      this.faults.rateLimitLaunches--;
      return lambdaError(
        429,
        "global/too-many-requests",
        "Too many requests.",
        "Wait and try again.",
        { "retry-after": String(this.faults.retryAfterSeconds) },
      );
    }
    if (!LAMBDA_REGIONS.includes(spec.region_name ?? ""))
      return lambdaError(
        400,
        "global/invalid-parameters",
        `Invalid region name: ${spec.region_name}`,
      );
    if (!TYPES.some((t) => t.name === spec.instance_type_name))
      return lambdaError(
        400,
        "global/invalid-parameters",
        `Invalid instance type: ${spec.instance_type_name}`,
      );
    const keyNames = spec.ssh_key_names ?? [];
    if (keyNames.length !== 1 || !this.sshKeys.some((k) => k.name === keyNames[0])) {
      return lambdaError(
        400,
        "global/invalid-parameters",
        "Must specify exactly one valid SSH key name.",
      );
    }
    if (this.faults.quotaExceeded)
      return lambdaError(
        400,
        "global/quota-exceeded",
        "Quota exceeded.",
        "Contact Support to increase your quota.",
      );
    const region = spec.region_name ?? "";
    if (this.faults.noCapacityIn.has(region) || this.faults.launchRefusedIn.has(region)) {
      return lambdaError(
        400,
        "instance-operations/launch/insufficient-capacity",
        "Not enough capacity to fulfill launch request.",
        "Choose an instance type with more availability, or try again later.",
      );
    }
    const instance: Instance = {
      id: randomBytes(16).toString("hex"),
      name: spec.name ?? null,
      status: "booting",
      region: spec.region_name ?? "",
      type: spec.instance_type_name ?? "",
      sshKeyNames: keyNames,
      hiddenReads: this.faults.noAddressForReads,
      work: Promise.resolve(),
    };
    this.instances.set(instance.id, instance);
    instance.work = this.boot(instance);
    if (this.faults.launchesAnswer500 > 0) {
      this.faults.launchesAnswer500--;
      return lambdaError(500, "global/unknown", "Unknown error.");
    }
    return { status: 200, body: { data: { instance_ids: [instance.id] } } };
  }

  private async boot(instance: Instance): Promise<void> {
    await sleep(this.bootDelayMs);
    if (this.faults.stuckBooting || instance.status !== "booting") return;
    instance.keys = {
      hostKey: generateHostKey(),
      authorizedKeys: this.sshKeys
        .filter((k) => instance.sshKeyNames.includes(k.name))
        .map((k) => k.public_key),
    };
    try {
      instance.slot = this.hosts.allocate();
      this.hosts.boot(instance.slot, instance.keys, !this.faults.sshdNeverUp);
    } catch {
      // A boot the fake could not do shows as Lambda's failed one, at once: not an instance left booting.
      if (instance.slot !== undefined) this.hosts.remove(instance.slot);
      delete instance.slot;
      instance.status = "unhealthy";
      return;
    }
    instance.status = "active";
  }

  private terminate(body: unknown): Answer {
    const ids = ((body ?? {}) as { instance_ids?: string[] }).instance_ids ?? [];
    const instances = ids.map((id) => this.instances.get(id));
    if (instances.some((i) => i === undefined))
      return lambdaError(404, "global/object-does-not-exist", "Specified instance does not exist.");
    if (this.faults.failTerminates > 0) {
      this.faults.failTerminates--;
      return lambdaError(500, "global/unknown", "Unknown error.");
    }
    for (const instance of instances) {
      if (instance === undefined || instance.status === "terminating") continue;
      instance.status = "terminating";
      instance.work = instance.work.then(async () => {
        await sleep(50);
        if (instance.slot !== undefined) this.hosts.remove(instance.slot);
        this.instances.delete(instance.id);
      });
    }
    return {
      status: 200,
      body: {
        data: {
          terminated_instances: instances.map(
            (i) => i && { ...(this.view(i, false) as object), status: "terminated" },
          ),
        },
      },
    };
  }

  private view(instance: Instance, isRead: boolean): unknown {
    const hidden = instance.status === "active" && instance.hiddenReads > 0;
    if (hidden && isRead) instance.hiddenReads--;
    const type = TYPES.find((t) => t.name === instance.type);
    const addressed = instance.status === "active" && instance.slot !== undefined && !hidden;
    return {
      id: instance.id,
      name: instance.name,
      status: instance.status,
      ssh_key_names: instance.sshKeyNames,
      file_system_names: [],
      region: { name: instance.region, description: REGION_DESCRIPTIONS[instance.region] },
      instance_type: type,
      is_reserved: false,
      ...(addressed && instance.slot !== undefined
        ? {
            ip: this.hosts.address(instance.slot),
            private_ip: `10.19.60.${instance.slot}`,
            hostname: `${this.hosts.address(instance.slot).replaceAll(".", "-")}`,
            jupyter_token: "0123456789abcdef",
            jupyter_url: `https://jupyter-${instance.id}.lambdaspaces.com/?token=0123456789abcdef`,
          }
        : {}),
    };
  }
}
