// The run the download tests share: a job on `local` that writes out.txt, and a rule that fetches it.
import { type CliOptions, type CliResult, jsonLines, runCli } from "./cli.js";
import type { TempProject } from "./project.js";
import { waitFor } from "./wait.js";

/**
 * `run --host local -- sh -c "echo made > out.txt"` with `download: [out.txt]` in offload.yaml, after
 * `config`'s own lines; `flags` go before `--host`, `options` to the CLI's process (HOME is the project's).
 */
export async function startDownloadRun(
  p: TempProject,
  flags: readonly string[] = [],
  { config = "", options = {} }: { config?: string; options?: Partial<CliOptions> } = {},
): Promise<CliResult> {
  await p.write("offload.yaml", `${config}download:\n  - out.txt\n`);
  const args = ["run", ...flags, "--host", "local", "--", "sh", "-c", "echo made > out.txt"];
  return runCli(args, { cwd: p.dir, ...options, env: { HOME: p.home, ...options.env } });
}

/** A run's row as `ps --json` shows it. */
export interface PsRow {
  id?: string;
  status?: string;
  outputsPending?: boolean;
}

/**
 * Asks `ps --json` (through `ps`, which runs the CLI with those args) until run `id` is no longer
 * running (bounded: 30 s), and returns its row then: how ps recorded a run nobody followed to its end.
 */
export async function psUntilEnded(
  ps: (args: string[]) => Promise<CliResult>,
  id: string,
): Promise<PsRow> {
  let shown: PsRow = {};
  await waitFor(async () => {
    const rows: PsRow[] = jsonLines((await ps(["ps", "--json"])).stdout);
    shown = rows.find((row) => row.id === id) ?? {};
    return shown.status !== "running";
  }, 300);
  return shown;
}
