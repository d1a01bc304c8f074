// What a target may set (every key but `name`, `progress`, `sweep` and `targets`), and a target:
// a host, or a machine offload creates in a cloud.

import { cloudShape } from "./cloud.js";
import { isValidForwardSpec } from "./forward-spec.js";
import {
  checkpointDownload,
  fallbackDownload,
  inputEntry,
  resultsSchema,
  transferString,
} from "./schema-transfers.js";
import {
  envSchema,
  hostString,
  remoteDir,
  retrySchema,
  seconds,
  stringList,
} from "./schema-values.js";
import { slurmSchema } from "./slurm.js";
import { buildShape, lazySchema, z } from "./zod.js";

// One sentence for every wrong value (0 too): zod's own "Too small: expected number to be >=1" says less.
const MACHINE_METRICS = {
  error: "expected seconds between machine samples (1 to 3600), or false",
} as const;

/**
 * Everything a target may set, each key's schema built by its own function (on first use: see
 * lazySchema); the top level adds `name`, `progress`, `sweep` and `targets`.
 */
export const targetFields = {
  host: () => hostString().optional(),
  remote_dir: () => remoteDir().optional(),
  env: () => envSchema().optional(),
  upload: () =>
    z
      .array(transferString("upload"), { error: "expected a list of paths" })
      .optional()
      .meta({ description: "Extra uploads: a glob relative to the project, or `local|remote`" }),
  download: () =>
    z
      .array(
        z.union([transferString("download"), fallbackDownload(), checkpointDownload()], {
          error: "expected a string, {from, to} or {path, every}",
        }),
        {
          error: "expected a list of paths",
        },
      )
      .optional()
      .meta({
        description:
          "A glob relative to the remote dir, `remote|local`, {from: [candidates], to}, or {path, every: 5m} (also fetched while the job runs)",
      }),
  results: () => resultsSchema().optional(),
  inputs: () =>
    z.array(inputEntry(), { error: "expected a list of `s3://bucket/key|dest`" }).optional().meta({
      description:
        "Objects the remote machine fetches before the job starts (cached there by ETag): `s3://bucket/key|dest`",
    }),
  storage: () =>
    z
      .strictObject({
        endpoint: z
          .string({ error: "expected a URL" })
          // An S3 API speaks HTTP: ftp:// or s3:// here passed the check and failed at the first request.
          .url({
            protocol: /^https?$/,
            error:
              "expected an http:// or https:// URL such as https://<account>.r2.cloudflarestorage.com",
          })
          .optional()
          .meta({ description: "An S3-compatible endpoint (R2, MinIO); path-style addressing" }),
        region: z.string({ error: "expected a region name" }).min(1).optional(),
      })
      .optional(),
  retry: () => retrySchema().optional(),
  ignore: () => stringList("a gitignore pattern").optional(),
  startup: () => stringList("a shell command").optional(),
  shutdown: () => stringList("a shell command").optional(),
  sync: () =>
    z
      .strictObject({
        tool: z
          .enum(["auto", "rsync", "tar"], { error: "expected one of auto, rsync, tar" })
          .optional(),
      })
      .optional(),
  ssh: () =>
    z
      .strictObject({
        config_file: z.string({ error: "expected a file path" }).min(1).optional(),
        connect_timeout: seconds().optional(),
        keepalive: seconds().optional().meta({
          description:
            "Seconds between keepalives; a link silent for 3 of them counts as lost (default 5)",
        }),
      })
      .optional(),
  reconnect: () => z.strictObject({ timeout: seconds().optional() }).optional(),
  stop: () =>
    z
      .strictObject({
        grace: z
          .number({ error: "expected a number of seconds" })
          .int({ error: "expected a whole number of seconds" })
          .min(0, { error: "expected 0 or more seconds" })
          .optional()
          .meta({
            description:
              "Seconds between TERM and KILL when a run is stopped (Ctrl+C, `offload stop`, --force), so a job can save a checkpoint (default 10)",
          }),
      })
      .optional(),
  python: () =>
    z
      .strictObject({
        requirements: z.string({ error: "expected a file path" }).min(1).optional(),
        interpreter: z.string({ error: "expected a program name or path" }).min(1).optional(),
        system_site_packages: z.boolean({ error: "expected true or false" }).optional(),
      })
      .optional(),
  machine_metrics: () =>
    z
      .union(
        [z.number().int().min(1, MACHINE_METRICS).max(3600, MACHINE_METRICS), z.literal(false)],
        {
          error: MACHINE_METRICS.error,
        },
      )
      .optional()
      .meta({
        description:
          "Seconds between samples of the host's CPU, memory, disk and GPUs while a job runs, or false for none (default 5)",
      }),
  gpus: () =>
    z
      .number({ error: "expected a number of GPUs" })
      .int({ error: "expected a whole number" })
      .min(0)
      .optional(),
  forward: () =>
    z
      .array(
        z
          .union([z.number(), z.string()], { error: "expected a port, or PORT:LOCAL" })
          .transform(String)
          .refine(isValidForwardSpec, {
            error: "expected a port, or PORT:LOCAL (e.g. 6006 or 8080:18080)",
          }),
        { error: "expected a list of ports" },
      )
      .optional()
      .meta({
        description:
          "Ports on the host's 127.0.0.1 forwarded to this machine while a run is followed (PORT or PORT:LOCAL)",
      }),
  slurm: () => slurmSchema().optional(),
  nodes: () =>
    z
      .union(
        [
          z
            .array(hostString(), { error: "expected a list of hosts" })
            .min(2, { error: "a job across nodes needs 2 or more hosts" }),
          // On a cloud target: that many machines, made and deleted together.
          z
            .int({ error: "expected a list of hosts, or a number of machines" })
            .min(2, { error: "a job across nodes needs 2 or more machines" }),
        ],
        { error: "expected a list of hosts, or (on a cloud target) a number of machines" },
      )
      .optional()
      .meta({
        description:
          "Run one job across these hosts (targets, aliases or host strings), or N machines of a cloud target, one rank per node with torchrun's env",
      }),
};

export const targetSchema = lazySchema(() =>
  z
    .strictObject({
      ...buildShape(targetFields),
      ...cloudShape(),
      host: hostString().optional(),
    })
    .superRefine((target, ctx) => {
      // A target is a host, or a machine offload creates in a cloud: never both, never neither.
      if ((target.host === undefined) === (target.cloud === undefined)) {
        ctx.addIssue({
          code: "custom",
          message:
            target.host === undefined
              ? "a target needs `host:` (a machine you have) or `cloud:` (one offload creates)"
              : "a target has `host:` or `cloud:`, not both",
          params: { hint: "e.g. `host: user@gpu-box` or `cloud: openstack` with flavor and image" },
        });
      }
    }),
);
