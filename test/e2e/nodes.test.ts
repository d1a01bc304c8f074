// One job across 3 real SSH hosts of the test bed (`--host a,b,c`): torchrun's env contract with
// MASTER_ADDR as the other nodes reach node 0, a real gloo all_reduce and a small DDP training with
// Debian's torch (CPU), logs prefixed per node and stored whole, one rank killed stops all, one node
// refused refuses the job before any byte changes.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { afterEach, expect, it } from "vitest";
import { type CliOptions, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { sleep, waitFor } from "../support/wait.js";
import {
  cutLink,
  describeWithHosts,
  healLink,
  leaseFaultHost,
  processesInHost,
} from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const TORCH = existsSync("/usr/lib/python3/dist-packages/torch/__init__.py");

// One process per node, init by env:// (Debian's torchrun crashes on Python 3.11: see SLURM.md).
const DDP = [
  "import datetime, hashlib, os, socket, torch, torch.distributed as dist",
  "from torch.nn.parallel import DistributedDataParallel as DDP",
  'dist.init_process_group("gloo", init_method="env://", timeout=datetime.timedelta(seconds=60))',
  "r = dist.get_rank()",
  "t = torch.tensor([float(r + 1)])",
  "dist.all_reduce(t)",
  "torch.manual_seed(0)",
  "model = DDP(torch.nn.Linear(4, 1))",
  "opt = torch.optim.SGD(model.parameters(), lr=0.05)",
  "g = torch.Generator().manual_seed(100 + r)  # each rank its own data",
  "for step in range(30):",
  "    x = torch.randn(16, 4, generator=g)",
  "    loss = ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()",
  "    opt.zero_grad(); loss.backward(); opt.step()",
  "w = torch.cat([p.detach().flatten() for p in model.parameters()])",
  "digest = hashlib.sha256(w.numpy().tobytes()).hexdigest()[:16]",
  "env = ' '.join(f'{k}={os.environ[k]}' for k in ['NODE_RANK', 'NNODES', 'WORLD_SIZE', 'NPROC_PER_NODE', 'OFFLOAD_NUM_NODES'])",
  "print(f\"rank {r} on {socket.gethostname()} master {os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} ips {os.environ['OFFLOAD_NODE_IPS']} {env} sum {t.item()} weights {digest}\", flush=True)",
  "dist.destroy_process_group()",
  "",
].join("\n");

describeWithHosts(3, "one job across 3 hosts", (bed) => {
  const hosts = bed.hosts.slice(0, 3);
  let serial = 0;
  const remoteDir = () => {
    serial += 1;
    return `nodes-${process.pid}-${serial}`;
  };
  const offload = (p: TempProject, args: string[], extra: Partial<CliOptions> = {}) =>
    runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
      cwd: p.dir,
      env: { HOME: p.home },
      ...extra,
    });
  const onHost = (host: string, command: string) =>
    execFileSync("ssh", ["-F", bed.sshConfig, host, command]).toString();
  const jobProcesses = (marker: string) =>
    hosts.flatMap((host) => processesInHost(host).filter((p) => p.cmdline.includes(marker)));

  it.skipIf(!TORCH)(
    "runs a gloo all_reduce and a DDP training on 3 nodes: same sum, same weights on every rank",
    async () => {
      project = await makeProject();
      await project.write("ddp.py", DDP);
      const dir = remoteDir();
      const result = await offload(project, [
        "run",
        "--host",
        hosts.join(","),
        "--remote-dir",
        dir,
        "-e",
        "GLOO_SOCKET_IFNAME=eth0",
        "--",
        "/usr/bin/python3",
        "ddp.py",
      ]);
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.trim().split("\n").sort();
      expect(lines).toHaveLength(3);
      const digests = new Set<string>();
      lines.forEach((line, rank) => {
        const match =
          /^\[n(\d)\] rank (\d) on (\S+) master (10\.\d+\.\d+\.\d+):(\d+) ips (\S+) NODE_RANK=(\d) NNODES=3 WORLD_SIZE=3 NPROC_PER_NODE=1 OFFLOAD_NUM_NODES=3 sum 6\.0 weights ([0-9a-f]{16})$/.exec(
            line,
          );
        expect(match, line).not.toBeNull();
        const [, node, r, host, master, , ips, nodeRank, digest] = match ?? [];
        expect([node, r, nodeRank]).toEqual([String(rank), String(rank), String(rank)]);
        expect(host).toBe(hosts[rank]);
        // MASTER_ADDR is node 0's address on the bed, as the others reach it.
        expect(master).toBe(ips?.split(",")[0]);
        expect(onHost(hosts[0] ?? "", "ip -4 -o addr show eth0")).toContain(`inet ${master}/`);
        digests.add(digest ?? "");
      });
      expect(digests.size).toBe(1);
      // Each node's log is stored whole, unprefixed, in its own record.
      const ids = await project.runIds();
      expect(ids).toHaveLength(3);
      const records = await Promise.all(ids.map((id) => project?.record(id)));
      const byNode = records.sort((a, b) => (a?.group?.node ?? 0) - (b?.group?.node ?? 0));
      expect(byNode.map((r) => r?.group?.node)).toEqual([0, 1, 2]);
      expect(new Set(byNode.map((r) => r?.group?.id)).size).toBe(1);
      expect(byNode.map((r) => r?.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
      const node1 = await offload(project, ["logs", "--node", "1", byNode[0]?.id ?? ""]);
      expect(node1.code, node1.stderr).toBe(0);
      expect(`[n1] ${node1.stdout}`).toBe(`${lines[1]}\n`);
    },
  );

  it("a node's link cut and healed mid-run: every node's log arrives whole, byte for byte", async () => {
    // Node 2 is a fault host of this test's own: other files use the calm hosts at the same time.
    const faulty = await leaseFaultHost();
    const nodes = [hosts[0] ?? "", hosts[1] ?? "", faulty];
    project = await makeProject();
    await project.write(
      "offload.yaml",
      "ssh:\n  keepalive: 1\n  connect_timeout: 3\nreconnect:\n  timeout: 120\n",
    );
    const lines = 500;
    await project.write(
      "count.sh",
      `i=1; while [ $i -le ${lines} ]; do printf 'rank %s line %04d\\n' "$NODE_RANK" $i; i=$((i + 1)); sleep 0.04; done\n`,
    );
    let stdout = "";
    let stderr = "";
    const running = offload(
      project,
      ["run", "--host", nodes.join(","), "--remote-dir", remoteDir(), "--", "sh", "count.sh"],
      {
        timeoutMs: 150_000,
        onStdout: (text) => {
          stdout += text;
        },
        onStderr: (text) => {
          stderr += text;
        },
      },
    );
    await waitFor(() => stdout.includes("[n2] rank 2 line 0010"));
    // Cut until offload has seen the link go (3 keepalives), then a little longer, then heal.
    await cutLink(faulty);
    await waitFor(() => stderr.includes("[n2] connection lost"), 300);
    await sleep(1000);
    await healLink(faulty);
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("[n2] connection lost");
    const expected = (rank: number) =>
      Array.from(
        { length: lines },
        (_, i) => `rank ${rank} line ${String(i + 1).padStart(4, "0")}\n`,
      ).join("");
    const records = await Promise.all((await project.runIds()).map((id) => project?.record(id)));
    for (const record of records) {
      const rank = record?.group?.node ?? -1;
      expect((await project.localLog(record?.id ?? "")).toString(), `node ${rank}`).toBe(
        expected(rank),
      );
      // The terminal got each node's lines once each, in order, prefixed.
      const shown = stdout
        .split("\n")
        .filter((line) => line.startsWith(`[n${rank}] `))
        .map((line) => `${line.slice(5)}\n`)
        .join("");
      expect(shown, `node ${rank} on the terminal`).toBe(expected(rank));
    }
  }, 160_000);

  it("starts each node with one ssh: its lock, first sync and launch go down one connection", async () => {
    project = await makeProject();
    await project.write("train.py", "print('train')\n");
    await project.write("data/a.txt", "alpha\n");
    await project.write("data/deep/b.txt", "beta\n");
    const dir = remoteDir();
    const job = 'cat data/deep/b.txt && printf "%s\\n" "$TOK"';
    const result = await offload(
      project,
      ["run", "--host", hosts.join(","), "--remote-dir", dir, "--secret", "TOK", "--", job],
      { env: { HOME: project.home, OFFLOAD_TRACE: "1", TOK: "s3cr3t v" } },
    );
    expect(result.code, result.stderr).toBe(0);
    // OFFLOAD_TRACE's time line lists every local process: one tar made the archive all nodes got.
    expect(result.stderr.match(/ tar … -$/gm) ?? []).toHaveLength(1);
    // One ssh client a node: its prepare, which also took the archive, node 0's rendezvous question and
    // the launch (before, an ssh for the upload, one for the launch and node 0's question besides).
    // The host probe (`D=…`, for the record, beside the launch) is not part of the start.
    const ssh = (result.stderr.match(/^trace .* ssh … .*$/gm) ?? []).filter((l) => !/ D=/.test(l));
    expect(ssh, result.stderr).toHaveLength(hosts.length);
    expect(result.stdout.trim().split("\n").sort()).toEqual([
      "[n0] beta",
      "[n0] s3cr3t v",
      "[n1] beta",
      "[n1] s3cr3t v",
      "[n2] beta",
      "[n2] s3cr3t v",
    ]);
    for (const host of hosts) {
      expect(onHost(host, `cd ${dir} && cat train.py data/a.txt data/deep/b.txt`), host).toBe(
        "print('train')\nalpha\nbeta\n",
      );
      // The scripts that came down the held connection are gone.
      expect(onHost(host, `cd ${dir} && ls -A .offload`), host).not.toMatch(/held-step/);
    }
  });

  it("one rank killed stops the others: exit code the killed rank's, no process left on any host", async () => {
    project = await makeProject();
    const marker = `offload-nodes-kill-${process.pid}`;
    let stdout = "";
    const running = offload(
      project,
      [
        "run",
        "--host",
        hosts.join(","),
        "--remote-dir",
        remoteDir(),
        "--",
        "sh",
        "-c",
        `echo "rank $NODE_RANK up"; while :; do sleep 1; done # ${marker}`,
      ],
      {
        onStdout: (text) => {
          stdout += text;
        },
      },
    );
    await waitFor(() => (stdout.match(/ up\n/g) ?? []).length === 3);
    const victims = processesInHost(hosts[1] ?? "").filter((p) => p.cmdline.includes(marker));
    expect(victims.length).toBeGreaterThan(0);
    for (const victim of victims) process.kill(victim.pid, "SIGKILL");
    const result = await running;
    expect(result.code, result.stderr).toBe(137);
    expect(result.stderr).toMatch(/ended by node 1/);
    expect(jobProcesses(marker)).toEqual([]);
    const records = await Promise.all((await project.runIds()).map((id) => project?.record(id)));
    const statuses = records
      .sort((a, b) => (a?.group?.node ?? 0) - (b?.group?.node ?? 0))
      .map((r) => r?.status);
    expect(statuses).toEqual(["stopped", "failed", "stopped"]);
  });

  it("Ctrl+C stops every node: each run recorded stopped, no process left on any host", async () => {
    project = await makeProject();
    const marker = `offload-nodes-int-${process.pid}`;
    let stdout = "";
    let pid = 0;
    const running = offload(
      project,
      [
        "run",
        "--host",
        hosts.join(","),
        "--remote-dir",
        remoteDir(),
        "--",
        "sh",
        "-c",
        `echo "rank $NODE_RANK up"; while :; do sleep 1; done # ${marker}`,
      ],
      {
        onSpawn: (p) => {
          pid = p;
        },
        onStdout: (text) => {
          stdout += text;
        },
      },
    );
    await waitFor(() => (stdout.match(/ up\n/g) ?? []).length === 3);
    process.kill(pid, "SIGINT");
    const result = await running;
    // The job's end as a shell reports a TERM, from whichever node ended first; the user ended it.
    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toMatch(
      /job on 3 nodes stopped by Ctrl\+C: n0 stopped \(143\), n1 stopped \(143\), n2 stopped \(143\)/,
    );
    expect(result.stderr).not.toContain("ended by node");
    expect(jobProcesses(marker)).toEqual([]);
    const records = await Promise.all((await project.runIds()).map((id) => project?.record(id)));
    expect(records.map((r) => r?.status)).toEqual(["stopped", "stopped", "stopped"]);
  });

  it("a node whose remote dir is held refuses the whole job before any byte changes on any node", async () => {
    project = await makeProject();
    await project.write("payload.txt", "synced\n");
    const dir = remoteDir();
    const marker = `offload-nodes-holder-${process.pid}`;
    // Node 2's remote dir is held by a run of its own.
    const holder = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      hosts[2] ?? "",
      "--remote-dir",
      dir,
      "--",
      "sh",
      "-c",
      `sleep 600 # ${marker}`,
    ]);
    expect(holder.code, holder.stderr).toBe(0);
    const holderId = holder.stdout.trim();
    try {
      const result = await offload(project, [
        "run",
        "--host",
        hosts.join(","),
        "--remote-dir",
        dir,
        "--",
        "cat",
        "payload.txt",
      ]);
      expect(result.code, result.stderr).toBe(202);
      expect(result.stderr).toContain(`in use by run ${holderId}`);
      // Nodes 0 and 1 took their locks and gave them back; nothing was synced there.
      for (const host of hosts.slice(0, 2))
        expect(
          onHost(host, `ls -A ${dir} 2>/dev/null; ls ${dir}/.offload 2>/dev/null; true`),
        ).not.toContain("payload.txt");
      expect(onHost(hosts[0] ?? "", `cat ${dir}/.offload/lock 2>/dev/null || echo free`)).toBe(
        "free\n",
      );
      expect(await project.runIds()).toEqual([holderId]);
    } finally {
      await offload(project, ["stop", holderId, "--host", hosts[2] ?? ""]);
    }
    expect(jobProcesses(marker)).toEqual([]);
  });

  it("--no-wait starts every rank and returns; logs --node reads a live node; stop RUN stops all", async () => {
    project = await makeProject();
    const marker = `offload-nodes-nowait-${process.pid}`;
    const started = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      hosts.join(","),
      "--remote-dir",
      remoteDir(),
      "--",
      "sh",
      "-c",
      `echo "rank $NODE_RANK of $NNODES up"; while :; do sleep 1; done # ${marker}`,
    ]);
    expect(started.code, started.stderr).toBe(0);
    const ids = started.stdout.trim().split("\n");
    expect(ids).toHaveLength(3);
    expect(started.stderr).toContain(`offload stop ${ids[0]}`);
    // Every rank runs on its host with nothing of offload following it here.
    await waitFor(() => jobProcesses(marker).length >= 3);
    for (const host of hosts)
      expect(
        processesInHost(host).filter((p) => p.cmdline.includes(marker)).length,
      ).toBeGreaterThan(0);

    const log = await offload(project, ["logs", "--node", "1", ids[0] ?? ""]);
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toBe("rank 1 of 3 up\n");
    // A node past the last is a usage mistake that names the job's nodes.
    const past = await offload(project, ["logs", "--node", "3", ids[0] ?? ""]);
    expect(past.code).toBe(2);
    expect(past.stderr).toContain(
      `Run ${ids[0]} is a job on 3 nodes: it has nodes 0..2, not node 3.`,
    );
    expect(past.stderr).toContain(`\`offload logs --node 2 ${ids[0]}\``);

    // Any node's run names the whole job.
    const stop = await offload(project, ["stop", ids[2] ?? ""]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stderr).toContain("3 running of 3");
    expect(jobProcesses(marker)).toEqual([]);
    const records = await Promise.all(ids.map((id) => project?.record(id)));
    expect(records.map((r) => `${r?.group?.node} ${r?.status}`)).toEqual([
      "0 stopped",
      "1 stopped",
      "2 stopped",
    ]);
  });

  it("attach of a --no-wait job follows every node; the rank that fails stops the others", async () => {
    project = await makeProject();
    const marker = `offload-nodes-attach-${process.pid}`;
    const dir = remoteDir();
    const started = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      hosts.join(","),
      "--remote-dir",
      dir,
      "--",
      "sh",
      "-c",
      `echo "rank $NODE_RANK up"; while [ ! -f go ]; do sleep 0.2; done; [ $NODE_RANK = 1 ] && exit 3; while :; do sleep 1; done # ${marker}`,
    ]);
    expect(started.code, started.stderr).toBe(0);
    const ids = started.stdout.trim().split("\n");
    let stdout = "";
    const attached = offload(project, ["attach", ids[1] ?? ""], {
      onStdout: (text) => {
        stdout += text;
      },
    });
    await waitFor(() => (stdout.match(/ up\n/g) ?? []).length === 3);
    for (const host of hosts) onHost(host, `touch ${dir}/go`);
    const result = await attached;
    // The job's end is rank 1's: its exit code; the others were stopped because of it.
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/ended by node 1/);
    for (const node of [0, 1, 2]) expect(stdout).toContain(`[n${node}] rank ${node} up\n`);
    expect(jobProcesses(marker)).toEqual([]);
    const records = await Promise.all(ids.map((id) => project?.record(id)));
    expect(records.map((r) => `${r?.status} ${r?.exitCode}`)).toEqual([
      "stopped 143",
      "failed 3",
      "stopped 143",
    ]);
  });
});
