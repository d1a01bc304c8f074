// rsync's --info=progress2 reports, as rsync 3.2.7 printed them copying 30 MB (captured on this machine).
import { describe, expect, it } from "vitest";
import { estimateProgress } from "../../src/sync/download-progress.js";
import { buildRsyncTreeArgv, parseRsyncProgress, parseRsyncStats } from "../../src/sync/rsync.js";

const captured =
  "\r     32,768   0%    0.00kB/s    0:00:00  \r     30,000,000 100%  348.52MB/s    0:00:00 (xfr#1, to-chk=0/2)\r     30,000,000 100%  348.52MB/s    0:00:00 (xfr#1, to-chk=0/2)\n\nNumber of files: 2 (reg: 1, dir: 1)\nNumber of regular files transferred: 1\nTotal transferred file size: 30,000,000 bytes\n";

describe("parseRsyncProgress", () => {
  it("reads the last report of a chunk: bytes, percent, rate and ETA", () => {
    expect(parseRsyncProgress(captured)).toEqual({
      bytes: 30_000_000,
      percent: 100,
      bytesPerSecond: 348.52 * 1024 ** 2,
      etaSeconds: 0,
    });
    expect(parseRsyncProgress("  1,234,567  45%   10.50MB/s    0:01:03  ")).toMatchObject({
      bytes: 1_234_567,
      percent: 45,
      etaSeconds: 63,
    });
  });

  it("finds none in a chunk of stats, and the stats still parse beside the reports", () => {
    expect(parseRsyncProgress("Number of files: 2\n")).toBeUndefined();
    expect(parseRsyncStats(captured)).toEqual({ files: 1, bytes: 30_000_000 });
  });

  it("asks rsync for progress only when told to", () => {
    const shell = { rsh: undefined, remotePath: (p: string) => p, shellArgv: (c: string) => [c] };
    expect(buildRsyncTreeArgv(shell, ".", "/r")).not.toContain("--info=progress2");
    expect(buildRsyncTreeArgv(shell, ".", "/r", { progress: true })).toContain("--info=progress2");
  });
});

describe("estimateProgress", () => {
  it("measures a big file's copy from its size on disk: percent, rate so far, ETA at that rate", () => {
    expect(estimateProgress(25 * 2 ** 20, 100 * 2 ** 20, 2000)).toEqual({
      bytes: 25 * 2 ** 20,
      percent: 25,
      bytesPerSecond: 12.5 * 2 ** 20,
      etaSeconds: 6,
    });
    expect(estimateProgress(0, 100, 0)).toEqual({ bytes: 0, percent: 0 });
  });
});
