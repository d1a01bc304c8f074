// `offload forward [RUN|--host X] PORT[:LOCAL]…`: the host's ports on this machine's 127.0.0.1 over the
// existing ControlMaster, until Ctrl+C; the forwards are cancelled on the way out.
import { isForwardSpec, parseForwardSpec } from "../../config/forward-spec.js";
import { createTransport } from "../../create.js";
import { OffloadError } from "../../errors.js";
import { openForwards } from "../../session/forward.js";
import { openInBrowser } from "../../transport/browser.js";
import type { Output } from "../render.js";
import { load, loadForRun, requireHost } from "../settings.js";
import { waitForInterrupt } from "../wait-for-interrupt.js";

export interface ForwardFlags {
  host?: string;
  sshConfig?: string;
  open?: boolean;
}

async function loadTarget(run: string | undefined, flags: ForwardFlags) {
  const target = {
    ...(flags.host ? { host: flags.host } : {}),
    ...(flags.sshConfig ? { sshConfig: flags.sshConfig } : {}),
  };
  if (run !== undefined) return (await loadForRun(run, target)).settings;
  const { settings, sources } = await load(target);
  requireHost(sources);
  return settings;
}

export async function forwardAction(
  out: Output,
  args: readonly string[],
  flags: ForwardFlags,
): Promise<number> {
  const [first, ...rest] = args;
  // `8000:`, ` 8000` or `80:80:80` is a port mistyped, not a run: said as such, not "needs a port".
  const portLike = (text: string) => /^[\s0-9:+-]*[0-9][\s0-9:+-]*$/.test(text);
  const run = first !== undefined && !isForwardSpec(first) && !portLike(first) ? first : undefined;
  const specs = (run === undefined ? args : rest).map(parseForwardSpec);
  if (specs.length === 0)
    throw new OffloadError("E_USAGE", "`offload forward` needs a port to forward.", {
      hint: "For example `offload forward --host gpu-box 6006` (TensorBoard) or `offload forward <run> 8888:18888`.",
    });
  const settings = await loadTarget(run, flags);
  const transport = createTransport(settings);
  const forwards = await openForwards(transport, specs);
  for (const f of forwards.opened) {
    if (f.reclaimedFrom !== undefined)
      out.stderr.write(
        `local port ${f.taken ?? f.local} was still forwarded for an offload that ended (pid ${f.reclaimedFrom}): cancelled that forward\n`,
      );
    if (f.taken !== undefined)
      out.stderr.write(
        `local port ${f.taken} is in use: port ${f.remote} is on ${f.local} instead\n`,
      );
    out.stdout.write(`http://127.0.0.1:${f.local}/  ->  ${transport.label}:${f.remote}\n`);
    if (flags.open) openInBrowser(`http://127.0.0.1:${f.local}/`);
  }
  out.stderr.write("Ctrl+C ends the forwards.\n");
  await waitForInterrupt();
  await forwards.close();
  return 0;
}
