// The shape of offload.yaml and the user settings file: one zod schema, also published as JSON Schema.
// Its parts: the values (schema-values), the transfers (schema-transfers), what a target sets
// (schema-target), progress patterns (schema-progress).

import { progressSchema } from "./schema-progress.js";
import { targetSchema, targetShape } from "./schema-target.js";
import { sweepSchema } from "./sweep.js";
import { z } from "./zod.js";

export { targetSchema } from "./schema-target.js";
export { ENV_NAME } from "./schema-values.js";

export const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

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
