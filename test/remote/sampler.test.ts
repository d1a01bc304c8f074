// The sampler script itself under the real sh, reading recorded /proc files (two moments of a Debian
// machine) and a recorded nvidia-smi reply from a fake on its PATH: its lines read back to the values
// of those files, and it ends by itself once its launcher is gone.
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import {
  buildSamplerScript,
  buildSamplerStartLines,
  buildSamplerStopLines,
  SAMPLES_FILE,
} from "../../src/remote/sampler.js";
import { parseSamples } from "../../src/remote/samples.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/machine");
let dir = "";
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The first number after `name` on the line of /proc/meminfo that starts with it. */
function meminfo(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}:`)) ?? "";
  return Number(line.split(/\s+/)[1]);
}

const waitFor = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 50));
};

it("reads recorded /proc and nvidia-smi into lines, and ends once its launcher is gone", async () => {
  dir = mkdtempSync(join(tmpdir(), "offload-sampler-"));
  const proc = join(dir, "proc");
  cpSync(join(FIXTURES, "proc-a"), proc, { recursive: true });
  const bin = join(dir, "bin");
  cpSync(join(FIXTURES, "nvidia-smi-h100-8x.csv"), join(dir, "reply.csv"));
  // A recorded reply replayed: nvidia-smi itself cannot exist on this machine.
  writeFileSync(
    join(dir, "nvidia-smi"),
    `#!/bin/sh\ncat ${JSON.stringify(join(dir, "reply.csv"))}\n`,
  );
  cpSync(join(dir, "nvidia-smi"), join(bin, "nvidia-smi"));
  chmodSync(join(bin, "nvidia-smi"), 0o755);

  // The "launcher": a process the test ends to see the sampler follow it.
  const launcher = spawn("sleep", ["600"], { stdio: "ignore" });
  children.push(launcher);
  const script = buildSamplerScript({ everySeconds: 1, procDir: proc });
  const sampler = spawn("sh", ["-c", script, "offload-sampler", dir, String(launcher.pid)], {
    stdio: "ignore",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  children.push(sampler);
  const ended = new Promise((resolve) => sampler.on("exit", resolve));
  const file = join(dir, SAMPLES_FILE);
  const lines = () => {
    try {
      return readFileSync(file, "utf8").split("\n").length - 1;
    } catch {
      return 0;
    }
  };
  await waitFor(() => lines() >= 1);
  // The second moment, each file renamed into place whole: a later sample reads it.
  const before = lines();
  for (const name of ["stat", "meminfo"]) {
    cpSync(join(FIXTURES, "proc-b", name), join(proc, `${name}.tmp`));
    renameSync(join(proc, `${name}.tmp`), join(proc, name));
  }
  await waitFor(() => lines() >= before + 2);
  launcher.kill("SIGKILL");
  await ended;

  const samples = parseSamples(readFileSync(file, "utf8"));
  const memA = readFileSync(join(FIXTURES, "proc-a/meminfo"), "utf8");
  expect(samples[0]?.memoryTotalBytes).toBe(meminfo(memA, "MemTotal") * 1024);
  expect(samples[0]?.memoryUsedBytes).toBe(
    (meminfo(memA, "MemTotal") - meminfo(memA, "MemAvailable")) * 1024,
  );
  expect(samples[0]?.diskTotalBytes).toBeGreaterThan(0);
  expect(samples[0]?.gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(samples[0]?.gpus[7]).toEqual({ index: 7 });
  // proc-a → proc-b: user +348, system +55, steal +1, idle and iowait unchanged: all busy. Samples
  // of one moment have counters that did not move, hence no CPU %.
  expect(samples.map((s) => s.cpuPercent).filter((p) => p !== undefined)).toEqual([100]);
});

it("ends at once when the launcher stops it right as it starts a sleep, a hundred times over", async () => {
  dir = mkdtempSync(join(tmpdir(), "offload-sampler-"));
  // The launcher's own lines, with the stop sent the moment the first sample is written: the sampler
  // is then forking its sleep, where a TERM can be lost (it was in ~5% of stops, which then waited the
  // whole sleep). Each sampler's pid goes to a file, for the clean-up of a failed run.
  const script = [
    `R=${JSON.stringify(dir)}; n=0`,
    "while [ $n -lt 100 ]; do",
    '  n=$((n + 1)); rm -f "$R/machine.txt"',
    ...buildSamplerStartLines({ everySeconds: 600 }),
    '  echo "$sp" >> "$R/samplers"',
    '  while [ ! -s "$R/machine.txt" ]; do :; done',
    ...buildSamplerStopLines(),
    "done",
    'echo "stopped $n"',
  ].join("\n");
  const child = spawn("timeout", ["60", "sh", "-c", script], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.push(child);
  let stdout = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const code = await new Promise((resolve) => child.on("exit", resolve));
  try {
    expect({ code, stdout }).toEqual({ code: 0, stdout: "stopped 100\n" });
  } finally {
    // A sampler left waiting out its sleep: its process group (setsid made it) ends here.
    for (const pid of readFileSync(join(dir, "samplers"), "utf8").split("\n").filter(Boolean)) {
      try {
        process.kill(-Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}, 90_000);
