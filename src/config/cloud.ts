// The cloud fields of a target (`cloud: openstack` and what the machine is made of, what it may cost,
// how long it lives): a target with `cloud:` names a machine offload creates instead of a host.
import { type ProviderOptions, providerOptionsOf, providerShape } from "./cloud-providers.js";
import { durationSchema } from "./duration.js";
import { lazySchema, z } from "./zod.js";

/** Only in `targets:`; `cloud:` makes the target a machine offload creates and deletes. */
export const cloudShape = lazySchema(() => {
  const duration = durationSchema();
  // The check's own words: the type's error would otherwise say "expected an amount" of -3, too.
  const usd = z
    .number({ error: "expected an amount in US dollars" })
    .positive({ error: "expected an amount in US dollars above 0" });
  return {
    cloud: z
      .string({ error: "expected a cloud provider: openstack, gcp, lambda or command" })
      .min(1)
      .optional()
      .meta({ description: "Create a machine in this cloud for each run (openstack, …)" }),
    flavor: z.string().min(1).optional().meta({ description: "The cloud's machine type" }),
    image: z.string().min(1).optional(),
    user: z.string().min(1).optional().meta({ description: "The image's login user" }),
    network: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "OpenStack: a network name, or auto" }),
    region: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
        error: "expected a region or a list of regions",
      })
      .optional()
      .meta({ description: "Regions tried in order when one has no capacity" }),
    price_per_hour: usd.optional().meta({ description: "USD an hour (else the price table's)" }),
    max_price_per_hour: usd.optional().meta({ description: "Refuse a machine that costs more" }),
    keep: z.boolean({ error: "expected true or false" }).optional(),
    idle_stop: duration.optional().meta({ description: "A kept machine stops after this idle" }),
    budget: z
      .strictObject({ usd })
      .optional()
      .meta({ description: "The run stops and the machine goes before this is spent" }),
    max_duration: duration
      .optional()
      .meta({ description: "The machine goes after this long, whatever the run does" }),
    create_timeout: duration.optional().meta({
      description:
        "How long a new machine may take to run with an address (default 15m); then it is deleted",
    }),
    ssh_timeout: duration.optional().meta({
      description:
        "How long a running machine's sshd may take to answer (default 5m); then it is deleted",
    }),
    dead_man: z
      .strictObject({
        after: duration.optional(),
        command: z.string().min(1).optional(),
      })
      .optional()
      .meta({
        description:
          "The machine powers itself off this long after offload last followed it (default 30m; command default `shutdown -h now`)",
      }),
    setup: z
      .array(z.string({ error: "expected a shell command" }), {
        error: "expected a list of commands",
      })
      .optional()
      .meta({ description: "Commands run once per machine, before the environment" }),
    ...providerShape(),
  };
});

/** A cloud target as a run uses it (durations in seconds). */
export interface CloudTarget {
  cloud: string;
  flavor: string;
  image: string;
  user: string;
  network?: string;
  regions: string[];
  pricePerHour?: number;
  maxPricePerHour?: number;
  keep: boolean;
  idleStopSeconds?: number;
  budgetUsd?: number;
  maxDurationSeconds?: number;
  deadManSeconds?: number;
  deadManCommand?: string;
  /** Waits while the machine is made (create_timeout) and until its sshd answers (ssh_timeout). */
  createTimeoutSeconds?: number;
  sshTimeoutSeconds?: number;
  setup: string[];
  /** The provider's own section (`gcp:`, `lambda:`, `command:`). */
  providerOptions?: ProviderOptions;
}

type CloudFields = {
  [K in keyof ReturnType<typeof cloudShape>]?: z.output<ReturnType<typeof cloudShape>[K]>;
};

/** The target's cloud fields as a CloudTarget; undefined for a target without `cloud:`. */
export function toCloudTarget(fields: CloudFields): CloudTarget | undefined {
  if (fields.cloud === undefined) return undefined;
  const region = fields.region;
  const target: CloudTarget = {
    cloud: fields.cloud,
    flavor: fields.flavor ?? "",
    image: fields.image ?? "",
    user: fields.user ?? "root",
    regions: region === undefined ? [] : typeof region === "string" ? [region] : region,
    keep: fields.keep ?? false,
    setup: fields.setup ?? [],
  };
  if (fields.network !== undefined) target.network = fields.network;
  if (fields.price_per_hour !== undefined) target.pricePerHour = fields.price_per_hour;
  if (fields.max_price_per_hour !== undefined) target.maxPricePerHour = fields.max_price_per_hour;
  if (fields.idle_stop !== undefined) target.idleStopSeconds = fields.idle_stop;
  if (fields.budget !== undefined) target.budgetUsd = fields.budget.usd;
  if (fields.max_duration !== undefined) target.maxDurationSeconds = fields.max_duration;
  if (fields.dead_man?.after !== undefined) target.deadManSeconds = fields.dead_man.after;
  if (fields.dead_man?.command !== undefined) target.deadManCommand = fields.dead_man.command;
  if (fields.create_timeout !== undefined) target.createTimeoutSeconds = fields.create_timeout;
  if (fields.ssh_timeout !== undefined) target.sshTimeoutSeconds = fields.ssh_timeout;
  const options = providerOptionsOf(fields.cloud, fields);
  if (options !== undefined) target.providerOptions = options;
  return target;
}
