// The `sweep:` block of offload.yaml: what `offload sweep` runs when its flags don't say — the grid of
// parameters (`--param`), the hosts (`--host a,b`) and the command template (after `--`).
import { lazySchema, z } from "./zod.js";

/** A parameter's name: a `{name}` in the command; `sweep` is the tag that names the sweep itself. */
export const SWEEP_PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A `{name}` in a command word. */
export const SWEEP_PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** What a parameter's value may not hold: it becomes a run's tag, shown on one line (as `--tag`). */
export const SWEEP_VALUE_REFUSED = /\p{Cc}/u;

// YAML reads `1e-3` as a number; it reaches the command as JavaScript writes it (0.001). A value
// quoted in offload.yaml ("1e-3") keeps its spelling.
const value = lazySchema(() =>
  z
    .union([z.string(), z.number(), z.boolean()], {
      error: "expected a value (a string, a number or true/false)",
    })
    .transform(String)
    .refine((text) => text !== "", { error: "expected a value, got an empty string" })
    .refine((text) => !SWEEP_VALUE_REFUSED.test(text), {
      error: "a value is one line, without tabs or other control characters",
    }),
);

const paramName = lazySchema(() =>
  z
    .string()
    .regex(SWEEP_PARAM_NAME, { error: "a parameter name is letters, digits and _" })
    .refine((name) => name !== "sweep", {
      error: "`sweep` is the tag that names the sweep; pick another parameter name",
    }),
);

const command = lazySchema(() =>
  z
    .union(
      [
        z.string().min(1, { error: "expected a command, got an empty string" }),
        z.array(z.string(), { error: "expected the command's words" }).min(1, {
          error: "expected a command of 1 or more words",
        }),
      ],
      { error: "expected a command: one line of shell text, or a list of words" },
    )
    .transform((text) => (typeof text === "string" ? [text] : text)),
);

export const sweepSchema = lazySchema(() =>
  z
    .strictObject({
      params: z
        .record(
          paramName(),
          z
            .union(
              [
                value().transform((v) => [v]),
                z.array(value()).min(1, { error: "expected 1 or more values" }),
              ],
              {
                error: "expected a list of values, e.g. [1e-3, 1e-4]",
              },
            )
            .meta({
              description: "The values of this parameter, one run each (times the others')",
            }),
          { error: "expected a map of parameters to their values, e.g. `lr: [1e-3, 1e-4]`" },
        )
        .optional()
        .meta({
          description: "The grid: each combination of values is a run (`--param NAME=V1,V2`)",
        }),
      hosts: z
        .array(z.string().min(1, { error: "expected a host, got an empty string" }), {
          error: "expected a list of hosts (targets, ssh aliases or host strings)",
        })
        .min(1, { error: "expected 1 or more hosts" })
        .optional()
        .meta({ description: "The hosts the runs are queued over (`--host a,b`)" }),
      command: command().optional().meta({
        description: "The command of each run, `{name}` a parameter's value (the words after `--`)",
      }),
    })
    .superRefine((sweep, ctx) => {
      // A `{name}` no parameter sets would fail every run: say so at its line now.
      if (sweep.params === undefined) return;
      const names = new Set(Object.keys(sweep.params));
      sweep.command?.forEach((word, index) => {
        for (const [whole, name] of word.matchAll(SWEEP_PLACEHOLDER))
          if (name !== undefined && !names.has(name))
            ctx.addIssue({
              code: "custom",
              path: ["command", index],
              message: `names ${whole}, which no parameter in sweep.params sets`,
              params: {
                hint: `Add \`${name}: [...]\` under sweep.params, or write it as a literal.`,
              },
            });
      });
    })
    .meta({
      description:
        "`offload sweep`'s defaults: the grid of parameters, the hosts and the command (its flags win)",
    }),
);

export type SweepFile = z.output<ReturnType<typeof sweepSchema>>;

/** The `sweep:` settings in effect, as `offload sweep` reads them. */
export interface SweepSettings {
  /** Parameter → values, in the file's order (the first varies slowest). */
  params: [string, string[]][];
  hosts?: string[];
  command?: string[];
}

export function toSweepSettings(data: SweepFile): SweepSettings {
  const settings: SweepSettings = { params: Object.entries(data.params ?? {}) };
  if (data.hosts !== undefined) settings.hosts = data.hosts;
  if (data.command !== undefined) settings.command = data.command;
  return settings;
}
