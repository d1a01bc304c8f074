// The pure parts of sweeps and jobs across nodes: the grid, the command's {name} fill, the torchrun
// contract of each node, and the master script run by a real sh.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildMasterScript,
  buildNodeEnv,
  NODE_MARK,
  readNodeMark,
} from "../../src/backends/nodes/contract.js";
import { parseGpuQuery } from "../../src/host/gpus.js";
import { buildPrepareScript, parsePrepareOutput } from "../../src/remote/prepare.js";
import {
  expandGrid,
  fillCommand,
  mergeParams,
  parseParam,
  planSlots,
  sweepIndexOf,
  sweepRemoteDir,
} from "../../src/session/sweep.js";
import { makeRecord } from "../support/record.js";

describe("sweep grid", () => {
  it("reads a run's grid index back from its remote dir: `attach SWEEP` numbers the rows as `sweep` did", () => {
    const id = "20261202-124210-nda4";
    const runAt = (remoteDir: string) =>
      makeRecord({ target: { label: "h", kind: "ssh", remoteDir } });
    expect(sweepIndexOf(runAt(sweepRemoteDir("/w/mnist/", id, 3)), id)).toBe(3);
    expect(sweepIndexOf(runAt(sweepRemoteDir("/w/a.sweeps/x-1", id, 12)), id)).toBe(12);
    expect(sweepIndexOf(runAt("/w/mnist"), id)).toBeUndefined();
    expect(sweepIndexOf(runAt(`/w/mnist.sweeps/${id}-x`), id)).toBeUndefined();
    expect(sweepIndexOf(runAt(sweepRemoteDir("/w", "other", 2)), id)).toBeUndefined();
  });

  it("expands every combination, the first parameter varying slowest", () => {
    expect(expandGrid([parseParam("lr=1e-3,1e-4"), parseParam("bs=32,64")])).toEqual([
      { lr: "1e-3", bs: "32" },
      { lr: "1e-3", bs: "64" },
      { lr: "1e-4", bs: "32" },
      { lr: "1e-4", bs: "64" },
    ]);
  });

  it("fills {name} inside words and refuses a {name} no parameter sets", () => {
    expect(fillCommand(["python", "t.py", "--lr={lr}", "{bs}"], { lr: "0.1", bs: "8" })).toEqual([
      "python",
      "t.py",
      "--lr=0.1",
      "8",
    ]);
    expect(() => fillCommand(["{epochs}"], { lr: "1" })).toThrow(
      /names \{epochs\}, which no --param sets/,
    );
  });

  it("quotes each value filled into a command given as one line of shell text", () => {
    expect(
      fillCommand(["python t.py --name {name} --lr={lr}"], { name: "a b;c", lr: "1e-3" }),
    ).toEqual(["python t.py --name 'a b;c' --lr=1e-3"]);
  });

  it("lets a --param replace the offload.yaml parameter of its name and add new ones after", () => {
    const file: [string, string[]][] = [
      ["lr", ["1", "2"]],
      ["bs", ["8"]],
    ];
    expect(mergeParams(file, [parseParam("bs=16,32"), parseParam("seed=0")])).toEqual([
      ["lr", ["1", "2"]],
      ["bs", ["16", "32"]],
      ["seed", ["0"]],
    ]);
  });

  it("refuses a parameter without values, with an empty value, or named sweep", () => {
    for (const bad of ["lr", "lr=", "lr=1,,2", "=1", "sweep=1", "a-b=1"])
      expect(() => parseParam(bad), bad).toThrow(/is not NAME=V1,V2/);
  });

  it("refuses a value with a newline, tab or other control character: it is a run's one-line tag", () => {
    for (const bad of ["v=a\nb", "v=ok,x\ty", "v=\u001b[31m"])
      expect(() => parseParam(bad), JSON.stringify(bad)).toThrow(/has a control character/);
    expect(parseParam("v=a b,x;y,$(id),'q\",{v}")).toEqual([
      "v",
      ["a b", "x;y", "$(id)", "'q\"", "{v}"],
    ]);
  });
});

describe("sweep slots", () => {
  const fixture = (name: string) =>
    parseGpuQuery(readFileSync(new URL(`../fixtures/nvidia-smi/${name}`, import.meta.url), "utf8"));

  it("gives each free GPU of a shared 8-GPU node a slot of its own, and busy ones none", () => {
    // GPUs 0, 1 and 5 are busy, 3 holds 18 GB of another job's memory: 2, 4, 6 and 7 are free.
    const slots = planSlots(fixture("a100-8x-loaded.csv"));
    expect(slots.map((env) => env.CUDA_VISIBLE_DEVICES)).toEqual(["2", "4", "6", "7"]);
    // nvidia-smi's indexes are PCI bus order, which CUDA follows only when told so.
    expect(slots.every((env) => env.CUDA_DEVICE_ORDER === "PCI_BUS_ID")).toBe(true);
  });

  it("gives a host without GPUs, with `gpus: 0`, or with none free one slot, pinned to nothing", () => {
    expect(planSlots([])).toEqual([{}]);
    expect(planSlots(fixture("a10-single.csv"), 0)).toEqual([{}]);
    const busy = fixture("a100-8x-loaded.csv").filter((gpu) => gpu.index === 0 || gpu.index === 1);
    expect(planSlots(busy)).toEqual([{}]);
  });
});

describe("torchrun's contract across nodes", () => {
  it("gives each node its rank, node 0's address and the world's size", () => {
    const layout = {
      addresses: ["10.0.0.2", "10.0.0.3", "10.0.0.4"],
      masterPort: 29555,
      procsPerNode: 2,
    };
    expect(buildNodeEnv(layout, 1)).toEqual({
      MASTER_ADDR: "10.0.0.2",
      MASTER_PORT: "29555",
      NNODES: "3",
      NODE_RANK: "1",
      NPROC_PER_NODE: "2",
      WORLD_SIZE: "6",
      RANK: "2",
      LOCAL_RANK: "0",
      OFFLOAD_NODE_IPS: "10.0.0.2,10.0.0.3,10.0.0.4",
      OFFLOAD_NUM_NODES: "3",
    });
  });

  it("the master script finds a port nothing listens on, and its source address toward a peer", () => {
    const script = buildMasterScript("127.0.0.1");
    const { stderr, status } = spawnSync("sh", ["-c", script], { encoding: "utf8" });
    expect(status, stderr).toBe(0);
    const port = Number(readNodeMark(stderr, NODE_MARK.port));
    expect(port).toBeGreaterThanOrEqual(29500);
    expect(port).toBeLessThan(49500);
    expect(readNodeMark(stderr, NODE_MARK.source)).toBe("127.0.0.1");
    // A peer that is no address never reaches the shell.
    expect(buildMasterScript("x; reboot")).not.toContain("reboot");
  });

  it("the prepare round trip says at which address the connection reached the host: no round trip of its own", () => {
    const dir = mkdtempSync(join(tmpdir(), "offload-reached-"));
    try {
      const prepare = (connection: string | undefined) => {
        const { SSH_CONNECTION: _none, ...env } = process.env;
        const run = spawnSync("sh", ["-c", buildPrepareScript(dir)], {
          encoding: "utf8",
          env: connection === undefined ? env : { ...env, SSH_CONNECTION: connection },
        });
        expect(run.status, run.stderr).toBe(0);
        return parsePrepareOutput(run.stdout);
      };
      expect(prepare("10.0.0.9 51022 10.0.0.2 22")).toMatchObject({ reached: "10.0.0.2" });
      // A local shell has no ssh connection: the node's address is then loopback.
      expect(prepare(undefined)).toMatchObject({ reached: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
