// `offload check`: a few lines (or JSON) about what a host has.
import { createTransport } from "../../create.js";
import { type CheckResult, checkHost } from "../../session/check.js";
import { bytes, type Output } from "../render.js";
import { load, type TargetFlags } from "../settings.js";

function size(n: number | undefined): string {
  return n === undefined ? "?" : bytes(n);
}

export function formatCheck(check: CheckResult): string {
  const f = check.facts;
  const lines = [
    `${check.target}: reachable in ${check.connectMs} ms — ${f.hostname} (${f.os} ${f.kernel}, ${f.arch})`,
    `cpu ${f.cpus ?? "?"} cores, memory ${size(f.memTotalBytes)}, free disk ${size(f.diskFreeBytes)}${f.diskDir ? ` in ${f.diskDir}` : ""}`,
    `python ${f.python ? `${f.python.version} (${f.python.path})` : "not found"}; rsync ${f.rsync ?? "missing (offload will use tar)"}`,
  ];
  if (f.gpus.length > 0) {
    for (const gpu of f.gpus) {
      lines.push(
        `gpu ${gpu.index}: ${gpu.name}, ${gpu.memoryUsedMiB ?? "?"}/${gpu.memoryTotalMiB ?? "?"} MiB used, ${gpu.utilizationPercent ?? "?"}% busy`,
      );
    }
  } else {
    lines.push(
      f.gpuError ? `gpus: nvidia-smi failed: ${f.gpuError}` : "gpus: none (no nvidia-smi)",
    );
  }
  return lines.join("\n");
}

export async function checkAction(out: Output, flags: TargetFlags): Promise<number> {
  const { settings } = await load(flags);
  const transport = createTransport(settings);
  const result = await checkHost(transport, settings.remoteDir);
  out.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `${formatCheck(result)}\n`);
  return 0;
}
