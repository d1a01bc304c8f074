// This machine's `tar --version` is kept by program file: asked once (a real process, counted here),
// then read back, asked again when the program is replaced or the kept file is damaged.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readLocalVersion } from "../../src/transport/local-version.js";

let dir: string;
let bin: string;
const calls = () => readFileSync(join(dir, "calls"), "utf8").length;

/** A `tar` of our own first in PATH: it counts its runs and says what GNU tar says. */
function installTar(version: string): void {
  writeFileSync(
    join(bin, "tar"),
    `#!/bin/sh\nprintf x >> '${join(dir, "calls")}'\necho 'tar (GNU tar) ${version}'\n`,
  );
  chmodSync(join(bin, "tar"), 0o755);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload-versions-"));
  bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(dir, "calls"), "");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("readLocalVersion", () => {
  it("asks once, then reads the kept answer until the program is replaced", async () => {
    installTar("1.34");
    const path = `${bin}:${process.env.PATH ?? ""}`;
    expect(await readLocalVersion("tar", { path, dir })).toContain("GNU tar) 1.34");
    expect(await readLocalVersion("tar", { path, dir })).toContain("GNU tar) 1.34");
    expect(calls()).toBe(1);
    // A new install (another file, another size): asked again.
    rmSync(join(bin, "tar"));
    installTar("1.35.1");
    expect(await readLocalVersion("tar", { path, dir })).toContain("GNU tar) 1.35.1");
    expect(calls()).toBe(2);
    // Another tar first in PATH: its own answer.
    expect(await readLocalVersion("tar", { path: process.env.PATH ?? "", dir })).toMatch(/tar/);
    expect(calls()).toBe(2);
  });

  it("asks again where the kept file is damaged or of another shape, and keeps nothing without a dir", async () => {
    installTar("1.34");
    const path = `${bin}:${process.env.PATH ?? ""}`;
    for (const damaged of ["{ not json", "null", '{"tar":null}', '{"tar":{"key":1}}']) {
      writeFileSync(join(dir, "local-versions.json"), damaged);
      expect(await readLocalVersion("tar", { path, dir })).toContain("GNU tar) 1.34");
    }
    expect(calls()).toBe(4);
    await readLocalVersion("tar", { path });
    await readLocalVersion("tar", { path });
    expect(calls()).toBe(6);
  });
});
