// The Provider contract every cloud implements (SkyPilot's and dstack's contracts are the anchors).

/** What offload asks a cloud for; names (flavor, image) are resolved to ids by the provider. */
export interface MachineSpec {
  /** The provider's machine type: a Nova flavor, a GCP machine type, a Lambda instance type. */
  flavor: string;
  image: string;
  /** Where to create it; a provider with several tries the next on a capacity error. */
  region?: string;
  /** OpenStack: a network name or id, `auto` or `none`. */
  network?: string;
  /** A key pair already registered with the cloud (Nova key_name). */
  keyName?: string;
  /** cloud-init user data (plain text; the provider encodes it as its API wants). */
  userData?: string;
  /** Human-readable name; the tag stays the identity. */
  name?: string;
  /** offload's login key, for clouds that take it outside user data (GCP `ssh-keys`, Lambda's keys). */
  login?: { user: string; publicKey: string };
}

/** pending: being built; terminating: delete accepted, not yet gone; gone: the cloud no longer has it. */
export type MachineState = "pending" | "running" | "stopped" | "terminating" | "gone" | "error";

export interface MachineAddresses {
  /** Addresses the cloud marks public (floating, NAT, accessIPv4, `ip`), whatever their range. */
  public: string[];
  /** Addresses of the machine's own interfaces (fixed, networkIP, private_ip). */
  private: string[];
}

export interface MachineDescription {
  id: string;
  state: MachineState;
  /** The cloud's own word for the state (ACTIVE, BUILD, SHUTOFF…), for people. */
  rawState: string;
  addresses: MachineAddresses;
  /** Why the cloud put it in error (Nova's fault.message, a GCP operation error). */
  fault?: string;
  /** The capacity fault of an async failure ("No valid host"): the caller moves to the next region. */
  faultIsCapacity?: boolean;
  /** The account's quota refused it (a GCP insert Operation's QUOTA_EXCEEDED). */
  faultIsQuota?: boolean;
  tag?: string;
  region?: string;
  /** ISO time the cloud says it was created. */
  created?: string;
}

export interface Provider {
  /** `openstack`, `gcp`, `lambda`, `command`. */
  readonly kind: string;
  /** Regions (GCP: zones) to try in order (the target's `region:` list). */
  readonly regions: readonly string[];
  /**
   * How a new machine's host key becomes trusted: `user-data` (offload generates it and passes it in
   * cloud-init, the default) or `first-use` (a cloud without user data, Lambda: the first key the new
   * machine shows is accepted once, recorded in the ledger, and pinned afterwards).
   */
  readonly hostKeys?: "user-data" | "first-use";
  /** The cloud's live price of a machine type in USD per hour, where it publishes one (Lambda). */
  pricePerHour?(flavor: string): Promise<number | undefined>;
  /**
   * Asks for a machine carrying `tag` and returns its id at once, without waiting for it to run.
   * Throws ProviderError (capacity, quota, auth, rate limit, transient); a transient error may
   * still have created the machine ("answered 500 but created"): look for the tag with list().
   */
  create(spec: MachineSpec, tag: string): Promise<string>;
  /** The machine now; state `gone` when the cloud answers "not found". */
  describe(id: string, region?: string): Promise<MachineDescription>;
  /** Machines carrying `tag`, or every machine offload made when `tag` is undefined. */
  list(tag?: string): Promise<MachineDescription[]>;
  /** Idempotent: "not found" is success, "not yet" (a conflict, a 5xx) is retried within bounds. */
  terminate(id: string, region?: string): Promise<void>;
  /** Present where the cloud can stop a machine and keep its disk (not Lambda). */
  stop?(id: string, region?: string): Promise<void>;
  start?(id: string, region?: string): Promise<void>;
}
