import ignore from "ignore";
import { describe, expect, it } from "vitest";
import { DEFAULT_IGNORES, DEFAULT_MATCHER } from "../../src/sync/default-ignores.js";

// The scan used `ignore().add(DEFAULT_IGNORES)` for the defaults; the matcher that replaced it must give
// the same verdict on every path, or a file would be uploaded (or left out) that was not before.
const reference = ignore({ allowRelativePaths: true }).add(DEFAULT_IGNORES);

/** Each default's name, in other cases, as look-alikes, at the top and deeper, as a file and a dir. */
function corpus(): string[] {
  const names = DEFAULT_IGNORES.flatMap((pattern) => {
    const name = pattern.replace(/\/$/, "").replace(/^\*/, "x");
    return [
      name,
      name.toUpperCase(),
      name.toLowerCase(),
      `${name}x`,
      `x${name}`,
      `${name}.bak`,
      name.replace(/k/gi, "\u212a"), // the Kelvin sign, which folds to k only under Unicode rules
      name.replace(/s/gi, "\u017f"), // long s, which upper-cases to S
    ];
  });
  const odd = [
    ".pyc",
    "a.PYC",
    "pyc",
    ".pycx",
    "...",
    "..x",
    "a b",
    "é.pyc",
    "train.py",
    "envs",
    "v",
  ];
  const segments = [...new Set([...names, ...odd])];
  const paths: string[] = [];
  for (const a of segments) {
    paths.push(a, `${a}/`, `src/${a}`, `src/${a}/`, `${a}/main.py`, `${a}/sub/`, `deep/er/${a}/x`);
    for (const b of ["venv", ".git", "m.pyc", "ok"]) paths.push(`${a}/${b}`, `${a}/${b}/`);
  }
  return paths;
}

describe("DEFAULT_MATCHER", () => {
  it("gives the ignore package's verdict on each default, its look-alikes and their paths", () => {
    const paths = corpus();
    const differ = paths.filter(
      (path) => JSON.stringify(DEFAULT_MATCHER.test(path)) !== JSON.stringify(verdict(path)),
    );
    expect(differ).toEqual([]);
    // The corpus holds both verdicts, or the comparison would prove nothing.
    expect(paths.filter((path) => verdict(path).ignored).length).toBeGreaterThan(100);
    expect(paths.filter((path) => !verdict(path).ignored).length).toBeGreaterThan(100);
  });
});

function verdict(path: string): { ignored: boolean; unignored: boolean } {
  const { ignored, unignored } = reference.test(path);
  return { ignored, unignored };
}
