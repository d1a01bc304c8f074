// Makes run ids (their form: id.ts).
import { randomBytes } from "node:crypto";

/** The ids this process has made: the runs of a sweep or of a job across hosts start within the same
 * millisecond, where two random characters alone collide once in 1,296 pairs (one record then overwrote
 * another). */
const issued = new Set<string>();

export function createRunId(now: Date = new Date()): string {
  for (;;) {
    const id = makeRunId(now);
    if (issued.has(id)) continue;
    issued.add(id);
    return id;
  }
}

function makeRunId(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  // The suffix starts with the milliseconds in base 36 (two characters, "00" to "rr"), so runs
  // started within one second still sort by start: "the latest run" is the one started last. Two
  // random characters follow. Digits sort before letters in ASCII, as base 36 needs.
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  const millis = now.getUTCMilliseconds().toString(36).padStart(2, "0");
  const random = [...randomBytes(2)].map((byte) => alphabet[byte % alphabet.length]).join("");
  return `${date}-${time}-${millis}${random}`;
}
