// The status line as a person sees it: `offload run` on a real terminal (tmux) trains the quickstart
// example on a test-bed host, and the screen is read with capture-pane while the run goes on.
import { afterEach, expect, it } from "vitest";
import { makeProject, type TempProject } from "../support/project.js";
import { detectTmux, openTerminal, type Terminal } from "../support/tmux.js";
import { describeWithHosts } from "../testbed/index.js";

const TMUX = detectTmux("status-line-tmux");

let project: TempProject | undefined;
let terminal: Terminal | undefined;
afterEach(async () => {
  terminal?.close();
  terminal = undefined;
  await project?.remove();
  project = undefined;
});

describeWithHosts(1, "the status line on a terminal", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";

  it.skipIf(!TMUX)(
    "shows epoch, percent, a rate and ETA from epoch timing, and the metrics in the log's order",
    async () => {
      project = await makeProject("quickstart");
      terminal = openTerminal("status");
      // Every status line seen while the run goes on.
      const statusLines = new Set<string>();
      const screen = await terminal.runOffload(
        project.dir,
        [
          "run",
          "--ssh-config",
          bed.sshConfig,
          "--host",
          `${host}/offload-e2e-tmux-${process.pid}`,
          "--",
          "python3",
          "train.py",
          "--epochs",
          "20",
        ],
        (seen) => {
          for (const line of seen.split("\n"))
            if (/^epoch \d+\/20 /.test(line)) statusLines.add(line.trimEnd());
        },
      );
      expect(screen).toMatch(/^exit=0$/m);
      const timed = [...statusLines].filter((line) => line.includes("/epoch"));
      expect(timed.length).toBeGreaterThan(0);
      for (const line of timed)
        expect(line).toMatch(
          // The host's load closes the line once the machine sampler's first sample is home.
          /^epoch \d+\/20 {2}[█░]{12} \d+% {2}\d+\.\d+s\/epoch {2}ETA \d+:\d\d {2}loss \S+ {2}accuracy \S+( {2}(CPU|GPU) \d+%)?$/,
        );
      // Cleared at the end: the last screen has the log and the final line, no status line.
      expect(screen.split("\n").filter((line) => /^epoch \d+\/20 {2}/.test(line))).toEqual([]);
    },
  );
});
