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
