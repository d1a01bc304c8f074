// The import rules of ARCHITECTURE.md are checked by dependency-cruiser; this proves the check bites.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "offload-arch-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cruise(architecture?: string): Promise<{ code: number; out: string }> {
  const env = { ...process.env };
  if (architecture !== undefined) env.OFFLOAD_ARCHITECTURE_MD = architecture;
  const bin = join(root, "node_modules", ".bin", "depcruise");
  const args = ["src", "--config", ".dependency-cruiser.cjs", "--output-type", "err"];
  try {
    const { stdout } = await run(bin, args, { cwd: root, env });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, out: failed.stdout };
  }
}

describe("ARCHITECTURE.md import rules", () => {
  it("hold for the code as it is", async () => {
    const { code, out } = await cruise();
    expect(out).toContain("no dependency violations");
    expect(code).toBe(0);
  });

  it("fail the check when the map forbids an import the code makes", async () => {
    const text = await readFile(join(root, "ARCHITECTURE.md"), "utf8");
    // session imports sync (the sync phase of a run); take that permission away.
    const row = text.split("\n").find((line) => line.startsWith("| `src/session/`"));
    expect(row).toBeDefined();
    const edited = text.replace(row as string, (row as string).replace("`sync` ", ""));
    expect(edited).not.toBe(text);
    const file = join(dir, "ARCHITECTURE.md");
    await writeFile(file, edited);
    const { code, out } = await cruise(file);
    expect(out).toMatch(/not-in-allowed: src\/session\/\S+ → src\/sync\//);
    expect(code).not.toBe(0);
  });
});
