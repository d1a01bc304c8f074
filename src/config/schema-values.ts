// The values offload.yaml's keys hold, each a zod schema with the words an error points at: host
// strings, the remote dir, env, lists, seconds, retry.

import { isOffloadError } from "../errors.js";
import { durationSchema } from "./duration.js";
import { parseHost } from "./host.js";
import { lazySchema, z } from "./zod.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const hostString = lazySchema(() =>
  z
    .string({ error: "expected a host string such as `user@host:22/dir`" })
    .superRefine((text, ctx) => {
      try {
        parseHost(text);
      } catch (error) {
        if (!isOffloadError(error)) throw error;
        ctx.addIssue({ code: "custom", message: error.message, params: { hint: error.hint } });
      }
    })
    .meta({ description: "`[user@]host[:port][/path]`, an ssh alias, a target name, or `local`" }),
);

export const remoteDir = lazySchema(() =>
  z
    .string({ error: "expected a directory path" })
    .min(1, { error: "expected a directory path, got an empty string" })
    .refine((text) => !CONTROL.test(text), {
      error: "a directory may not contain control characters",
    })
    .meta({ description: "Remote working directory; relative paths are under the remote home" }),
);

export const envSchema = lazySchema(() =>
  z
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
    }),
);

export const retrySchema = lazySchema(() =>
  z.strictObject({
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
    backoff: durationSchema()
      .optional()
      .meta({ description: "Wait before each retry (default 30s)" }),
  }),
);

export const stringList = (what: string) =>
  z.array(
    z
      .string({ error: `expected ${what}` })
      .min(1, { error: `expected ${what}, got an empty string` }),
    {
      error: `expected a list of ${what}s`,
    },
  );

export const seconds = lazySchema(() =>
  z
    .number({ error: "expected a number of seconds" })
    .positive({ error: "expected more than 0 seconds" }),
);
