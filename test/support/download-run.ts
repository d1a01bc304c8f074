// The run the download tests share: a job on `local` that writes out.txt, and a rule that fetches it.
import { type CliOptions, type CliResult, runCli } from "./cli.js";
import type { TempProject } from "./project.js";

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
