// Mistakes in a sweep's grid are refused before any host is reached or any run is recorded.
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

interface UsageCase {
  name: string;
  /** What follows `offload sweep --host local`. */
  args: string[];
  code: number;
  says: string[];
  never?: string[];
  /** A refusal records no run. */
  noRuns?: boolean;
}

const cases: UsageCase[] = [
  {
    name: "refuses a {name} no --param sets with exit 2, before any run",
    args: ["--param", "a=1,2", "--", "echo", "{zz}"],
    code: 2,
    says: [
      "error E_USAGE: The command names {zz}, which no --param sets.",
      "hint: Add `--param zz=…`",
    ],
    never: ["sweep of"],
    noRuns: true,
  },
  {
    name: "refuses a --param given twice instead of keeping the last silently",
    args: ["--param", "a=1", "--param", "a=2", "--", "echo", "{a}"],
    code: 2,
    says: ["error E_USAGE: --param a is given twice.", "`--param a=1,2`"],
    noRuns: true,
  },
  {
    name: "says `1 run`, not `1 runs`",
    args: ["--param", "a=1", "--", "echo", "{a}"],
    code: 0,
    says: ["sweep of 1 run over local"],
  },
];

describe("offload sweep usage", () => {
  for (const { name, args, code, says, never = [], noRuns } of cases)
    it(name, async () => {
      project = await makeProject();
      const result = await runInProject(project, ["sweep", "--host", "local", ...args]);
      expect(result.code, result.stderr).toBe(code);
      for (const text of says) expect(result.stderr).toContain(text);
      for (const text of never) expect(result.stderr).not.toContain(text);
      if (noRuns) expect(await project.runIds()).toEqual([]);
    });
});

it("-e KEY=VALUE reaches every run of the sweep, as it does a run's", async () => {
  project = await makeProject();
  const result = await runInProject(project, [
    "sweep",
    "--host",
    "local",
    "-e",
    "GREETING=hello there",
    "--param",
    "a=1,2",
    "--",
    'echo "$GREETING" {a}',
  ]);
  expect(result.code, result.stderr).toBe(0);
  const logs = await Promise.all((await project.runIds()).map((id) => project?.localLog(id)));
  expect(logs.map((log) => log?.toString().trim()).sort()).toEqual([
    "hello there 1",
    "hello there 2",
  ]);
});
