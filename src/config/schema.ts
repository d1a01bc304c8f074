// The shape of offload.yaml and the user settings file: one zod schema, also published as JSON Schema.
// Its parts: the values (schema-values), the transfers (schema-transfers), what a target sets
// (schema-target), progress patterns (schema-progress). Every schema is built on first use.

import { progressSchema } from "./schema-progress.js";
import { targetFields, targetSchema } from "./schema-target.js";
import { sweepSchema } from "./sweep.js";
import { buildShape, lazySchema, z } from "./zod.js";

export { targetSchema } from "./schema-target.js";
export { ENV_NAME } from "./schema-values.js";

export const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Each top-level key's schema, built by its own function (see targetFields). */
const settingsFields = {
  name: () =>
    z
      .string({ error: "expected a project name" })
      .regex(PROJECT_NAME, { error: "a project name is letters, digits, `.`, `_` and `-`" })
      .optional(),
  ...targetFields,
  progress: () => progressSchema().optional(),
  sweep: () => sweepSchema().optional(),
  targets: () =>
    z
      .record(
        z
          .string()
          .regex(TARGET_NAME, { error: "a target name is letters, digits, `.`, `_` and `-`" })
          .refine((name) => name !== "local", {
            error: "`local` is the built-in local target; pick another name",
          }),
        targetSchema(),
      )
      .optional(),
};

const NOT_A_MAP = { error: "expected a map of settings (`key: value` lines)" };

export const settingsFileSchema = lazySchema(() =>
  z.strictObject(buildShape(settingsFields), NOT_A_MAP),
);

/** What one settings file (or the CLI) says, after validation. */
export type SettingsFile = z.output<ReturnType<typeof settingsFileSchema>>;
export type TargetSettings = z.output<ReturnType<typeof targetSchema>>;
/** Alias kept short for callers: the CLI passes a `Partial<Settings>`. */
export type Settings = SettingsFile;

/** The schema of only the keys `raw` has, when it is a map of known keys; else undefined. */
function schemaOfKeys(raw: unknown): z.ZodType | undefined {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const fields: Record<string, () => z.ZodType> = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(settingsFields, key)) return undefined;
    fields[key] = settingsFields[key as keyof typeof settingsFields];
  }
  return z.strictObject(buildShape(fields), NOT_A_MAP);
}

/**
 * Checks settings against the schemas of the keys they have (the command line's two or three build
 * a few schemas, not all of offload.yaml's). What fails is checked again by the whole schema, so a
 * problem is reported in the same words and order whichever keys were there.
 */
export function checkSettings(raw: unknown): z.ZodSafeParseResult<SettingsFile> {
  const result = schemaOfKeys(raw)?.safeParse(raw);
  if (result?.success) return result as z.ZodSafeParseResult<SettingsFile>;
  return settingsFileSchema().safeParse(raw);
}

/** The JSON Schema of offload.yaml that `offload schema` prints, for editor completion. */
export function toJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(settingsFileSchema(), { io: "input", unrepresentable: "any" }),
    title: "offload.yaml",
    description:
      "Settings of offload: project (offload.yaml) or user ($XDG_CONFIG_HOME/offload/config.yaml)",
  };
}
