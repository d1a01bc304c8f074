// Real lines of each framework's output (test/progress/corpus/, sources in its README) through the
// real parser, compared with the events written down for them.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseLogText } from "../../src/progress/stream.js";

const dir = fileURLToPath(new URL("./corpus/", import.meta.url));
const logs = readdirSync(dir).filter((name) => name.endsWith(".log"));

describe("the corpus of real log lines", () => {
  it("has a file for each framework the README promises, each with its sources", () => {
    const readme = readFileSync(`${dir}README.md`, "utf8");
    expect(logs.sort()).toEqual([
      "keras1.log",
      "key-value.log",
      "lightning.log",
      "pytorch-examples.log",
      "tqdm.log",
      "transformers.log",
      "ultralytics.log",
    ]);
    for (const log of logs) expect(readme).toContain(`\`${log}\``);
  });

  it.each(logs)("reads %s as written down in its .expected.json", (log) => {
    const text = readFileSync(`${dir}${log}`, "utf8");
    const expected: unknown = JSON.parse(
      readFileSync(`${dir}${log.replace(/\.log$/, ".expected.json")}`, "utf8"),
    );
    expect(parseLogText(text)).toEqual(expected);
  });
});
