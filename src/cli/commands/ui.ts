// `offload ui`: the dashboard over this project's runs, on 127.0.0.1 with a token in its URL, until
// Ctrl+C. It follows live runs itself, so the page stays live with no other terminal open.
import type { RunContext } from "../../context.js";
import { createRunContext, createStore } from "../../create.js";
import { createToken } from "../../dashboard/auth.js";
import { startDashboard } from "../../dashboard/server.js";
import { OffloadError } from "../../errors.js";
import { findProjectDir } from "../../project.js";
import type { RunRecord } from "../../runs/record.js";
import { openInBrowser } from "../../transport/browser.js";
import type { Output } from "../render.js";
import { flagsForRecord, load } from "../settings.js";
import { waitForInterrupt } from "../wait-for-interrupt.js";
import { PS_HOST_TIMEOUT_MS } from "./ps.js";
import { readChartAssets } from "./report.js";

export interface UiFlags {
  port?: string;
  open?: boolean;
  sshConfig?: string;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new OffloadError("E_USAGE", `--port ${text} is not a port number.`, {
      hint: "Give a number from 1 to 65535, or leave --port out for any free port.",
    });
  return port;
}

export async function uiAction(out: Output, flags: UiFlags): Promise<number> {
  const port = parsePort(flags.port);
  const projectDir = findProjectDir(process.cwd());
  const { settings } = await load({});
  const store = createStore(projectDir);
  // One context a target: every page and follow of its runs shares the ssh ControlMaster.
  const hosts = new Map<string, Promise<RunContext>>();
  const contextFor = (record: RunRecord) => {
    const key = `${record.target.name ?? ""}\0${record.target.label}\0${record.target.sshConfig ?? ""}`;
    let host = hosts.get(key);
    if (host === undefined) {
      host = load(
        flagsForRecord(record, flags.sshConfig ? { sshConfig: flags.sshConfig } : {}),
      ).then(({ settings: s }) => createRunContext({ projectDir, settings: s, store }));
      // A target that failed to resolve is tried afresh next time.
      host.catch(() => hosts.delete(key));
      hosts.set(key, host);
    }
    return host;
  };
  const dashboard = await startDashboard({
    context: {
      store,
      projectDir,
      contextFor,
      patterns: settings.progress.patterns,
      hostTimeoutMs: PS_HOST_TIMEOUT_MS,
    },
    token: createToken(),
    port,
    assets: await readChartAssets(),
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EADDRINUSE") throw error;
    throw new OffloadError("E_PORT_IN_USE", `Port ${port} on 127.0.0.1 is already in use.`, {
      hint: "Pick another with --port, or leave --port out for any free port.",
    });
  });
  out.stdout.write(`offload ui: ${dashboard.url}\n`);
  out.stderr.write("Ctrl+C stops the dashboard; runs go on.\n");
  if (flags.open) openInBrowser(dashboard.url);
  await waitForInterrupt();
  await dashboard.close();
  return 0;
}
