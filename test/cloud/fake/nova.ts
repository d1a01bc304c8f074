// Owns the fake Nova v2.1 servers: their lifecycle (BUILD → ACTIVE or ERROR with a fault, SHUTOFF,
// deleting → gone), the real answers' shapes and status codes, scripted faults, and real machines
// behind them (CloudHosts). Differs from the real one: one fixed and one floating address per server,
// the login user is root, key_name is accepted but not applied (cloud-init user_data is).
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCheckedSync } from "../../testbed/command.js";
import { readCloudInit } from "./cloud-init.js";
import type { CloudHosts, MachineKeys } from "./hosts.js";

export interface FakeFaults {
  /** Regions where every create ends in ERROR with Nova's NoValidHost fault. */
  noCapacityIn: Set<string>;
  /** The next N creates answer this status (429 or 413) with Retry-After. */
  rateLimitCreates: number;
  rateLimitStatus: 429 | 413;
  retryAfterSeconds: number;
  /** The next N creates make the server and then answer 500 (a lost response). */
  createsAnswer500: number;
  /** The next N deletes answer 500 and delete nothing. */
  failDeletes: number;
  /** Creates answer 403 "Quota exceeded". */
  quotaExceeded: boolean;
  /** A started machine comes back at another address (a new floating IP after a restart). */
  newAddressOnStart: boolean;
  /** New servers stay in BUILD for ever. */
  stuckInBuild: boolean;
  /** New machines boot but their sshd never starts (a broken image). */
  sshdNeverUp: boolean;
}

export function noFaults(): FakeFaults {
  return {
    noCapacityIn: new Set(),
    rateLimitCreates: 0,
    rateLimitStatus: 429,
    retryAfterSeconds: 1,
    createsAnswer500: 0,
    failDeletes: 0,
    quotaExceeded: false,
    newAddressOnStart: false,
    stuckInBuild: false,
    sshdNeverUp: false,
  };
}

interface Server {
  id: string;
  region: string;
  name: string;
  status: string;
  taskState: string | null;
  metadata: Record<string, string>;
  flavorId: string;
  imageId: string;
  keyName: string | null;
  userData: string | undefined;
  created: string;
  fault?: { code: number; message: string; created: string };
  slot?: number;
  /** What cloud-init installed: a restart elsewhere boots with the same keys (the disk keeps them). */
  keys?: MachineKeys;
  /** Settles when the last lifecycle step of this server is done. */
  work: Promise<void>;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface NovaOptions {
  flavors: { id: string; name: string }[];
  images: { id: string; name: string }[];
  networks: { id: string; name: string }[];
  buildDelayMs: number;
}

const error = (
  status: number,
  key: string,
  message: string,
  headers?: Record<string, string>,
): Answer => ({
  status,
  ...(headers === undefined ? {} : { headers }),
  body: { [key]: { code: status, message } },
});

/** The slot (test-bed host number) of a server, for tests that check the machine itself. */
export function slotOf(nova: FakeNova, id: string): number | undefined {
  return nova.servers.get(id)?.slot;
}

export class FakeNova {
  readonly servers = new Map<string, Server>();
  faults: FakeFaults = noFaults();
  /** Servers per page of /servers/detail when the client gives no limit (Nova's osapi_max_limit). */
  pageSize = 1000;

  constructor(
    private readonly hosts: CloudHosts,
    private readonly options: NovaOptions,
    private readonly base: (region: string) => string,
  ) {}

  flavors(): Answer {
    return {
      status: 200,
      body: { flavors: this.options.flavors.map((f) => ({ id: f.id, name: f.name, links: [] })) },
    };
  }

  create(region: string, body: unknown, microversion: number): Answer {
    const spec = (body as { server?: Record<string, unknown> })?.server;
    if (spec === undefined)
      return error(400, "badRequest", "Invalid input for field/attribute server.");
    if (this.faults.quotaExceeded) {
      return error(
        403,
        "forbidden",
        "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances",
      );
    }
    if (this.faults.rateLimitCreates > 0) {
      this.faults.rateLimitCreates--;
      const seconds = String(this.faults.retryAfterSeconds);
      return error(this.faults.rateLimitStatus, "overLimit", "This request was rate-limited.", {
        "retry-after": seconds,
      });
    }
    const flavor = this.options.flavors.find((f) => f.id === spec.flavorRef);
    if (flavor === undefined)
      return error(400, "badRequest", `Flavor ${String(spec.flavorRef)} could not be found.`);
    const image = this.options.images.find((i) => i.id === spec.imageRef);
    if (image === undefined) return error(400, "badRequest", `Can not find requested image`);
    const networks = spec.networks;
    if ((networks === "auto" || networks === "none") && microversion < 2.37) {
      return error(400, "badRequest", "Invalid input for field/attribute networks.");
    }
    const server: Server = {
      id: randomUUID(),
      region,
      name: String(spec.name ?? ""),
      status: "BUILD",
      taskState: "scheduling",
      metadata: (spec.metadata ?? {}) as Record<string, string>,
      flavorId: flavor.id,
      imageId: image.id,
      keyName: typeof spec.key_name === "string" ? spec.key_name : null,
      userData: typeof spec.user_data === "string" ? spec.user_data : undefined,
      created: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      work: Promise.resolve(),
    };
    this.servers.set(server.id, server);
    server.work = this.build(server);
    if (this.faults.createsAnswer500 > 0) {
      this.faults.createsAnswer500--;
      return error(
        500,
        "computeFault",
        "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'oslo_db.exception.DBConnectionError'>",
      );
    }
    return {
      status: 202,
      body: {
        server: {
          id: server.id,
          links: this.links(server),
          "OS-DCF:diskConfig": "MANUAL",
          security_groups: [{ name: "default" }],
          adminPass: randomBytes(9).toString("base64"),
        },
      },
    };
  }

  show(id: string): Answer {
    const server = this.servers.get(id);
    if (server === undefined)
      return error(404, "itemNotFound", `Instance ${id} could not be found.`);
    this.noticePowerOff(server);
    return { status: 200, body: { server: this.view(server) } };
  }

  list(region: string, query: URLSearchParams): Answer {
    const all = [...this.servers.values()].filter((s) => s.region === region);
    for (const server of all) this.noticePowerOff(server);
    const marker = query.get("marker");
    const limit = Math.min(Number(query.get("limit") ?? this.pageSize), this.pageSize);
    const start = marker === null ? 0 : all.findIndex((s) => s.id === marker) + 1;
    const page = all.slice(start, start + limit);
    const body: Record<string, unknown> = { servers: page.map((s) => this.view(s)) };
    const last = page.at(-1);
    if (start + limit < all.length && last !== undefined) {
      body.servers_links = [
        {
          rel: "next",
          href: `${this.base(region)}/servers/detail?limit=${limit}&marker=${last.id}`,
        },
      ];
    }
    return { status: 200, body };
  }

  delete(id: string): Answer {
    const server = this.servers.get(id);
    if (server === undefined)
      return error(404, "itemNotFound", `Instance ${id} could not be found.`);
    if (this.faults.failDeletes > 0) {
      this.faults.failDeletes--;
      return error(
        500,
        "computeFault",
        "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.",
      );
    }
    if (server.taskState !== "deleting") {
      server.taskState = "deleting";
      server.work = server.work.then(async () => {
        await sleep(50);
        if (server.slot !== undefined) this.hosts.remove(server.slot);
        this.servers.delete(server.id);
      });
    }
    return { status: 204 };
  }

  action(id: string, body: unknown): Answer {
    const server = this.servers.get(id);
    if (server === undefined)
      return error(404, "itemNotFound", `Instance ${id} could not be found.`);
    const action = Object.keys((body ?? {}) as object)[0];
    const wanted = { "os-stop": "ACTIVE", "os-start": "SHUTOFF" }[action ?? ""];
    if (wanted === undefined) return error(400, "badRequest", `There is no such action: ${action}`);
    if (server.status !== wanted || server.taskState !== null || server.slot === undefined) {
      const vmState = server.status === "SHUTOFF" ? "stopped" : server.status.toLowerCase();
      return error(
        409,
        "conflictingRequest",
        `Cannot '${action === "os-stop" ? "stop" : "start"}' instance ${id} while it is in vm_state ${vmState}`,
      );
    }
    const slot = server.slot;
    server.taskState = action === "os-stop" ? "powering-off" : "powering-on";
    server.work = server.work.then(async () => {
      await sleep(50);
      if (action === "os-stop") this.hosts.halt(slot);
      else if (this.faults.newAddressOnStart && server.keys !== undefined) {
        // Differs from a real restart: ~ and /tmp start empty at the new address.
        // The new slot is taken before the old one is freed, so the address really changes.
        server.slot = this.hosts.allocate();
        this.hosts.remove(slot);
        this.hosts.boot(server.slot, server.keys);
      } else this.hosts.startSshd(slot);
      server.status = action === "os-stop" ? "SHUTOFF" : "ACTIVE";
      server.taskState = null;
    });
    return { status: 202 };
  }

  /**
   * A guest that powered itself off (`shutdown -h` in a real VM; POWER_OFF_COMMAND here) is SHUTOFF, as
   * Nova's power-state sync reports it: its processes are gone, its disk and addresses stay.
   */
  noticePowerOff(server: Server): void {
    if (server.slot === undefined || server.status !== "ACTIVE" || server.taskState !== null)
      return;
    if (!this.hosts.takePowerOff(server.slot)) return;
    this.hosts.halt(server.slot);
    server.status = "SHUTOFF";
  }

  /** The server's status now (a guest power-off noticed), for tests watching a machine on its own. */
  statusOf(id: string): string | undefined {
    const server = this.servers.get(id);
    if (server !== undefined) this.noticePowerOff(server);
    return server?.status;
  }

  /** Waits for every server's pending lifecycle step (tests call it before counting). */
  async settle(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.work.catch(() => {})));
  }

  private async build(server: Server): Promise<void> {
    await sleep(this.options.buildDelayMs);
    if (server.taskState === "deleting" || this.faults.stuckInBuild) return;
    if (this.faults.noCapacityIn.has(server.region)) {
      server.status = "ERROR";
      server.taskState = null;
      server.fault = {
        code: 500,
        message: "No valid host was found. There are not enough hosts available.",
        created: new Date().toISOString(),
      };
      return;
    }
    server.taskState = "spawning";
    try {
      const keys = readCloudInit(server.userData);
      const slot = this.hosts.allocate();
      server.slot = slot;
      server.keys = {
        hostKey: keys.hostKey ?? generateHostKey(),
        authorizedKeys: keys.authorizedKeys,
      };
      this.hosts.boot(slot, server.keys, !this.faults.sshdNeverUp);
      server.status = "ACTIVE";
    } catch (failure) {
      // A boot the fake could not do shows as Nova shows a failed spawn, with the reason as fault.
      server.status = "ERROR";
      server.fault = { code: 500, message: String(failure), created: new Date().toISOString() };
    }
    server.taskState = null;
  }

  private view(server: Server): Record<string, unknown> {
    const addresses =
      server.slot === undefined || server.status === "ERROR"
        ? {}
        : {
            "offload-net": [
              {
                "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:f6:22",
                version: 4,
                addr: `192.168.77.${server.slot}`,
                "OS-EXT-IPS:type": "fixed",
              },
              {
                "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:f6:22",
                version: 4,
                addr: this.hosts.address(server.slot),
                "OS-EXT-IPS:type": "floating",
              },
            ],
          };
    return {
      id: server.id,
      name: server.name,
      status: server.status,
      "OS-EXT-STS:task_state": server.taskState,
      "OS-EXT-STS:vm_state": server.status === "SHUTOFF" ? "stopped" : server.status.toLowerCase(),
      accessIPv4: "",
      accessIPv6: "",
      addresses,
      created: server.created,
      updated: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      flavor: { original_name: this.options.flavors.find((f) => f.id === server.flavorId)?.name },
      image: { id: server.imageId },
      key_name: server.keyName,
      metadata: server.metadata,
      tenant_id: "6f70656e737461636b20342065766572",
      user_id: "fake",
      links: this.links(server),
      ...(server.fault === undefined ? {} : { fault: server.fault }),
    };
  }

  private links(server: Server): unknown[] {
    return [{ href: `${this.base(server.region)}/servers/${server.id}`, rel: "self" }];
  }
}

/** What an image does on first boot without a key from user_data: a fresh host key. */
export function generateHostKey(): string {
  const dir = mkdtempSync(join(tmpdir(), "fake-hostkey-"));
  try {
    runCheckedSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "key")]);
    return readFileSync(join(dir, "key"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
