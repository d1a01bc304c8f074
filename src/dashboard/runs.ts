// What the dashboard knows of the project's runs: the records with their live status (the truth `ps`
// shows: the hosts of live runs are asked, and what they say is settled into the store), each run's
// metric points, and the live follows of runs that have not ended.
import type { RunContext } from "../context.js";
import { type MetricPoint, parseMetricsJsonl } from "../report/metrics.js";
import { pickMainMetric, type RunSummary, runDuration, summarizeRun } from "../report/summary.js";
import type { RunRecord } from "../runs/record.js";
import type { DamagedRun, RunStore } from "../runs/store.js";
import type { ShowLogRequest } from "../session/logs.js";
import { type Refreshed, refreshRuns } from "../session/refresh.js";
import { loadSamples, type MachineSample } from "../session/samples.js";
import { followLive, type LiveLog } from "./live-log.js";

export interface DashboardContext {
  store: RunStore;
  projectDir: string;
  /** How the dashboard reaches a run's host: built by the CLI from the settings, as `logs` does. */
  contextFor: (record: RunRecord) => Promise<RunContext>;
  /** `progress.patterns` from offload.yaml. */
  patterns: readonly string[];
  /** How long a host may take to say how its runs stand. */
  hostTimeoutMs: number;
}

export interface RunRow {
  id: string;
  name?: string;
  /** `key=value` a tag. */
  tags: string[];
  status: string;
  /** Why the status could not be asked, when the host did not answer. */
  unknown?: string;
  exitCode: number | null;
  target: string;
  command: string;
  startedAt: string;
  durationMs: number | null;
  main?: { name: string; best: number | null; final: number | null; goal: string };
}

/** How long after a failed follow the next page or list asks for a new one. */
const RETRY_MS = 5000;

export function isLive(record: Pick<RunRecord, "status">): boolean {
  return record.status === "running" || record.status === "launching";
}

/** The metric a list shows: a validation one where there is one, else the first the run printed. */
function pickMain(summary: RunSummary): RunRow["main"] {
  const metric = pickMainMetric(summary.metrics);
  if (metric === undefined) return undefined;
  const finite = (n: number) => (Number.isFinite(n) ? n : null);
  return {
    name: metric.name,
    best: finite(metric.best),
    final: finite(metric.final),
    goal: metric.goal,
  };
}

export interface RunsView {
  list(): Promise<{ rows: RunRow[]; damaged: DamagedRun[] }>;
  record(id: string): Promise<RunRecord>;
  /** A run's points: from its live follow while the server follows it, else from metrics.jsonl. */
  metrics(record: RunRecord): Promise<MetricPoint[]>;
  summary(record: RunRecord): Promise<RunSummary>;
  /** The host's machine samples: from the live follow while there is one, else machine.txt. */
  machine(record: RunRecord): Promise<MachineSample[]>;
  /** The live follow of a run that has not ended (started on first need), or undefined. */
  live(record: RunRecord): LiveLog | undefined;
  logPath(id: string): string;
  artifactsDir(id: string): string;
  /** Asks the hosts of live runs how they stand (at most every few seconds) and saves the answer. */
  refresh(): Promise<Map<string, string>>;
  close(): void;
}

export function createRunsView(context: DashboardContext): RunsView {
  const { store } = context;
  const follows = new Map<string, LiveLog>();
  let lastAsk = 0;
  let asking: Promise<Refreshed> | undefined;
  let unknown = new Map<string, string>();

  const live = (record: RunRecord): LiveLog | undefined => {
    const known = follows.get(record.id);
    // A follow that gave up (the host unreachable past reconnect.timeout) is tried afresh a little
    // later while the run is still live: the dashboard outlives outages a terminal would not.
    const gaveUp =
      known?.error !== undefined && isLive(record) && Date.now() - known.endedAt > RETRY_MS;
    if (known && !gaveUp) return known;
    if (!isLive(record)) return undefined;
    const host: ShowLogRequest["host"] = () => context.contextFor(record);
    const log = followLive({ store, record, host, patterns: context.patterns });
    follows.set(record.id, log);
    return log;
  };

  /**
   * Asks the hosts at most every few seconds, however many pages poll: the records as they now stand (a
   * refresh settles ended runs) and the runs the hosts could not tell.
   */
  const askHosts = async (records: RunRecord[]): Promise<Refreshed> => {
    if (asking) return { records, unknown: (await asking).unknown };
    if (Date.now() - lastAsk < 3000) return { records, unknown };
    asking = refreshRuns({
      store,
      records,
      backendFor: async (record) => (await context.contextFor(record)).backend,
      timeoutMs: context.hostTimeoutMs,
    }).finally(() => {
      lastAsk = Date.now();
      asking = undefined;
    });
    const refreshed = await asking;
    unknown = refreshed.unknown;
    return refreshed;
  };

  const metrics = async (record: RunRecord): Promise<MetricPoint[]> => {
    const followed = follows.get(record.id);
    if (followed) return [...followed.metrics];
    const text = await store.readMetrics(record.id).catch(() => "");
    return parseMetricsJsonl(text);
  };

  const summary = async (record: RunRecord) => summarizeRun(record, await metrics(record));

  return {
    async list() {
      const surveyed = await store.survey();
      const { damaged } = surveyed;
      const { records, unknown: why } = await askHosts(surveyed.records);
      const rows = await Promise.all(
        records.map(async (record): Promise<RunRow> => {
          // Following every live run keeps their pages current with no terminal open.
          live(record);
          const reason = why.get(record.id);
          const main = pickMain(await summary(record));
          return {
            id: record.id,
            ...(record.name === undefined ? {} : { name: record.name }),
            tags: Object.entries(record.tags ?? {}).map(([key, value]) => `${key}=${value}`),
            status: reason === undefined ? record.status : "unknown",
            ...(reason === undefined ? {} : { unknown: reason }),
            exitCode: record.exitCode,
            target: record.target.label,
            command: record.command.join(" "),
            startedAt: record.startedAt,
            durationMs: runDuration(record) ?? liveDuration(record),
            ...(main ? { main } : {}),
          };
        }),
      );
      return { rows, damaged };
    },
    record: (id) => store.load(id),
    logPath: (id) => store.logPath(id),
    artifactsDir: (id) => store.artifactsDir(id),
    refresh: async () => (await askHosts((await store.survey()).records)).unknown,
    metrics,
    summary,
    machine: async (record) => {
      const followed = follows.get(record.id);
      return followed ? [...followed.machine] : loadSamples(store, record.id);
    },
    live,
    close() {
      for (const log of follows.values()) log.close();
    },
  };
}

function liveDuration(record: RunRecord): number | null {
  if (!isLive(record)) return null;
  const started = Date.parse(record.job?.startedAt ?? record.startedAt);
  return Number.isFinite(started) ? Date.now() - started : null;
}
