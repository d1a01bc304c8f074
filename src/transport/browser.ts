// Opens a URL in the user's browser (`--open`): the platform's opener, detached, its output ignored.
import { spawn } from "node:child_process";

export function openInBrowser(url: string): void {
  const opener =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(opener, [url], { stdio: "ignore", detached: true });
  // No opener (a server without a desktop): the URL was printed; that is enough.
  child.on("error", () => {});
  child.unref();
}
