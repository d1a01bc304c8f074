// The shape of offload.yaml and the user settings file: one zod schema, also published as JSON Schema.

import * as z from "zod";
import { isOffloadError } from "../errors.js";
import { cloudShape } from "./cloud.js";
import { durationSchema } from "./duration.js";
import { isValidForwardSpec } from "./forward-spec.js";
import { parseHost } from "./host.js";
import { slurmSchema } from "./slurm.js";
import { sweepSchema } from "./sweep.js";
import { checkTransferString } from "./transfer-entries.js";

// zod compiles an object schema into a function on its first parse (`new Function`): that pays only
// after many parses, and a command parses a few values once (10 ms of a warm run, profiled).
z.config({ jitless: true });

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const hostString = z
  .string({ error: "expected a host string such as `user@host:22/dir`" })
  .superRefine((text, ctx) => {
    try {
      parseHost(text);
    } catch (error) {
      if (!isOffloadError(error)) throw error;
      ctx.addIssue({ code: "custom", message: error.message, params: { hint: error.hint } });
    }
  })
  .meta({ description: "`[user@]host[:port][/path]`, an ssh alias, a target name, or `local`" });

const remoteDir = z
  .string({ error: "expected a directory path" })
  .min(1, { error: "expected a directory path, got an empty string" })
  .refine((text) => !CONTROL.test(text), {
    error: "a directory may not contain control characters",
  })
  .meta({ description: "Remote working directory; relative paths are under the remote home" });

const envSchema = z
  .union(
    [
      z.record(
        z
          .string()
          .regex(ENV_NAME, { error: "an environment variable name is letters, digits and `_`" }),
        z.union([z.string(), z.number(), z.boolean()], {
          error: "expected a string, number or boolean",
        }),
      ),
      z.array(
        z
          .string({ error: "expected `NAME=value`" })
          .regex(/^[A-Za-z_][A-Za-z0-9_]*=/, { error: "expected `NAME=value`" }),
      ),
    ],
    { error: "expected a map of `NAME: value` or a list of `NAME=value`" },
  )
  .meta({
    description: "Environment variables for the remote command: a map, or a list of NAME=value",
  });

function transferString(direction: "upload" | "download") {
  return z.string({ error: "expected a path" }).superRefine((text, ctx) => {
    const why = checkTransferString(text, direction);
    if (why !== undefined) ctx.addIssue({ code: "custom", message: why });
  });
}

const fallbackDownload = z.strictObject({
  every: durationSchema.optional(),
  from: z
    .array(z.string().min(1, { error: "expected a remote path" }), {
      error: "expected a list of remote paths",
    })
    .min(1, { error: "expected at least one remote path" }),
  to: z.string({ error: "expected a local path" }).min(1, { error: "expected a local path" }),
});

/** `{path, every}`: a glob or `remote|local` rule that is also fetched while the job runs. */
const checkpointDownload = z.strictObject({
  path: transferString("download"),
  every: durationSchema,
});

// The bucket's own rules are checked where it is used (storage/); here only its form, to point at the line.
const BUCKET_URL = /^(s3|gs):\/\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](\/.*)?$/;
const bucketUrl = z
  .string({ error: "expected a bucket URL such as s3://bucket/prefix/" })
  .regex(BUCKET_URL, {
    error: "expected a bucket URL such as s3://bucket/prefix/ or gs://bucket/",
  });

const resultsSchema = z
  .union([bucketUrl, z.strictObject({ url: bucketUrl, every: durationSchema.optional() })], {
    error: "expected a bucket URL, or {url, every}",
  })
  .meta({
    description:
      "Bucket folder the download rules' matches go to from the remote machine, under <prefix>/<run id>/; `every` pushes them while the job runs",
  });

/** `s3://bucket/key|dest`, `s3://bucket/key -> dest`, or `{from, to}`. */
const inputEntry = z.union(
  [
    z
      .string({ error: "expected `s3://bucket/key|dest`" })
      .regex(/^(s3|gs):\/\/[^/]+\/[^|]*[^/|\s](\s*(\||->|→)\s*.*)?$/, {
        error: "expected `s3://bucket/key|dest` (the object, then where it goes in the remote dir)",
      }),
    z.strictObject({
      from: bucketUrl,
      to: z.string({ error: "expected a path in the remote dir" }).optional(),
    }),
  ],
  { error: "expected `s3://bucket/key|dest` or {from, to}" },
);

const retrySchema = z.strictObject({
  attempts: z
    .number({ error: "expected a number of attempts" })
    .int({ error: "expected a whole number" })
    .min(1, { error: "expected 1 or more attempts (1: no retry)" })
    .max(100, { error: "expected at most 100 attempts" })
    .optional()
    .meta({ description: "Tries in all, the first included (default 1: no retry)" }),
  on: z
    .array(z.enum(["failed", "lost"], { error: "expected failed or lost" }), {
      error: "expected a list: [failed, lost]",
    })
    .optional()
    .meta({ description: "What is retried: failed (non-zero exit), lost (host unreachable)" }),
  backoff: durationSchema.optional().meta({ description: "Wait before each retry (default 30s)" }),
});

const stringList = (what: string) =>
  z.array(
    z
      .string({ error: `expected ${what}` })
      .min(1, { error: `expected ${what}, got an empty string` }),
    {
      error: `expected a list of ${what}s`,
    },
  );

const seconds = z
  .number({ error: "expected a number of seconds" })
  .positive({ error: "expected more than 0 seconds" });

/** Everything a target may set; the top level adds `name` and `targets`. */
const targetShape = {
  host: hostString.optional(),
  remote_dir: remoteDir.optional(),
  env: envSchema.optional(),
  upload: z
    .array(transferString("upload"), { error: "expected a list of paths" })
    .optional()
    .meta({ description: "Extra uploads: a glob relative to the project, or `local|remote`" }),
  download: z
    .array(
      z.union([transferString("download"), fallbackDownload, checkpointDownload], {
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
  results: resultsSchema.optional(),
  inputs: z
    .array(inputEntry, { error: "expected a list of `s3://bucket/key|dest`" })
    .optional()
    .meta({
      description:
        "Objects the remote machine fetches before the job starts (cached there by ETag): `s3://bucket/key|dest`",
    }),
  storage: z
    .strictObject({
      endpoint: z
        .string({ error: "expected a URL" })
        .url({ error: "expected a URL such as https://<account>.r2.cloudflarestorage.com" })
        .optional()
        .meta({ description: "An S3-compatible endpoint (R2, MinIO); path-style addressing" }),
      region: z.string({ error: "expected a region name" }).min(1).optional(),
    })
    .optional(),
  retry: retrySchema.optional(),
  ignore: stringList("a gitignore pattern").optional(),
  startup: stringList("a shell command").optional(),
  shutdown: stringList("a shell command").optional(),
  sync: z
    .strictObject({
      tool: z
        .enum(["auto", "rsync", "tar"], { error: "expected one of auto, rsync, tar" })
        .optional(),
    })
    .optional(),
  ssh: z
    .strictObject({
      config_file: z.string({ error: "expected a file path" }).min(1).optional(),
      connect_timeout: seconds.optional(),
      keepalive: seconds.optional().meta({
        description:
          "Seconds between keepalives; a link silent for 3 of them counts as lost (default 5)",
      }),
    })
    .optional(),
  reconnect: z.strictObject({ timeout: seconds.optional() }).optional(),
  stop: z
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
  python: z
    .strictObject({
      requirements: z.string({ error: "expected a file path" }).min(1).optional(),
      interpreter: z.string({ error: "expected a program name or path" }).min(1).optional(),
      system_site_packages: z.boolean({ error: "expected true or false" }).optional(),
    })
    .optional(),
  machine_metrics: z
    .union([z.number().int().min(1).max(3600), z.literal(false)], {
      error: "expected seconds between machine samples (1 to 3600), or false",
    })
    .optional()
    .meta({
      description:
        "Seconds between samples of the host's CPU, memory, disk and GPUs while a job runs, or false for none (default 5)",
    }),
  gpus: z
    .number({ error: "expected a number of GPUs" })
    .int({ error: "expected a whole number" })
    .min(0)
    .optional(),
  forward: z
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
  slurm: slurmSchema.optional(),
  nodes: z
    .union(
      [
        z
          .array(hostString, { error: "expected a list of hosts" })
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

/** A regex with named groups, checked here so a mistake points at its line in offload.yaml. */
const progressPattern = z
  .string({ error: "expected a regular expression" })
  .superRefine((text, ctx) => {
    try {
      new RegExp(text);
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `not a valid regular expression: ${(error as Error).message}`,
        params: { hint: "Use JavaScript regex syntax, e.g. acc=(?<accuracy>[0-9.]+)" },
      });
      return;
    }
    if (!/\(\?<[A-Za-z_$][\w$]*>/.test(text)) {
      ctx.addIssue({
        code: "custom",
        message: "has no named group, so it cannot name a metric",
        params: { hint: "Name each number you want, e.g. acc=(?<accuracy>[0-9.]+)" },
      });
    }
  });

const progressSchema = z.strictObject({
  patterns: z
    .array(progressPattern, { error: "expected a list of regular expressions" })
    .optional()
    .meta({
      description:
        "Regexes run on every log line: each named group is a metric, `epoch`/`epochs`/`step`/`steps`/`percent` groups are progress",
    }),
});

export const targetSchema = z
  .strictObject({
    ...targetShape,
    ...cloudShape,
    host: hostString.optional(),
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
  });

export const settingsFileSchema = z.strictObject(
  {
    name: z
      .string({ error: "expected a project name" })
      .regex(PROJECT_NAME, { error: "a project name is letters, digits, `.`, `_` and `-`" })
      .optional(),
    ...targetShape,
    progress: progressSchema.optional(),
    sweep: sweepSchema.optional(),
    targets: z
      .record(
        z
          .string()
          .regex(TARGET_NAME, { error: "a target name is letters, digits, `.`, `_` and `-`" })
          .refine((name) => name !== "local", {
            error: "`local` is the built-in local target; pick another name",
          }),
        targetSchema,
      )
      .optional(),
  },
  { error: "expected a map of settings (`key: value` lines)" },
);

/** What one settings file (or the CLI) says, after validation. */
export type SettingsFile = z.output<typeof settingsFileSchema>;
export type TargetSettings = z.output<typeof targetSchema>;
/** Alias kept short for callers: the CLI passes a `Partial<Settings>`. */
export type Settings = SettingsFile;

/** The JSON Schema of offload.yaml that `offload schema` prints, for editor completion. */
export function toJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(settingsFileSchema, { io: "input", unrepresentable: "any" }),
    title: "offload.yaml",
    description:
      "Settings of offload: project (offload.yaml) or user ($XDG_CONFIG_HOME/offload/config.yaml)",
  };
}
