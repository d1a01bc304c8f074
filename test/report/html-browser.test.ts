// The HTML report of a real run, opened in a real headless Chromium: the charts are drawn, offline,
// with exactly the points of the run's metrics.jsonl. Leaves test-results/report.png to look at.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSamples } from "../../src/remote/samples.js";
import { formatNumber } from "../../src/report/format.js";
import { parseMetricsJsonl } from "../../src/report/metrics.js";
import { CHROMIUM, hasChromium, type OpenBrowser, openChromium } from "../support/browser.js";
import { runCli } from "../support/cli.js";
import { makeProject, REPO, type TempProject } from "../support/project.js";

if (!hasChromium)
  console.warn(
    `skipping the HTML report browser test: ${CHROMIUM} is missing (apt-get install chromium)`,
  );

let project: TempProject | undefined;
let browser: OpenBrowser | undefined;
let context: BrowserContext | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await openChromium({ viewport: { width: 1000, height: 900 }, offline: true });
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
  await project?.remove();
});

interface PageReport {
  charts: { name: string; x: number[]; series: { run: string; y: (number | null)[] }[] }[];
}

describe.skipIf(!hasChromium)("offload report --html in a browser", () => {
  it("draws one chart a metric with the run's own points, without the network", async () => {
    project = await makeProject("quickstart");
    const env = { HOME: project.home };
    const run = await runCli(
      ["run", "--host", "local", "--", "python3", "train.py", "--epochs", "8"],
      {
        cwd: project.dir,
        env,
      },
    );
    expect(run.code).toBe(0);
    const [id] = await project.runIds();
    if (!id) throw new Error("no run recorded");
    const runDir = join(project.dir, ".offload/runs", id);
    const points = parseMetricsJsonl(await readFile(join(runDir, "metrics.jsonl"), "utf8"));
    expect(points.length).toBeGreaterThan(0);

    const report = await runCli(["report", "--html"], { cwd: project.dir, env });
    expect(report.code).toBe(0);
    const path = join(runDir, "report.html");
    expect(report.stdout.trim()).toBe(path);

    if (!context) throw new Error("chromium did not start");
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    // Nothing may come from outside the file: everything is inlined.
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(path).href);
    await page.waitForFunction(() =>
      // globalThis is the page's window here: this function runs in the browser.
      Array.isArray((globalThis as { offloadCharts?: unknown[] }).offloadCharts),
    );
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(path).href]);

    const names = ["loss", "accuracy"];
    expect(await page.locator("section.chart canvas").count()).toBe(names.length);
    const shown = await page.evaluate(() => {
      const w = globalThis as unknown as {
        offloadReport: PageReport;
        offloadCharts: { data: (number | null)[][] }[];
      };
      return { report: w.offloadReport, drawn: w.offloadCharts.map((u) => u.data) };
    });
    expect(shown.report.charts.map((c) => c.name)).toEqual(names);
    shown.report.charts.forEach((chart, i) => {
      const mine = points.filter((p) => p.name === chart.name);
      expect(chart.series).toEqual([{ run: id, y: mine.map((p) => p.value) }]);
      expect(chart.x).toEqual(mine.map((p) => p.epoch));
      // What uPlot holds is what it draws.
      expect(shown.drawn[i]).toEqual([chart.x, chart.series[0]?.y]);
    });
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text keeps cells apart
    const table = await page.locator("table.summary").innerText();
    expect(table).toContain(id);
    expect(table).toContain("succeeded (exit 0)");
    const finalLoss = formatNumber(
      points.filter((p) => p.name === "loss").at(-1)?.value ?? Number.NaN,
    );
    expect(table).toMatch(new RegExp(`loss\\s+${finalLoss.replace(".", "\\.")}\\s`));

    await mkdir(join(REPO, "test-results"), { recursive: true });
    await page.screenshot({ path: join(REPO, "test-results/report.png"), fullPage: true });
  });

  it("draws the host's machine samples: CPU and memory over the run's seconds", async () => {
    const p = await makeProject();
    const env = { HOME: p.home };
    try {
      await p.write("offload.yaml", "machine_metrics: 1\n");
      const run = await runCli(["run", "--host", "local", "--", "sleep", "3"], { cwd: p.dir, env });
      expect(run.code, run.stderr).toBe(0);
      const [id] = await p.runIds();
      if (!id) throw new Error("no run recorded");
      const runDir = join(p.dir, ".offload/runs", id);
      const samples = parseSamples(await readFile(join(runDir, "machine.txt"), "utf8"));
      expect(samples.length).toBeGreaterThanOrEqual(2);
      const report = await runCli(["report", "--html"], { cwd: p.dir, env });
      expect(report.code, report.stderr).toBe(0);

      if (!context) throw new Error("chromium did not start");
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(pathToFileURL(join(runDir, "report.html")).href);
      await page.waitForFunction(() =>
        Array.isArray((globalThis as { offloadMachineCharts?: unknown[] }).offloadMachineCharts),
      );
      expect(errors).toEqual([]);
      expect(await page.locator(".machine-chart canvas").count()).toBe(1);
      const drawn = await page.evaluate(
        () =>
          (globalThis as unknown as { offloadMachineCharts: { data: (number | null)[][] }[] })
            .offloadMachineCharts[0]?.data,
      );
      // x (seconds), CPU %, memory %: one point a sample, as machine.txt has them.
      expect(drawn?.length).toBe(3);
      expect(drawn?.[0]).toHaveLength(samples.length);
      expect(drawn?.[2]?.every((v) => typeof v === "number" && v > 0)).toBe(true);
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text keeps cells apart
      const table = await page.locator("table.machine-summary").innerText();
      expect(table).toMatch(/cpu\s/);
      expect(table).toMatch(/memory\s/);
      await page.screenshot({
        path: join(REPO, "test-results/report-machine.png"),
        fullPage: true,
      });
    } finally {
      await p.remove();
    }
  });
});
