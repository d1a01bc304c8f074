// A target's `slurm:` block: the job is submitted with sbatch at the target (a cluster's login node)
// instead of started there. Each field becomes an `#SBATCH` line of the generated batch script.
import { lazySchema, z } from "./zod.js";

const count = (what: string) =>
  z
    .number({ error: `expected a number of ${what}` })
    .int({ error: "expected a whole number" })
    .min(1, { error: `expected 1 or more ${what}` });

/** One word on an `#SBATCH` line: sbatch splits at blanks and a line break would end it. */
const word = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .regex(/^\S+$/, { error: `expected ${what} as one word (no blanks)` });

export const slurmSchema = lazySchema(() =>
  z
    .strictObject({
      partition: word("a partition name").optional(),
      account: word("an account name").optional(),
      nodes: count("nodes").optional(),
      gpus_per_node: z
        .number({ error: "expected a number of GPUs" })
        .int({ error: "expected a whole number" })
        .min(0)
        .optional(),
      ntasks_per_node: count("tasks").optional(),
      cpus_per_task: count("CPUs").optional(),
      time: z
        .union([z.number().int().positive(), word("a time limit such as 30 or 2:00:00")], {
          error: "expected a time limit such as 30 (minutes) or 2:00:00",
        })
        .transform(String)
        .optional(),
      job_name: word("a job name").optional(),
      directives: z
        .array(z.string().regex(/^[^\r\n]+$/, { error: "expected one line" }), {
          error: "expected a list of `#SBATCH` lines",
        })
        .optional()
        .meta({ description: "The batch script's own lines: `--mem=16G` or `#SBATCH --mem=16G`" }),
      args: z
        .array(z.string(), { error: "expected a list of sbatch arguments" })
        .optional()
        .meta({ description: "More sbatch arguments (they win over every #SBATCH line)" }),
    })
    .meta({
      description:
        "Run on a Slurm cluster: the host is its login node; the job is submitted with sbatch",
    }),
);

/** The `slurm:` settings in effect (camelCase), as the run hands them to the Slurm backend. */
export interface SlurmSettings {
  partition?: string;
  account?: string;
  nodes?: number;
  gpusPerNode?: number;
  ntasksPerNode?: number;
  cpusPerTask?: number;
  time?: string;
  jobName?: string;
  directives?: string[];
  extraArgs?: string[];
}

export function toSlurmSettings(data: z.output<ReturnType<typeof slurmSchema>>): SlurmSettings {
  const settings: SlurmSettings = {};
  if (data.partition !== undefined) settings.partition = data.partition;
  if (data.account !== undefined) settings.account = data.account;
  if (data.nodes !== undefined) settings.nodes = data.nodes;
  if (data.gpus_per_node !== undefined) settings.gpusPerNode = data.gpus_per_node;
  if (data.ntasks_per_node !== undefined) settings.ntasksPerNode = data.ntasks_per_node;
  if (data.cpus_per_task !== undefined) settings.cpusPerTask = data.cpus_per_task;
  if (data.time !== undefined) settings.time = data.time;
  if (data.job_name !== undefined) settings.jobName = data.job_name;
  if (data.directives !== undefined) settings.directives = data.directives;
  if (data.args !== undefined) settings.extraArgs = data.args;
  return settings;
}
