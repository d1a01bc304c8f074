// The Lambda Cloud provider: instance types with live prices and regions with capacity, launch,
// instances, terminate, and offload's login key registered once under ssh-keys. Lambda takes no user
// data and cannot stop a machine: host keys are accepted on first use (see Provider.hostKeys).
import { createHash } from "node:crypto";
import { findAddresses } from "../address.js";
import { isProviderError, ProviderError } from "../errors.js";
import { type HttpAnswer, type HttpRequest, requestJson } from "../http.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "../retry.js";
import type { MachineDescription, MachineSpec, MachineState, Provider } from "../types.js";
import { lambdaError, lambdaErrorCode } from "./errors.js";

export const LAMBDA_BASE_URL = "https://cloud.lambda.ai/api/v1";
/** Lambda has no labels: the instance's name is offload's tag, and offload names start with this. */
const TAG_PREFIX = "offload-";

export interface LambdaOptions {
  apiKey: string;
  baseUrl?: string;
  regions?: readonly string[];
  retry?: RetryPolicy;
}

interface InstanceType {
  instance_type: { name: string; price_cents_per_hour?: number; description?: string };
  regions_with_capacity_available: { name: string; description?: string }[];
}

interface LambdaInstance {
  id: string;
  name?: string | null;
  status?: string;
  ip?: string | null;
  private_ip?: string | null;
  region?: { name?: string };
}

export class LambdaProvider implements Provider {
  readonly kind = "lambda";
  readonly hostKeys = "first-use" as const;
  readonly regions: readonly string[];
  private readonly base: string;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: LambdaOptions) {
    this.regions = options.regions ?? [];
    this.base = (options.baseUrl ?? LAMBDA_BASE_URL).replace(/\/+$/, "");
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** The region is checked against live capacity first: a region without it is a capacity error at once. */
  async create(spec: MachineSpec, tag: string): Promise<string> {
    const type = await this.instanceType(spec.flavor);
    const withCapacity = type.regions_with_capacity_available.map((r) => r.name);
    const region = spec.region ?? withCapacity[0];
    if (region === undefined || !withCapacity.includes(region)) {
      throw new ProviderError(
        "capacity",
        `Lambda has no ${spec.flavor} capacity in ${region ?? "any region"} now (capacity in: ${withCapacity.join(", ") || "none"})`,
        { scope: "region" },
      );
    }
    if (spec.login === undefined)
      throw new ProviderError("config", "a Lambda machine needs offload's login key");
    const keyName = await this.ensureSshKey(spec.login.publicKey);
    const answer = await withRetries(
      () =>
        this.call(
          "/instance-operations/launch",
          {
            method: "POST",
            body: {
              region_name: region,
              instance_type_name: spec.flavor,
              ssh_key_names: [keyName],
              file_system_names: [],
              quantity: 1,
              name: tag,
            },
          },
          `launching ${spec.flavor} in ${region}`,
          [200],
        ),
      this.retry,
      (error): error is ProviderError => isProviderError(error, "rate-limit"),
    );
    const id = (answer.json as { data?: { instance_ids?: string[] } })?.data?.instance_ids?.[0];
    if (typeof id !== "string")
      throw new ProviderError("transient", `Lambda launched in ${region} but gave no instance id`);
    return id;
  }

  async describe(id: string): Promise<MachineDescription> {
    const answer = await this.retrying(() =>
      this.call(`/instances/${encodeURIComponent(id)}`, {}, `reading instance ${id}`, [200, 404]),
    );
    if (answer.status === 404)
      return { id, state: "gone", rawState: "not found", addresses: { public: [], private: [] } };
    return describeInstance((answer.json as { data: LambdaInstance }).data);
  }

  async list(tag?: string): Promise<MachineDescription[]> {
    const answer = await this.retrying(() =>
      this.call("/instances", {}, "listing instances", [200]),
    );
    const instances = (answer.json as { data?: LambdaInstance[] })?.data ?? [];
    return instances
      .filter((i) => (tag === undefined ? (i.name ?? "").startsWith(TAG_PREFIX) : i.name === tag))
      .map(describeInstance);
  }

  /** "Does not exist" is success: the machine is already gone. */
  async terminate(id: string): Promise<void> {
    await this.retrying(async () => {
      try {
        await this.call(
          "/instance-operations/terminate",
          { method: "POST", body: { instance_ids: [id] } },
          `terminating instance ${id}`,
          [200],
        );
      } catch (error) {
        if (
          isProviderError(error) &&
          (error.status === 404 || /object-does-not-exist/.test(error.message))
        )
          return;
        throw error;
      }
    });
  }

  /** The live on-demand price of an instance type, USD per hour. */
  async pricePerHour(flavor: string): Promise<number | undefined> {
    const cents = (await this.instanceType(flavor)).instance_type.price_cents_per_hour;
    return cents === undefined ? undefined : cents / 100;
  }

  private async instanceType(flavor: string): Promise<InstanceType> {
    const answer = await this.retrying(() =>
      this.call("/instance-types", {}, "listing instance types", [200]),
    );
    const types = (answer.json as { data?: Record<string, InstanceType> })?.data ?? {};
    const type = types[flavor];
    if (type === undefined) {
      throw new ProviderError("request", `Lambda has no instance type "${flavor}"`, {
        hint: `instance types: ${Object.keys(types).join(", ") || "none"}`,
      });
    }
    return type;
  }

  /** offload's login key under a name derived from the key itself: registered once, found again after. */
  private async ensureSshKey(publicKey: string): Promise<string> {
    const body = publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
    const name = `offload-${createHash("sha256").update(body).digest("hex").slice(0, 12)}`;
    const answer = await this.retrying(() => this.call("/ssh-keys", {}, "listing ssh keys", [200]));
    const keys = (answer.json as { data?: { name: string }[] })?.data ?? [];
    if (keys.some((k) => k.name === name)) return name;
    await this.retrying(() =>
      this.call(
        "/ssh-keys",
        { method: "POST", body: { name, public_key: body } },
        "registering offload's ssh key",
        [200],
      ),
    );
    return name;
  }

  private retrying<T>(call: () => Promise<T>): Promise<T> {
    return withRetries(call, this.retry);
  }

  private async call(
    path: string,
    request: Pick<HttpRequest, "method" | "body">,
    doing: string,
    ok: readonly number[],
  ): Promise<HttpAnswer> {
    const answer = await requestJson(`${this.base}${path}`, {
      ...request,
      headers: { authorization: `Bearer ${this.options.apiKey}` },
    });
    if (ok.includes(answer.status)) {
      if (answer.status === 404 && lambdaErrorCode(answer) === "") throw lambdaError(answer, doing);
      return answer;
    }
    throw lambdaError(answer, doing);
  }
}

export function stateOf(status: string): MachineState {
  switch (status) {
    case "booting":
      return "pending";
    case "active":
      return "running";
    case "terminating":
      return "terminating";
    case "terminated":
      return "gone";
    default:
      return "error";
  }
}

export function describeInstance(instance: LambdaInstance): MachineDescription {
  const rawState = instance.status ?? "unknown";
  const description: MachineDescription = {
    id: instance.id,
    state: stateOf(rawState),
    rawState,
    addresses: findAddresses(instance),
  };
  if (instance.name) description.tag = instance.name;
  if (instance.region?.name !== undefined) description.region = instance.region.name;
  return description;
}
