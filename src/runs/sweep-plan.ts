// A sweep's plan, `.offload/sweeps/<id>/plan.json`: its grid, command, hosts and the `offload sweep`
// that runs it, written before any of its runs starts. Only runs have records, so without it a grid
// point that never started (its offload killed first) was nowhere: `attach SWEEP` now lists it.
import { mkdir, readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { OffloadError } from "../errors.js";
import { isRunId } from "./id.js";
import { type RunStore, writeFileAtomic } from "./store.js";

export interface SweepPlan {
  sweepId: string;
  command: string[];
  /** Grid point `i` is `grid[i]`, the index its run's remote dir ends with. */
  grid: Record<string, string>[];
  /** The hosts' labels, in the order the sweep was given them. */
  hosts: string[];
  /** The `offload sweep` process: its pid, and its machine/pid/start (session/lock-origin.ts) if known. */
  pid: number;
  origin?: string | undefined;
  startedAt: string;
}

/** The sweep's folder beside `runs/` (a folder under runs/ would read as a damaged run). */
export function sweepDir(store: RunStore, sweepId: string): string {
  // The id comes from a record's tag or a user: only an id offload made becomes a path.
  if (!isRunId(sweepId)) throw new Error(`${JSON.stringify(sweepId)} is not a sweep id`);
  return join(dirname(store.root), "sweeps", sweepId);
}

function planPath(store: RunStore, sweepId: string): string {
  return join(sweepDir(store, sweepId), "plan.json");
}

export async function saveSweepPlan(store: RunStore, plan: SweepPlan): Promise<void> {
  const path = planPath(store, plan.sweepId);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(plan, null, 2)}\n`);
}

/**
 * The plan of a sweep, undefined for one that has none (started by an offload before plans); a plan
 * that cannot be trusted is E_RUN_DAMAGED, as a damaged run.json is.
 */
export async function loadSweepPlan(
  store: RunStore,
  sweepId: string,
): Promise<SweepPlan | undefined> {
  const path = planPath(store, sweepId);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw damaged(sweepId, path, `it cannot be read (${(error as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw damaged(sweepId, path, `it is not valid JSON (${(error as Error).message})`);
  }
  const { findPlanProblem } = await import("./sweep-plan-schema.js");
  const problem = findPlanProblem(data);
  if (problem !== undefined) throw damaged(sweepId, path, `it is not a sweep plan (${problem})`);
  const plan = data as SweepPlan;
  if (plan.sweepId !== sweepId) throw damaged(sweepId, path, `it names sweep ${plan.sweepId}`);
  return plan;
}

/**
 * The sweeps with a plan whose id starts with `prefix`: a sweep killed before its first run was
 * recorded has no run to be found by, only its plan.
 */
export async function findPlannedSweeps(store: RunStore, prefix: string): Promise<string[]> {
  if (prefix === "") return [];
  const root = join(dirname(store.root), "sweeps");
  const ids = (await readdir(root).catch(() => [] as string[])).filter(
    (id) => isRunId(id) && id.startsWith(prefix),
  );
  const planned = await Promise.all(
    ids.map(async (id) =>
      (await readdir(join(root, id)).catch(() => [] as string[])).includes("plan.json")
        ? id
        : undefined,
    ),
  );
  return planned.filter((id) => id !== undefined).sort();
}

/** As a damaged run.json: offload cannot trust it, and says where it is. */
function damaged(sweepId: string, path: string, problem: string): OffloadError {
  return new OffloadError("E_RUN_DAMAGED", `The plan of sweep ${sweepId} is damaged: ${problem}.`, {
    hint: `offload cannot trust it; look at ${path}, or remove it: \`offload attach ${sweepId}\` then shows the sweep's recorded runs only.`,
  });
}
