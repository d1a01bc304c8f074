// The shape a run.json must have to be trusted (zod): a record is read from disk, where anyone may edit it.
import * as z from "zod";
import { RUN_ID_PATTERN } from "./id.js";

// zod compiles an object schema into a function on its first parse (`new Function`): that pays only
// after many parses, and a command parses a few values once (10 ms of a warm run, profiled).
z.config({ jitless: true });

import type { RunStatus } from "./record.js";

const STATUSES = [
  "launching",
  "running",
  "succeeded",
  "failed",
  "stopped",
  "lost",
  "error",
] as const satisfies readonly RunStatus[];
// A status added to RunStatus but not here would make every such record read as damaged: fail the build.
const everyStatusListed: [Exclude<RunStatus, (typeof STATUSES)[number]>] extends [never]
  ? true
  : never = true;
void everyStatusListed;

const every = { every: z.number().positive().optional() };
const downloadEntry = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("glob"), pattern: z.string(), ...every }),
  z.object({ kind: z.literal("map"), remote: z.string(), local: z.string(), ...every }),
  z.object({ kind: z.literal("fallback"), from: z.array(z.string()), to: z.string(), ...every }),
]);
/** A download rule as the record keeps it: the same forms as sync's `DownloadEntry`, owned by the record. */
export type RecordedDownload = z.infer<typeof downloadEntry>;

// Loose objects: fields this version does not know (written by a newer offload) are kept, not dropped.
export const runRecordSchema = z.looseObject({
  version: z.literal(1),
  id: z.string().regex(RUN_ID_PATTERN, { error: "not a run id" }),
  command: z.array(z.string()),
  name: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  target: z.looseObject({
    label: z.string(),
    name: z.string().optional(),
    kind: z.enum(["ssh", "local"]),
    host: z.string().optional(),
    user: z.string().optional(),
    port: z.number().int().optional(),
    sshConfig: z.string().optional(),
    machine: z.string().optional(),
    remoteDir: z.string().min(1),
  }),
  status: z.enum(STATUSES),
  exitCode: z.number().int().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  phases: z.record(z.string(), z.number()),
  workdir: z.string().optional(),
  envNames: z.array(z.string()),
  remote: z
    .looseObject({ launcherPid: z.number().int().optional(), realDir: z.string().optional() })
    .optional(),
  group: z
    .looseObject({
      id: z.string().regex(RUN_ID_PATTERN, { error: "not a run id" }),
      node: z.number().int().nonnegative(),
      nodes: z.array(z.string()),
    })
    .optional(),
  slurm: z
    .looseObject({
      jobId: z.string().regex(/^[0-9]+(?:[_+][0-9]+)?$/, { error: "not a Slurm job id" }),
      state: z.string().optional(),
      reason: z.string().optional(),
      nodes: z.string().optional(),
    })
    .optional(),
  download: z.array(downloadEntry),
  stopRequested: z.boolean().optional(),
  artifacts: z.array(z.string()),
  mappedFiles: z.array(z.string()),
  outputsPending: z.boolean().optional(),
  results: z
    .looseObject({
      url: z.string(),
      endpoint: z.string().optional(),
      region: z.string().optional(),
      objects: z.array(
        z.looseObject({
          path: z.string(),
          key: z.string(),
          size: z.number().int().nonnegative(),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
        }),
      ),
    })
    .optional(),
  logBytes: z.number().int().nonnegative(),
  error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
});

/** Why `data` is not a usable run record (one line), or undefined when it is. */
export function findRecordProblem(data: unknown): string | undefined {
  const result = runRecordSchema.safeParse(data);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  if (!issue) return "not a run record";
  const where = issue.path.length > 0 ? issue.path.join(".") : "the record";
  return `${where}: ${issue.message}`;
}
