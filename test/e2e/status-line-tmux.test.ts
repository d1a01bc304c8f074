// The status line as a person sees it: `offload run` on a real terminal (tmux) trains the quickstart
// example on a test-bed host, and the screen is read with capture-pane while the run goes on.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

const ENTRY = fileURLToPath(new URL("../support/entry.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const SOCKET = `offload-status-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;

function hasTmux(): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const TMUX = hasTmux();
if (!TMUX) process.stderr.write("[status-line-tmux] skipping: no tmux on this machine\n");

let project: TempProject | undefined;
afterEach(async () => {
  // Only the tmux server this test started, by its own socket name.
  if (TMUX) execFileSync("tmux", ["-L", SOCKET, "kill-server"], { stdio: "ignore" });
  await project?.remove();
  project = undefined;
});

describeWithHosts(1, "the status line on a terminal", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";

  it.skipIf(!TMUX)(
    "shows epoch, percent, a rate and ETA from epoch timing, and the metrics in the log's order",
    async () => {
      project = await makeProject("quickstart");
      const command = [
        process.execPath,
        "--import",
        TSX,
        ENTRY,
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
      ]
        .map(quote)
        .join(" ");
      // The shell stays after the run, so the screen can still be read when it has ended.
      const script = `cd ${quote(project.dir)} && ${command}; echo "exit=$?"; sleep 600`;
      tmux("new-session", "-d", "-x", "150", "-y", "40", "sh", "-c", script);

      // Read the screen until the run has ended; keep every status line seen on the way.
      const statusLines = new Set<string>();
      let screen = "";
      while (!/^exit=\d+$/m.test(screen)) {
        screen = tmux("capture-pane", "-p");
        for (const line of screen.split("\n"))
          if (/^epoch \d+\/20 /.test(line)) statusLines.add(line.trimEnd());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(screen).toMatch(/^exit=0$/m);
      const timed = [...statusLines].filter((line) => line.includes("/epoch"));
      expect(timed.length).toBeGreaterThan(0);
      for (const line of timed)
        expect(line).toMatch(
          /^epoch \d+\/20 {2}[█░]{12} \d+% {2}\d+\.\d+s\/epoch {2}ETA \d+:\d\d {2}loss \S+ {2}accuracy \S+$/,
        );
      // Cleared at the end: the last screen has the log and the final line, no status line.
      expect(screen.split("\n").filter((line) => /^epoch \d+\/20 {2}/.test(line))).toEqual([]);
    },
  );
});
