// `offload run` with buckets, on a test-bed host against a real S3 API (moto's server on the bridge
// address): inputs fetched by the host through its ETag cache, results put from the host straight into the
// bucket under <prefix>/<run id>/, brought home by `offload pull` with checksums; no key on the host.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Presign } from "../../src/storage/presign.js";
import { createBucket, type S3Server, startS3Server, whyNoS3Server } from "../storage/s3-server.js";
import { runCli } from "../support/cli.js";
import { psUntilEnded } from "../support/download-run.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, execInHost } from "../testbed/index.js";

const BRIDGE = "10.200.1.1";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const noServer = whyNoS3Server();
if (noServer) process.stderr.write(`[bucket-run] skipping the bucket run tests: ${noServer}\n`);

describeWithHosts(
  1,
  "runs with buckets",
  (bed) => {
    const host = bed.hosts[0] ?? "offload-h1";
    const remoteDir = `/root/offload-bucket-run-${process.pid}`;
    // Files written since this mark are the ones a run could have leaked into: grepping all of /root
    // and /tmp took minutes on a machine whose /root held caches of many gigabytes.
    const mark = `/root/offload-bucket-run-${process.pid}.mark`;
    const skip = noServer !== undefined;
    let server: S3Server;
    let presign: Presign;
    let project: TempProject;
    const dataset = randomBytes(2 * 1024 * 1024);

    beforeAll(async () => {
      if (skip) return;
      server = await startS3Server(BRIDGE);
      await execInHost(host, ["touch", mark]);
      ({ presign } = await createBucket(server, "s3://offload-bucket-run/"));
      const put = await presign({ method: "PUT", key: "datasets/x.tar", expiresIn: 60 });
      expect((await fetch(put, { method: "PUT", body: dataset })).status).toBe(200);
      project = await makeProject();
      await project.write(
        "offload.yaml",
        [
          "results: s3://offload-bucket-run/runs/",
          "storage:",
          `  endpoint: ${server.endpoint}`,
          "inputs:",
          "  - s3://offload-bucket-run/datasets/x.tar|data/",
          "download:",
          "  - out/*",
          "",
        ].join("\n"),
      );
    }, 60_000);

    afterAll(async () => {
      if (skip) return;
      await execInHost(host, [
        "rm",
        "-rf",
        remoteDir,
        `${remoteDir}-later`,
        mark,
        "/root/.cache/offload/inputs",
      ]).catch(() => {});
      await project?.remove();
      await server?.stop();
    });

    const offload = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      runCli(args[0] === "run" ? ["run", "--ssh-config", bed.sshConfig, ...args.slice(1)] : args, {
        cwd: project.dir,
        env: {
          HOME: project.home,
          AWS_ACCESS_KEY_ID: server.accessKeyId,
          AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
          ...env,
        },
        timeoutMs: 170_000,
      });
    // The job looks for the keys where a job could find them: its env, every process's argv, the files
    // (the patterns split by "" so that the job's own text holds neither).
    const job = () =>
      [
        "mkdir -p out",
        "sha256sum data/x.tar | cut -d' ' -f1 > out/input.sha",
        "head -c 3000000 /dev/urandom > out/model.bin",
        "env > out/env.txt",
        "ps -eo args > out/ps.txt",
        `find /root /tmp -xdev -type f -newer ${mark} -print0 2>/dev/null | xargs -0 -r grep -lF -e offload-test-""secret- -e X-Amz-""Signature > out/grep.txt || true`,
      ].join(" && ");
    const dataGets = () =>
      server
        .requests()
        .filter((line) => line.startsWith("GET /offload-bucket-run/datasets/x.tar?"));

    it.skipIf(skip)(
      "fetches inputs on the host, puts results from the host into the bucket, and pull brings them home checked",
      async () => {
        const result = await offload([
          "run",
          "--host",
          `${host}/${remoteDir}`,
          "--",
          "sh",
          "-c",
          job(),
        ]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toContain(
          "input s3://offload-bucket-run/datasets/x.tar → data/x.tar: fetched 2097152 bytes",
        );
        const [id = ""] = await project.runIds();
        const record = await project.record(id);
        expect(record.inputs).toEqual([
          expect.objectContaining({ dest: "data/x.tar", cached: false, bytes: dataset.length }),
        ]);
        expect(record.results?.url).toBe(`s3://offload-bucket-run/runs/${id}/`);
        expect(record.results?.objects.map((o) => [o.path, o.key])).toEqual(
          ["env.txt", "grep.txt", "input.sha", "model.bin", "ps.txt"].map((name) => [
            `out/${name}`,
            `runs/${id}/out/${name}`,
          ]),
        );
        // Straight from the host: nothing went through this machine's artifacts.
        expect(
          await readdir(join(project.dir, ".offload/runs", id, "artifacts")).catch(() => []),
        ).toEqual([]);
        const puts = server
          .requests()
          .filter((l) => l.startsWith(`PUT /offload-bucket-run/runs/${id}/`));
        expect(puts).toHaveLength(5);

        const to = join(project.dir, "home-copy");
        const pulled = await offload(["pull", id, "--to", to]);
        expect(pulled.code, pulled.stderr).toBe(0);
        expect(pulled.stdout).toContain("Pulled 5 of 5 objects");
        const onHost = execFileSync(
          "ssh",
          ["-F", bed.sshConfig, host, `cd ${remoteDir}/out && sha256sum *`],
          {
            encoding: "utf8",
          },
        );
        for (const line of onHost.trim().split("\n")) {
          const [digest, name = ""] = line.split(/\s+/);
          expect(sha256(await readFile(join(to, "out", name))), name).toBe(digest);
        }
        expect((await readFile(join(to, "out/input.sha"), "utf8")).trim()).toBe(sha256(dataset));
        // No key and no signed URL in the job's env, in any process's argv, or in the host's files.
        for (const name of ["env.txt", "ps.txt"]) {
          const text = await readFile(join(to, "out", name), "utf8");
          expect(text.length).toBeGreaterThan(0);
          for (const secret of [server.secretAccessKey, server.accessKeyId, "X-Amz-Signature"])
            expect(text, name).not.toContain(secret);
        }
        expect(await readFile(join(to, "out/grep.txt"), "utf8")).toBe("");
        const after = await execInHost(host, [
          "grep",
          "-rlF",
          "-e",
          server.secretAccessKey,
          "-e",
          "X-Amz-Signature",
          "/root",
          "/tmp",
        ]);
        expect(after.stdout).toBe("");
        expect(after.code).toBe(1);
        expect(dataGets()).toHaveLength(1);
      },
      180_000,
    );

    it.skipIf(skip)(
      "a second run finds the input in the host's cache: nothing transferred",
      async () => {
        const before = dataGets().length;
        const result = await offload([
          "run",
          "--host",
          `${host}/${remoteDir}`,
          "--",
          "sh",
          "-c",
          "sha256sum data/x.tar",
        ]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toContain("data/x.tar: in the host's cache");
        expect(result.stdout).toContain(sha256(dataset));
        const ids = await project.runIds();
        const record = await project.record(ids.at(-1) ?? "");
        expect(record.inputs).toEqual([
          expect.objectContaining({ dest: "data/x.tar", cached: true, bytes: 0 }),
        ]);
        expect(dataGets().length).toBe(before);
      },
      120_000,
    );

    it.skipIf(skip)(
      "results with every: pushes changed files into the bucket while the job runs",
      async () => {
        await project.write(
          "offload.yaml",
          [
            "results: { url: s3://offload-bucket-run/runs/, every: 1s }",
            "storage:",
            `  endpoint: ${server.endpoint}`,
            "download:",
            "  - live/*",
            "",
          ].join("\n"),
        );
        // The job writes its file through a rename, then waits until the test lets it end.
        const job =
          "mkdir -p live && echo step-1 > live/.s && mv live/.s live/state.txt && while [ ! -e release ]; do sleep 0.2; done";
        const earlier = new Set(await project.runIds());
        const running = offload(["run", "--host", `${host}/${remoteDir}`, "--", "sh", "-c", job]);
        const pushed = () =>
          server
            .requests()
            .filter((l) =>
              /^PUT \/offload-bucket-run\/runs\/[^/]+\/live\/state\.txt\? 200/.test(l),
            );
        let id = "";
        for (let i = 0; i < 600; i++) {
          id = (await project.runIds()).find((run) => !earlier.has(run)) ?? id;
          if (id && (await project.record(id).catch(() => undefined))?.checkpoint) break;
          await sleep(100);
        }
        // In the bucket while the job still runs: it cannot end before the release file exists.
        expect((await project.record(id)).checkpoint?.count).toBe(1);
        expect(pushed()).toHaveLength(1);
        const released = await execInHost(host, ["touch", `${remoteDir}/release`]);
        expect(released.code).toBe(0);
        const result = await running;
        expect(result.code, result.stderr).toBe(0);
        const record = await project.record(id);
        expect(record.results?.objects.map((o) => o.path)).toEqual(["live/state.txt"]);
        await execInHost(host, ["rm", "-f", `${remoteDir}/release`]);
      },
      120_000,
    );

    it.skipIf(skip)(
      "refuses to start without keys for the bucket, having connected nowhere",
      async () => {
        const result = await offload(
          ["run", "--host", `${host}/${remoteDir}-nokeys`, "--", "true"],
          {
            AWS_ACCESS_KEY_ID: "",
            AWS_SECRET_ACCESS_KEY: "",
          },
        );
        expect(result.code).toBe(200);
        expect(result.stderr).toContain("No AWS keys found for s3://offload-bucket-run");
        const made = await execInHost(host, ["test", "-e", `${remoteDir}-nokeys`]);
        expect(made.code).toBe(1);
      },
      60_000,
    );

    it.skipIf(skip)(
      "attach of a run whose remote dir a later run has used puts nothing into the bucket as its results",
      async () => {
        await project.write(
          "offload.yaml",
          [
            "results: s3://offload-bucket-run/runs/",
            "storage:",
            `  endpoint: ${server.endpoint}`,
            "download:",
            "  - later/*",
            "",
          ].join("\n"),
        );
        const dir = `${remoteDir}-later`;
        const writes = (text: string, flags: string[] = []) => [
          "run",
          ...flags,
          "--host",
          `${host}/${dir}`,
          "--",
          "sh",
          "-c",
          `mkdir -p later && echo ${text} > later/out.txt`,
        ];
        const earlier = new Set(await project.runIds());
        // Run A ends with its results on the host: nobody followed it to its end.
        const started = await offload(writes("A", ["--no-wait"]));
        expect(started.code, started.stderr).toBe(0);
        const a = (await project.runIds()).find((id) => !earlier.has(id)) ?? "";
        const shown = await psUntilEnded((args) => offload(args), a);
        expect(shown).toMatchObject({ status: "succeeded", outputsPending: true });

        // Run B, in the same remote dir, rewrites later/out.txt and puts it into the bucket as its own.
        const ranB = await offload(writes("B"));
        expect(ranB.code, ranB.stderr).toBe(0);
        const b = (await project.runIds()).find((id) => !earlier.has(id) && id !== a) ?? "";
        expect((await project.record(b)).results?.objects.map((o) => o.path)).toEqual([
          "later/out.txt",
        ]);

        const attached = await offload(["attach", a]);
        expect(attached.code, attached.stderr).toBe(205);
        expect(attached.stderr).toContain(
          `Run ${a}'s outputs were not downloaded: run ${b} has used ${dir}`,
        );
        const record = await project.record(a);
        expect(record.results?.objects).toEqual([]);
        expect(record.outputsPending).toBe(true);
        expect(
          server.requests().filter((l) => l.startsWith(`PUT /offload-bucket-run/runs/${a}/`)),
        ).toEqual([]);
      },
      120_000,
    );
  },
  { netns: true },
);
