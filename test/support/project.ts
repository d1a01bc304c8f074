// Temp projects for end-to-end tests: a copy of an example (or files given inline) in a fresh directory.
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunRecord } from "../../src/runs/record.js";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

export interface TempProject {
  dir: string;
  /** A HOME for the local target, so ~/.offload/work lands in the temp dir too. */
  home: string;
  write(path: string, content: string | Uint8Array): Promise<void>;
  runIds(): Promise<string[]>;
  record(id: string): Promise<RunRecord>;
  localLog(id: string): Promise<Buffer>;
  remove(): Promise<void>;
}

export async function makeProject(example?: string): Promise<TempProject> {
  const base = await mkdtemp(join(tmpdir(), "offload-e2e-"));
  const dir = join(base, "project");
  const home = join(base, "home");
  await mkdir(home, { recursive: true });
  await mkdir(dir, { recursive: true });
  if (example) await copyTracked(join(REPO, "examples", example), dir);
  const runsDir = join(dir, ".offload", "runs");
  return {
    dir,
    home,
    async write(path, content) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    },
    runIds: async () => (await readdir(runsDir).catch(() => [] as string[])).sort(),
    record: async (id) =>
      JSON.parse(await readFile(join(runsDir, id, "run.json"), "utf8")) as RunRecord,
    localLog: (id) => readFile(join(runsDir, id, "output.log")),
    remove: () => rm(base, { recursive: true, force: true }),
  };
}

/**
 * Copies the files git tracks under `source`, and nothing else: the README's first command runs the
 * quickstart in the repo tree, and the `.offload/` store, outputs and caches such a run leaves there
 * must never reach a test. Outside a git checkout, everything but those known leftovers is copied.
 */
export async function copyTracked(source: string, dest: string): Promise<void> {
  const files = trackedFiles(source);
  if (files === undefined) {
    await cp(source, dest, {
      recursive: true,
      filter: (path) => !isRunLeftover(relative(source, path)),
    });
    return;
  }
  if (files.length === 0)
    throw new Error(`git tracks no file under ${source}: \`git add\` it first`);
  for (const file of files) await cp(join(source, file), join(dest, file));
}

function trackedFiles(dir: string): string[] | undefined {
  try {
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--", "."], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return listed.split("\0").filter((file) => file !== "");
  } catch {
    return undefined;
  }
}

const RUN_LEFTOVERS = new Set([".offload", "outputs", "__pycache__"]);

function isRunLeftover(path: string): boolean {
  return path.split(/[\\/]/).some((part) => RUN_LEFTOVERS.has(part));
}
