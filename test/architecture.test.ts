// The import rules of ARCHITECTURE.md are checked by dependency-cruiser; this proves the check bites.

import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
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

async function cruise(
  architecture?: string,
  tree: string = root,
): Promise<{ code: number; out: string }> {
  const env = { ...process.env };
  if (architecture !== undefined) env.OFFLOAD_ARCHITECTURE_MD = architecture;
  const bin = join(root, "node_modules", ".bin", "depcruise");
  const args = ["src", "--config", ".dependency-cruiser.cjs", "--output-type", "err"];
  try {
    const { stdout } = await run(bin, args, { cwd: tree, env });
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

  it("fail the check when the code makes an import the map forbids (transport → config)", async () => {
    // A copy of the tree, so the checked-in code never holds the bad import, even for a moment.
    const tree = join(dir, "tree");
    for (const name of ["src", "tsconfig.json", ".dependency-cruiser.cjs", "ARCHITECTURE.md"])
      await cp(join(root, name), join(tree, name), { recursive: true });
    await symlink(join(root, "node_modules"), join(tree, "node_modules"));
    await writeFile(
      join(tree, "src/transport/reads-settings.ts"),
      'import { loadSettings } from "../config/load.js";\nexport const load = loadSettings;\n',
    );
    const { code, out } = await cruise(undefined, tree);
    expect(out).toMatch(
      /not-in-allowed: src\/transport\/reads-settings\.ts → src\/config\/load\.ts/,
    );
    expect(code).not.toBe(0);
  });
});
