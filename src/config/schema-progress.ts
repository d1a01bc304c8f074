// `progress.patterns`: regexes checked where they are written, so a mistake points at its line.
import { lazySchema, z } from "./zod.js";

/** A regex with named groups, checked here so a mistake points at its line in offload.yaml. */
const progressPattern = lazySchema(() =>
  z.string({ error: "expected a regular expression" }).superRefine((text, ctx) => {
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
  }),
);

export const progressSchema = lazySchema(() =>
  z.strictObject({
    patterns: z
      .array(progressPattern(), { error: "expected a list of regular expressions" })
      .optional()
      .meta({
        description:
          "Regexes run on every log line: each named group is a metric, `epoch`/`epochs`/`step`/`steps`/`percent` groups are progress",
      }),
  }),
);
