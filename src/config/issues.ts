// Turns zod's validation issues into problems a person can fix: key path, plain message, hint.
import type { z } from "zod";
import { suggestKey } from "./suggest.js";

export type KeyPath = readonly (string | number)[];

export interface ConfigProblem {
  code: "E_CONFIG_KEY" | "E_CONFIG_VALUE";
  /** Where the problem is; for an unknown key, the path of that key. */
  path: KeyPath;
  /** True when `path` names a key to point at rather than a value. */
  atKey: boolean;
  message: string;
  hint?: string;
}

/** `download[2]`, `targets.gpu.env.FOO`: how key paths read in messages and in the provenance map. */
export function formatKeyPath(path: KeyPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text;
}

// People coming from `mltk ssh` write its names; point them at ours.
const MLTK_NAMES: Record<string, string> = {
  environment: "env",
  upload_files: "upload",
  download_files: "download",
  startup_cmds: "startup",
  shutdown_cmds: "shutdown",
  config_path: "ssh.config_file",
};

function valueAt(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value === "number" ? "the number" : "the value"} ${String(value)}`;
}

interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      innerType?: SchemaNode;
      valueType?: SchemaNode;
      element?: SchemaNode;
      options?: SchemaNode[];
    };
  };
}

/** The keys an object in the schema accepts at `path`, for "did you mean". */
export function listKnownKeys(schema: z.ZodType, path: KeyPath): string[] {
  let nodes: SchemaNode[] = [schema as unknown as SchemaNode];
  const unwrap = (node: SchemaNode): SchemaNode[] => {
    const def = node._zod.def;
    if (def.innerType) return unwrap(def.innerType);
    if (def.options) return def.options.flatMap(unwrap);
    return [node];
  };
  for (const segment of path) {
    nodes = nodes.flatMap(unwrap).flatMap((node): SchemaNode[] => {
      const def = node._zod.def;
      if (def.type === "object" && typeof segment === "string" && def.shape?.[segment])
        return [def.shape[segment]];
      if (def.type === "record" && def.valueType) return [def.valueType];
      if (def.type === "array" && def.element && typeof segment === "number") return [def.element];
      return [];
    });
  }
  return nodes.flatMap(unwrap).flatMap((node) => Object.keys(node._zod.def.shape ?? {}));
}

/**
 * A section given as something other than a map (`ssh: 5`, `slurm: yes`): zod's own words ("Invalid
 * input: expected object, received number") said it with no hint; this names the keys it takes.
 */
function notAMap(schema: z.ZodType, path: KeyPath, value: unknown): ConfigProblem {
  const known = listKnownKeys(schema, path);
  const problem: ConfigProblem = {
    code: "E_CONFIG_VALUE",
    path,
    atKey: false,
    message: `expected a map of settings (\`key: value\` lines below it), got ${describeValue(value)}`,
  };
  if (known.length > 0)
    problem.hint = `\`${formatKeyPath(path)}:\` takes these keys, each on its own indented line: ${known.join(", ")}`;
  return problem;
}

/** zod's own words for a wrong type ("Invalid input: expected number, received string") in ours. */
function plainExpected(message: string, expected: string): string {
  if (!message.startsWith("Invalid input:")) return message;
  const words: Record<string, string> = {
    number: "expected a number",
    int: "expected a whole number",
    string: "expected text",
    boolean: "expected true or false",
    array: "expected a list",
  };
  return words[expected] ?? message;
}

/** zod's "Too small: expected array to have >=1 items" in ours; a schema's own message stays. */
function plainTooSmall(issue: z.core.$ZodIssueTooSmall): string {
  if (!issue.message.startsWith("Too small:")) return issue.message;
  const least = Number(issue.minimum);
  if (issue.origin === "array") return `expected at least ${least} item${least === 1 ? "" : "s"}`;
  if (issue.origin === "string" && least === 1) return "expected a non-empty value";
  if (issue.origin === "number")
    return issue.inclusive ? `expected ${least} or more` : `expected more than ${least}`;
  return issue.message;
}

/** A number too small: the least value the key takes, written as the file would (`usd: 1`). */
function smallestExample(issue: z.core.$ZodIssueTooSmall, path: KeyPath): string {
  const least = Number(issue.minimum);
  const example = issue.inclusive ? least : Math.floor(least) + 1;
  const key = path.at(-1);
  const line = typeof key === "string" ? `${key}: ${example}` : String(example);
  return `Write a number ${issue.inclusive ? `of ${least} or more` : `above ${least}`}, such as \`${line}\`.`;
}

function explainIssue(
  issue: z.core.$ZodIssue,
  prefix: KeyPath,
  data: unknown,
  schema: z.ZodType,
): ConfigProblem[] {
  const path = [...prefix, ...(issue.path as (string | number)[])];
  const value = valueAt(data, path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const known = listKnownKeys(schema, path);
        const guess = Object.hasOwn(MLTK_NAMES, key) ? MLTK_NAMES[key] : suggestKey(key, known);
        return {
          code: "E_CONFIG_KEY",
          path: [...path, key],
          atKey: true,
          message: `unknown key \`${key}\``,
          hint:
            guess !== undefined
              ? `did you mean \`${guess}\`?`
              : `known keys here: ${known.join(", ")}`,
        };
      });
    case "invalid_union": {
      // The branch that got furthest (the value had the right shape, a field inside was wrong) explains best.
      const deepest = issue.errors
        .map((branch) => ({ branch, depth: Math.max(...branch.map((inner) => inner.path.length)) }))
        .sort((a, b) => b.depth - a.depth)[0];
      if (deepest !== undefined && deepest.depth > 0) {
        return deepest.branch.flatMap((inner) => explainIssue(inner, path, data, schema));
      }
      return [
        {
          code: "E_CONFIG_VALUE",
          path,
          atKey: false,
          message: `${issue.message}, got ${describeValue(value)}`,
        },
      ];
    }
    case "invalid_key":
      return [
        {
          code: "E_CONFIG_KEY",
          path,
          atKey: true,
          message: issue.issues[0]?.message ?? issue.message,
        },
      ];
    case "invalid_type":
      if (value === undefined) {
        return [
          {
            code: "E_CONFIG_VALUE",
            path: path.slice(0, -1),
            atKey: false,
            message: `missing required key \`${String(path.at(-1))}\``,
          },
        ];
      }
      // The file itself keeps its own message (NOT_A_MAP in schema.ts).
      if (issue.expected === "object" && path.length > 0) return [notAMap(schema, path, value)];
      return [
        {
          code: "E_CONFIG_VALUE",
          path,
          atKey: false,
          message: `${plainExpected(issue.message, issue.expected)}, got ${describeValue(value)}`,
        },
      ];
    case "too_small": {
      const problem: ConfigProblem = {
        code: "E_CONFIG_VALUE",
        path,
        atKey: false,
        message: `${plainTooSmall(issue)}, got ${describeValue(value)}`,
      };
      if (issue.origin === "number") problem.hint = smallestExample(issue, path);
      return [problem];
    }
    case "invalid_format":
      return [
        {
          code: "E_CONFIG_VALUE",
          path,
          atKey: false,
          message: `${issue.message}, got ${describeValue(value)}`,
        },
      ];
    case "custom": {
      const hint = (issue.params as { hint?: unknown } | undefined)?.hint;
      const problem: ConfigProblem = {
        code: "E_CONFIG_VALUE",
        path,
        atKey: false,
        message: issue.message,
      };
      if (typeof hint === "string") problem.hint = hint;
      return [problem];
    }
    case "invalid_value":
      return [
        {
          code: "E_CONFIG_VALUE",
          path,
          atKey: false,
          message: `${issue.message}, got ${describeValue(value)}`,
        },
      ];
    default:
      return [{ code: "E_CONFIG_VALUE", path, atKey: false, message: issue.message }];
  }
}

/** All problems in `issues`, in the order zod found them. */
export function explainIssues(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  schema: z.ZodType,
): ConfigProblem[] {
  return issues.flatMap((issue) => explainIssue(issue, [], data, schema));
}
