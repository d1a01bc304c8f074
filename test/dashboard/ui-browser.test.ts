// `offload ui` in a real headless Chromium over real trainings on a test-bed host: the runs list, a run
// page whose chart and log grow while the run streams (read from the DOM), a reload that resumes the log
// at its byte offset with no gap or duplicate, compare, Stop ending the job on the host, and requests
// without the token or from another origin refused. Leaves screenshots in test-results/.
import { execFileSync } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { hasChromium, type OpenBrowser, openChromium } from "../support/browser.js";
import { runCli } from "../support/cli.js";
import { makeProject, REPO, type TempProject } from "../support/project.js";
import { type RunningUi, startUi } from "../support/ui.js";
import {
  describeWithHosts,
  dropHost,
  leaseFaultHost,
  processesInHost,
  undropHost,
} from "../testbed/index.js";

let project: TempProject | undefined;
let browser: OpenBrowser | undefined;
let context: BrowserContext | undefined;
let ui: RunningUi | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await openChromium({ viewport: { width: 1200, height: 1000 } });
  context = browser.context;
});

afterAll(async () => {
  await ui?.stop();
  await browser?.close();
  await project?.remove();
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Shown {
  points: Record<string, unknown[]>;
  machine?: { time: number; memoryTotalBytes?: number }[];
  logOffset: number;
  resumedFrom: number | null;
  ended: boolean;
}
const shown = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard);
const pointCount = async (page: Page) => ((await shown(page)).points.loss ?? []).length;
const logText = (page: Page) => page.locator("#log").evaluate((node) => node.textContent ?? "");
const epochsIn = (text: string) =>
  [...text.matchAll(/^Epoch ([0-9]+)\/[0-9]+ /gm)].map((m) => Number(m[1]));
const consecutive = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

describeWithHosts(4, "offload ui", (bed) => {
  // h2 is a calm host (no test faults it); the outage below is on a leased fault host.
  const host = bed.hosts[1] ?? "offload-h2";
  const offload = (p: TempProject, args: string[]) =>
    runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
      cwd: p.dir,
    });

  it.skipIf(!hasChromium)(
    "lists runs, streams a live run's log and curves, resumes after a reload, compares and stops",
    async () => {
      project = await makeProject("quickstart");
      const p = project;
      // A machine sample each second: the machine chart grows while the page looks.
      const yaml = await readFile(join(p.dir, "offload.yaml"), "utf8");
      await p.write("offload.yaml", `${yaml}machine_metrics: 1\n`);
      const shortRun = await offload(p, [
        "run",
        "--host",
        host,
        "--name",
        "baseline",
        "--tag",
        "lr=0.3",
        "--",
        "python3",
        "train.py",
        "--epochs",
        "3",
      ]);
      expect(shortRun.code, shortRun.stderr).toBe(0);
      // A seed no other test uses marks this job's processes on the host.
      const seed = String(7000 + (process.pid % 1000));
      const started = await offload(p, [
        "run",
        "--host",
        host,
        "--no-wait",
        "--",
        "python3",
        "train.py",
        "--epochs",
        "400",
        "--seed",
        seed,
      ]);
      expect(started.code, started.stderr).toBe(0);
      const [doneId, liveId] = await p.runIds();
      if (!doneId || !liveId) throw new Error("the two runs were not recorded");
      const job = () =>
        processesInHost(host).filter((proc) => proc.cmdline.includes(`--seed ${seed}`));
      // Launched means started by the launcher; the job's own process may be a moment behind.
      for (let i = 0; i < 100 && job().length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(job().length, `no process of run ${liveId} on ${host}`).toBeGreaterThan(0);

      ui = await startUi(p.dir, ["--ssh-config", bed.sshConfig], { timeoutMs: 600_000 });
      const { origin, token, url } = ui;

      // Without the token, nothing; an action needs the header and the page's own origin.
      expect((await fetch(`${origin}/`)).status).toBe(403);
      expect((await fetch(`${origin}/api/runs`)).status).toBe(403);
      expect((await fetch(`${origin}/api/runs?token=wrong${token}`)).status).toBe(403);
      const stopUrl = `${origin}/api/runs/${liveId}/stop`;
      expect((await fetch(`${stopUrl}?token=${token}`, { method: "POST" })).status).toBe(403);
      const forged = await fetch(stopUrl, {
        method: "POST",
        headers: { "x-offload-token": token, origin: "http://evil.example" },
      });
      expect(forged.status).toBe(403);
      expect(job().length).toBeGreaterThan(0);

      if (!context) throw new Error("chromium did not start");
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      const requests: string[] = [];
      page.on("request", (request) => requests.push(request.url()));
      await mkdir(join(REPO, "test-results"), { recursive: true });

      // The runs list, with the truth `ps` tells.
      await page.goto(url);
      await page.locator(`tr[data-run="${doneId}"][data-status="succeeded"]`).waitFor();
      await page.locator(`tr[data-run="${liveId}"][data-status="running"]`).waitFor();
      const named = page.locator(`tr[data-run="${doneId}"] td`);
      expect((await named.allTextContents()).slice(2, 4)).toEqual(["baseline", "lr=0.3"]);
      await page.fill("#filter", "lr=0.3");
      await page.locator(`tr[data-run="${liveId}"]`).waitFor({ state: "detached" });
      await page.fill("#filter", "--seed");
      await page.locator(`tr[data-run="${doneId}"]`).waitFor({ state: "detached" });
      await page.fill("#filter", "");
      await page.locator(`tr[data-run="${doneId}"]`).waitFor();
      await page.screenshot({ path: join(REPO, "test-results/dashboard-runs.png") });

      // The live run: chart and log grow while it streams.
      await page.goto(`${origin}/runs/${liveId}`);
      await page.waitForFunction(() => {
        const d = (globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard;
        return (d.points.loss ?? []).length >= 2;
      });
      const points1 = await pointCount(page);
      const lines1 = epochsIn(await logText(page)).length;
      await page.waitForFunction(
        (before) =>
          (
            (globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard.points.loss ??
            []
          ).length > before,
        points1,
      );
      await page.waitForFunction(
        (before) =>
          (
            (
              globalThis as unknown as {
                document: { querySelector(s: string): { textContent: string | null } | null };
              }
            ).document
              .querySelector("#log")
              ?.textContent?.match(/^Epoch /gm) ?? []
          ).length > before,
        lines1,
      );
      expect(await page.locator('section.chart[data-metric="loss"] canvas').count()).toBe(1);
      // The host's machine chart is there and gains samples as the run streams.
      await page.waitForFunction(
        () =>
          ((globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard.machine ?? [])
            .length >= 1,
      );
      const samples1 = (await shown(page)).machine?.length ?? 0;
      await page.waitForFunction(
        (before) =>
          ((globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard.machine ?? [])
            .length > before,
        samples1,
      );
      expect(await page.locator("section.chart[data-machine] canvas").count()).toBe(1);
      expect((await shown(page)).machine?.[0]?.memoryTotalBytes).toBeGreaterThan(0);
      await page.screenshot({ path: join(REPO, "test-results/dashboard-run.png"), fullPage: true });

      // A reload keeps what it had and asks the stream only for what follows.
      const beforeReload = await shown(page);
      await page.reload();
      await page.waitForFunction((before) => {
        const d = (globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard;
        return d.resumedFrom !== null && d.logOffset > before;
      }, beforeReload.logOffset);
      const resumed = await shown(page);
      expect(resumed.resumedFrom).toBeGreaterThanOrEqual(beforeReload.logOffset);
      const streamAsks = requests.filter((r) => r.includes(`/api/runs/${liveId}/stream`));
      expect(streamAsks.at(-1)).toContain(`from=${resumed.resumedFrom}`);
      const afterReload = epochsIn(await logText(page));
      expect(afterReload).toEqual(consecutive(afterReload.length));

      // Stop, confirmed in the dialog: the job's processes are gone from the host.
      page.once("dialog", (dialog) => void dialog.accept());
      await page.click("#stop");
      await page.locator("#status[data-status=stopped]").waitFor({ timeout: 90_000 });
      expect(job()).toEqual([]);
      await page.waitForFunction(
        () => (globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard.ended,
      );
      // The page's log is the host's, byte for byte: no gap, no line twice.
      const record = await p.record(liveId);
      const hostLog = execFileSync("ssh", [
        "-F",
        bed.sshConfig,
        host,
        `cat ${record.target.remoteDir}/.offload/runs/${liveId}/output.log`,
      ]).toString("utf8");
      expect(await logText(page)).toBe(hostLog);
      expect(record.status).toBe("stopped");

      // Compare: both runs' curves on one chart a metric, and what differs between them.
      await page.goto(`${origin}/compare?runs=${doneId},${liveId}`);
      await page.locator("#differences").waitFor();
      const epochsRow = page.locator('#differences tr[data-what="argument --epochs"] td');
      expect(await epochsRow.allTextContents()).toEqual(["argument --epochs", "3", "400"]);
      const seedRow = page.locator('#differences tr[data-what="argument --seed"] td');
      expect(await seedRow.allTextContents()).toEqual(["argument --seed", "-", seed]);
      expect(await page.locator('#compare-values tr[data-metric="loss"]').count()).toBe(1);
      const series = await page.evaluate(() => {
        const d = (
          globalThis as unknown as {
            offloadDashboard: {
              compare: { charts: { name: string; series: { run: string }[] }[] };
            };
          }
        ).offloadDashboard;
        return d.compare.charts.map((c) => [c.name, c.series.map((s) => s.run)]);
      });
      expect(series).toEqual([
        ["loss", [doneId, liveId]],
        ["accuracy", [doneId, liveId]],
      ]);
      await page.screenshot({
        path: join(REPO, "test-results/dashboard-compare.png"),
        fullPage: true,
      });

      // The finished run's page: its log as recorded, its artifacts downloadable, nothing beside them.
      await page.goto(`${origin}/runs/${doneId}`);
      await page.waitForFunction(
        () => (globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard.ended,
      );
      expect(await logText(page)).toBe((await p.localLog(doneId)).toString("utf8"));
      await page.locator("#artifacts a").first().waitFor();
      const links = await page
        .locator("#artifacts a")
        .evaluateAll((nodes) => nodes.map((node) => node.getAttribute("href") ?? ""));
      const prefix = `/runs/${doneId}/artifacts/`;
      expect(links).toContain(`${prefix}outputs/model.json`);
      const artifactsDir = join(p.dir, ".offload/runs", doneId, "artifacts");
      for (const link of links) {
        const served = await fetch(`${origin}${link}?token=${token}`);
        expect(Buffer.from(await served.arrayBuffer())).toEqual(
          await readFile(join(artifactsDir, decodeURIComponent(link.slice(prefix.length)))),
        );
      }
      const climbing = await fetch(`${origin}${prefix}..%2Frun.json?token=${token}`);
      expect(climbing.status).toBe(404);

      // Nothing came from anywhere but the dashboard itself.
      expect(requests.filter((r) => !r.startsWith(origin))).toEqual([]);
      expect(errors).toEqual([]);
    },
    300_000,
  );
  it.skipIf(!hasChromium)(
    "keeps a live run's page going across a host outage longer than reconnect.timeout",
    async () => {
      // A fault host of this test's own for the outage.
      const other = await leaseFaultHost();
      const p = await makeProject("quickstart");
      cleanups.push(() => p.remove());
      await p.write("offload.yaml", "download: [outputs/**]\nreconnect:\n  timeout: 2\n");
      const started = await offload(p, [
        "run",
        "--host",
        other,
        "--no-wait",
        "--",
        "python3",
        "train.py",
        "--epochs",
        "400",
      ]);
      expect(started.code, started.stderr).toBe(0);
      const [id] = await p.runIds();
      if (!id) throw new Error("no run recorded");
      cleanups.push(async () => {
        await undropHost(other);
        await offload(p, ["stop", id]);
      });
      const ui = await startUi(p.dir, ["--ssh-config", bed.sshConfig], { timeoutMs: 600_000 });
      cleanups.push(ui.stop);
      if (!context) throw new Error("chromium did not start");
      const page = await context.newPage();
      await page.goto(ui.url);
      await page.goto(`${ui.origin}/runs/${id}`);
      await page.waitForFunction(
        () =>
          (
            (globalThis as unknown as { offloadDashboard: Shown }).offloadDashboard.points.loss ??
            []
          ).length >= 2,
      );
      await dropHost(other);
      await page.locator("#log-note", { hasText: "lost the host" }).waitFor({ timeout: 90_000 });
      const before = epochsIn(await logText(page)).length;
      await undropHost(other);
      await page.waitForFunction(
        (count) =>
          (
            (
              globalThis as unknown as {
                document: { querySelector(s: string): { textContent: string | null } | null };
              }
            ).document
              .querySelector("#log")
              ?.textContent?.match(/^Epoch /gm) ?? []
          ).length >
          count + 2,
        before,
        { timeout: 90_000 },
      );
      expect(await page.locator("#log-note").textContent()).toBe("");
      const epochs = epochsIn(await logText(page));
      expect(epochs).toEqual(consecutive(epochs.length));
      await page.close();
    },
    300_000,
  );
});
