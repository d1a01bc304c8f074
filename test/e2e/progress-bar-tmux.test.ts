// The bar of a long copy as a person sees it: `offload run` on a real terminal (tmux) brings a 100 MB
// output home from a test-bed host, and the screen is read with capture-pane while it does.
import { execFileSync } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { makeProject, type TempProject } from "../support/project.js";
import { detectTmux, openTerminal, type Terminal } from "../support/tmux.js";
import { describeWithHosts } from "../testbed/index.js";

const TMUX = detectTmux("progress-bar-tmux");

let project: TempProject | undefined;
let terminal: Terminal | undefined;
afterEach(async () => {
  terminal?.close();
  terminal = undefined;
  await project?.remove();
  project = undefined;
});

describeWithHosts(1, "the bar of a long copy on a terminal", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const remote = `/root/offload-e2e-bar-${process.pid}`;

  it.skipIf(!TMUX)(
    "shows percent, bytes, rate and ETA while a big output comes home, and is gone after",
    async () => {
      project = await makeProject();
      await project.write("a.txt", "a\n");
      terminal = openTerminal("bar");
      const bars = new Set<string>();
      const screen = await terminal.runOffload(
        project.dir,
        [
          "run",
          "--ssh-config",
          bed.sshConfig,
          "--host",
          `${host}/${remote}`,
          "--download",
          "out/*",
          "--",
          "sh -c 'mkdir -p out && head -c 400000000 /dev/urandom > out/big.bin && echo made'",
        ],
        (seen) => {
          for (const line of seen.split("\n"))
            if (line.startsWith("downloading")) bars.add(line.trimEnd());
        },
      );
      execFileSync("ssh", ["-F", bed.sshConfig, host, `rm -rf ${remote}`]);
      expect(screen).toMatch(/^exit=0$/m);
      expect(bars.size).toBeGreaterThan(0);
      // A bar with an ETA: the copy was seen under way, not only once done.
      expect([...bars].some((line) => / · ETA \d+:\d\d$/.test(line))).toBe(true);
      for (const line of bars)
        expect(line).toMatch(
          /^downloading [█░]{24} \d+% · [\d.]+ (B|KiB|MiB) · [\d.]+ (KiB|MiB|GiB)\/s( · ETA \d+:\d\d)?$/,
        );
      // Cleared once done: the screen keeps the outcome line, not the bar.
      expect(screen).toContain("downloaded 1 file");
      expect(screen).not.toContain("downloading");
    },
  );
});
