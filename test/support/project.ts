// Temp projects for end-to-end tests: a copy of an example (or files given inline) in a fresh directory.
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
  if (example) await cp(join(REPO, "examples", example), dir, { recursive: true });
  else await mkdir(dir, { recursive: true });
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
