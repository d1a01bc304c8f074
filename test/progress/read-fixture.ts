// Reads a log fixture and runs it through the parser the way a run's stream would.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseLogText } from "../../src/progress/stream.js";
import type { ParsedEvent, UserPattern } from "../../src/progress/types.js";

export function readFixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/logs/${name}`, import.meta.url)), "utf8");
}

export function parseFixture(name: string, patterns: UserPattern[] = []): ParsedEvent[] {
  return parseLogText(readFixture(name), { patterns });
}
