// The bar of a long copy as a person sees it: `offload run` on a real terminal (tmux) brings a 100 MB
// output home from a test-bed host, and the screen is read with capture-pane while it does.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

const ENTRY = fileURLToPath(new URL("../support/entry.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const SOCKET = `offload-bar-${process.pid}`;
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
if (!TMUX) process.stderr.write("[progress-bar-tmux] skipping: no tmux on this machine\n");

let project: TempProject | undefined;
afterEach(async () => {
  // Only the tmux server this test started, by its own socket name.
  if (TMUX) execFileSync("tmux", ["-L", SOCKET, "kill-server"], { stdio: "ignore" });
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
      const command = [
        process.execPath,
        "--import",
        TSX,
        ENTRY,
        "run",
        "--ssh-config",
        bed.sshConfig,
        "--host",
        `${host}/${remote}`,
        "--download",
        "out/*",
        "--",
        "sh -c 'mkdir -p out && head -c 100000000 /dev/urandom > out/big.bin && echo made'",
      ]
        .map(quote)
        .join(" ");
      const script = `cd ${quote(project.dir)} && ${command}; echo "exit=$?"; sleep 600`;
      tmux("new-session", "-d", "-x", "150", "-y", "40", "sh", "-c", script);

      const bars = new Set<string>();
      let screen = "";
      while (!/^exit=\d+$/m.test(screen)) {
        screen = tmux("capture-pane", "-p");
        for (const line of screen.split("\n"))
          if (line.startsWith("downloading")) bars.add(line.trimEnd());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
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
