// Run ids: sortable by start time, short enough to type, safe in paths and shell words.
import { randomBytes } from "node:crypto";

export function createRunId(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const suffix = [...randomBytes(4)].map((byte) => alphabet[byte % alphabet.length]).join("");
  return `${date}-${time}-${suffix}`;
}

/** What createRunId makes: the only names the store treats as runs, so an id is safe in a path or a shell word. */
export const RUN_ID_PATTERN = /^[0-9]{8}-[0-9]{6}-[a-z0-9]{4}$/;

export function isRunId(text: string): boolean {
  return RUN_ID_PATTERN.test(text);
}
