import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { quoteArgv, quoteRemotePath, quoteShell } from "../../src/shell/quote.js";

const HOSTILE = [
  "",
  "plain",
  "with space",
  "it's",
  `"double"`,
  "$(touch /tmp/offload-pwned)",
  "`id`",
  "new\nline",
  "-rf",
  "--help",
  "tab\there",
  "ünïcødé ✓ 日本",
  "back\\slash",
  "semi;colon|pipe&amp",
  "*?[glob]",
  "~tilde",
  "'",
  "''",
  "\\'",
];

function echoThroughShell(word: string): string {
  return execFileSync("sh", ["-c", `printf '%s' ${word}`], { encoding: "utf8" });
}

describe("quoteShell", () => {
  it.each(HOSTILE)("round-trips %j through a real POSIX shell", (value) => {
    expect(echoThroughShell(quoteShell(value))).toBe(value);
  });

  it("keeps every word of an argv apart", () => {
    const out = execFileSync(
      "sh",
      ["-c", `for a in ${quoteArgv(HOSTILE)}; do printf '<%s>' "$a"; done`],
      { encoding: "utf8" },
    );
    expect(out).toBe(HOSTILE.map((word) => `<${word}>`).join(""));
  });
});

describe("quoteRemotePath", () => {
  it("expands a leading ~/ to the remote home and nothing else", () => {
    const run = (path: string) =>
      execFileSync("sh", ["-c", `printf '%s' ${quoteRemotePath(path)}`], {
        encoding: "utf8",
        env: { ...process.env, HOME: "/home/u x" },
      });
    expect(run("~/work dir/$x")).toBe("/home/u x/work dir/$x");
    expect(run("~")).toBe("/home/u x");
    expect(run("/abs/~/x")).toBe("/abs/~/x");
    expect(run("rel/'q'")).toBe("rel/'q'");
  });
});
