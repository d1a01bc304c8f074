// Starts the real `offload ui` in a project, as a user would, and reads the address it prints.
import { runCli } from "./cli.js";
import { waitFor } from "./wait.js";

export interface RunningUi {
  /** As printed: `http://127.0.0.1:PORT/?token=…`. */
  url: string;
  origin: string;
  token: string;
  /** Ends the server (SIGTERM) and waits for its exit. */
  stop: () => Promise<void>;
}

/** `offload ui ...args` in `cwd`, until `stop`; throws (after stopping it) when it prints no URL. */
export async function startUi(
  cwd: string,
  args: readonly string[] = [],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunningUi> {
  let printed = "";
  let pid: number | undefined;
  const done = runCli(["ui", ...args], {
    cwd,
    ...(options.env ? { env: options.env } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    onSpawn: (spawned) => {
      pid = spawned;
    },
    onStdout: (text) => {
      printed += text;
    },
  });
  const stop = async () => {
    if (pid !== undefined) process.kill(pid, "SIGTERM");
    await done;
  };
  await waitFor(() => printed.includes("\n"), 300);
  const url = /offload ui: (http:\/\/127\.0\.0\.1:[0-9]+\/\?token=[A-Za-z0-9_-]+)/.exec(
    printed,
  )?.[1];
  if (url === undefined) {
    await stop();
    throw new Error(`offload ui printed no URL: ${printed}`);
  }
  const parsed = new URL(url);
  return { url, origin: parsed.origin, token: parsed.searchParams.get("token") ?? "", stop };
}
