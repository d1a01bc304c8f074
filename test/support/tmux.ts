// A real terminal for tests that read what a person sees: offload runs inside a detached tmux session
// (its own server socket, so only that server is ever killed) and the screen is read with
// capture-pane until the run has printed its exit code.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ENTRY = fileURLToPath(new URL("./entry.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;

/** Whether tmux is installed; prints why the caller's tests are skipped when it is not. */
export function detectTmux(label: string): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    process.stderr.write(`[${label}] skipping: no tmux on this machine\n`);
    return false;
  }
}

export type Terminal = {
  /** Runs `offload <args>` in `cwd`, calling `onScreen` on each capture; returns the last screen. */
  runOffload(cwd: string, args: string[], onScreen: (screen: string) => void): Promise<string>;
  /** Kills this terminal's tmux server (and only it). */
  close(): void;
};

export function openTerminal(name: string): Terminal {
  const socket = `offload-${name}-${process.pid}`;
  const tmux = (...args: string[]) =>
    execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  return {
    async runOffload(cwd, args, onScreen) {
      const command = [process.execPath, "--import", TSX, ENTRY, ...args].map(quote).join(" ");
      // The shell stays after the run, so the screen can still be read when it has ended.
      const script = `cd ${quote(cwd)} && ${command}; echo "exit=$?"; sleep 600`;
      tmux("new-session", "-d", "-x", "150", "-y", "40", "sh", "-c", script);
      let screen = "";
      while (!/^exit=\d+$/m.test(screen)) {
        screen = tmux("capture-pane", "-p");
        onScreen(screen);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return screen;
    },
    close() {
      execFileSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
    },
  };
}
