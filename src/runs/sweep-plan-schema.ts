// The shape a sweep's plan.json must have to be trusted (zod): loaded only when a plan is read, as
// record-schema.ts is, so the commands that never read one do not build it.
import * as z from "zod";
import { RUN_ID_PATTERN } from "./id.js";
import type { SweepPlan } from "./sweep-plan.js";

z.config({ jitless: true });

const planSchema = z.object({
  sweepId: z.string().regex(RUN_ID_PATTERN),
  command: z.array(z.string()).min(1),
  grid: z.array(z.record(z.string(), z.string())),
  hosts: z.array(z.string()),
  pid: z.number().int().positive(),
  origin: z.string().optional(),
  startedAt: z.string(),
});

// A field added to SweepPlan but not here (or the other way) fails the build.
const same: z.infer<typeof planSchema> extends SweepPlan
  ? SweepPlan extends z.infer<typeof planSchema>
    ? true
    : never
  : never = true;
void same;

/** What is wrong with a parsed plan.json, or undefined when it is a plan. */
export function findPlanProblem(data: unknown): string | undefined {
  const result = planSchema.safeParse(data);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join(".") : "the plan";
  return `${where}: ${issue?.message ?? "not a sweep plan"}`;
}
