// Reads one settings file's text: YAML with positions, schema validation, and the line of every key.

import type { Document, Node } from "yaml";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { OffloadError } from "../errors.js";
import { type ConfigProblem, explainIssues, formatKeyPath, type KeyPath } from "./issues.js";
import { checkSettings, type SettingsFile, settingsFileSchema } from "./schema.js";

export interface ParsedSettingsFile {
  data: SettingsFile;
  /** Line (1-based) of each key and list item, by key path: `host`, `env.FOO`, `upload[0]`, `targets.gpu`. */
  lines: Record<string, number>;
}

type Position = { line: number; col: number };

function keyName(node: unknown): string | undefined {
  return isScalar(node) ? String(node.value) : undefined;
}

function startOf(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

/** The offset of the node at `path`, or of its nearest ancestor that exists. */
function locate(doc: Document, path: KeyPath, atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyName(item.key) === String(segment));
      if (pair === undefined) return offset;
      if (last && atKey) return startOf(pair.key) ?? offset;
      offset = startOf(pair.value) ?? startOf(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      offset = startOf(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function collectLines(
  node: unknown,
  prefix: KeyPath,
  counter: LineCounter,
  lines: Record<string, number>,
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyName(pair.key);
      const start = startOf(pair.key);
      if (key === undefined || start === undefined) continue;
      const path = [...prefix, key];
      lines[formatKeyPath(path)] = counter.linePos(start).line;
      collectLines(pair.value, path, counter, lines);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      const start = startOf(item);
      const path = [...prefix, index];
      if (start !== undefined) lines[formatKeyPath(path)] = counter.linePos(start).line;
      collectLines(item, path, counter, lines);
    });
  }
}

function formatProblem(label: string, at: Position, problem: ConfigProblem): string {
  const key = formatKeyPath(problem.path);
  return `${label}:${at.line}:${at.col}: ${key === "" ? "" : `${key}: `}${problem.message}`;
}

/**
 * Parses and validates settings text. `label` names the file in messages (`offload.yaml`,
 * `~/.config/offload/config.yaml`). Throws one OffloadError listing every problem, first one's hint.
 */
export function parseSettingsText(text: string, label: string): ParsedSettingsFile {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const at = syntax.linePos?.[0] ?? { line: 1, col: 1 };
    const what =
      syntax.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? syntax.code;
    throw new OffloadError("E_CONFIG_SYNTAX", `${label}:${at.line}:${at.col}: ${what}`, {
      hint: `${label} is not valid YAML here:\n${syntax.message.split("\n").slice(1).join("\n").trimEnd()}`,
    });
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = checkSettings(raw);
  if (!result.success) {
    const problems = explainIssues(result.error.issues, raw, settingsFileSchema())
      .map((problem) => ({
        problem,
        at: counter.linePos(locate(doc, problem.path, problem.atKey)),
      }))
      .sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col);
    const [first] = problems;
    if (first === undefined) throw new Error("zod reported failure without issues");
    const message = problems.map(({ problem, at }) => formatProblem(label, at, problem)).join("\n");
    throw new OffloadError(
      first.problem.code,
      message,
      first.problem.hint === undefined ? {} : { hint: first.problem.hint },
    );
  }
  const lines: Record<string, number> = {};
  collectLines(doc.contents, [], counter, lines);
  return { data: result.data, lines };
}
