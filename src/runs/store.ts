// The local run store: `.offload/runs/<id>/` in the project, one folder a run, written atomically.
import { mkdirSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { OffloadError } from "../errors.js";
import {
  LOG_FILE,
  METRICS_FILE,
  openRunFileToReadIfAny,
  REPORT_FILE,
  readRunFile,
  runFileSize,
  SAMPLES_FILE,
} from "./files.js";
import { isRunId } from "./id.js";
import { claimFollower, type LogSink, liveFollower, openAppend, openLazily } from "./log-sinks.js";
import type { RunRecord } from "./record.js";
import { type DamagedRun, damagedError, listIds, readRecord, surveyRuns } from "./record-read.js";

export type { LogSink } from "./log-sinks.js";
export type { DamagedRun } from "./record-read.js";

export interface RunStore {
  readonly root: string;
  runDir(id: string): string;
  logPath(id: string): string;
  artifactsDir(id: string): string;
  save(record: RunRecord): Promise<void>;
  load(id: string): Promise<RunRecord>;
  /** Deletes a run's folder (for a launch that never happened). */
  remove(id: string): Promise<void>;
  list(): Promise<RunRecord[]>;
  /** Every run folder: the records that read well, and those whose run.json is damaged. */
  survey(): Promise<{ records: RunRecord[]; damaged: DamagedRun[] }>;
  /** Resolves a user's id: a full id, a unique prefix, a run's name (its latest run), or undefined for the latest run. */
  resolveId(partial: string | undefined): Promise<string>;
  /**
   * Opens the run's local output.log for appending; writes are synchronous so bytes stay in order.
   * One offload at a time: another live one following the run is an E_LOCKED error.
   */
  openLog(id: string): LogSink;
  /**
   * Opens the run's machine.txt for appending, as the log (its size is where the samples resume); the
   * caller holds the log, and with it the right to follow the run.
   */
  openSamples(id: string): LogSink;
  /** The run's machine samples as text ("" when it has none). */
  readSamples(id: string): Promise<string>;
  /** The pid of another live offload on this machine that follows the run (holds its log), if any. */
  followerOf(id: string): number | undefined;
  logSize(id: string): Promise<number>;
  /**
   * Moves the run's output.log to `attempts/<n>.log` before its next attempt (whose log starts at byte 0
   * on the host); returns the path relative to the run's folder.
   */
  archiveLog(id: string, attempt: number): Promise<string>;
  /** The last `bytes` of the run's output.log from a line start ("" when there is none). */
  readLogTail(id: string, bytes: number): Promise<string>;
  /** The run's whole output.log ("" when there is none). */
  readLog(id: string): Promise<string>;
  /** The run's metrics.jsonl as text ("" when the run reported no metric). */
  readMetrics(id: string): Promise<string>;
  /** Where `offload report --html` writes a single run's page by default. */
  reportPath(id: string): string;
}

/** Writes next to the target and renames over it, so a reader never sees half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(temp, data);
  await rename(temp, path);
}

export function openRunStore(projectDir: string): RunStore {
  const state = join(projectDir, ".offload");
  const root = join(state, "runs");
  const runDir = (id: string) => {
    // The id becomes a path (and, through the record, a remote shell word): only a real id may.
    if (!isRunId(id))
      throw new OffloadError("E_RUN_NOT_FOUND", `\`${id}\` is not a run id.`, {
        hint: "`offload ps` lists the runs of this project with their ids.",
      });
    return join(root, id);
  };

  const survey = async () => surveyRuns(root, join(state, "survey.journal"));

  // The write of each run's run.json under way: the next save of that run waits for it (see save).
  const writing = new Map<string, Promise<void>>();

  async function ensure(id: string): Promise<void> {
    await mkdir(runDir(id), { recursive: true });
    // `.offload/` ignores itself, so it never ends up in git or in a sync.
    await writeFile(join(state, ".gitignore"), "*\n", { flag: "wx" }).catch(() => {});
  }

  return {
    root,
    runDir,
    logPath: (id) => join(runDir(id), LOG_FILE),
    artifactsDir: (id) => join(runDir(id), "artifacts"),
    // The record is read as it stands when save is called, and a run's saves are written in the order
    // they were called: a save left running (a `void save`) can never rename an older state over a
    // newer one, and a reader of run.json sees the states in order.
    save(record) {
      const { id } = record;
      const text = `${JSON.stringify(record, null, 2)}\n`;
      const write = (writing.get(id) ?? Promise.resolve())
        .catch(() => {})
        .then(async () => {
          await ensure(id);
          await writeFileAtomic(join(runDir(id), "run.json"), text);
        });
      writing.set(id, write);
      const forget = () => {
        if (writing.get(id) === write) writing.delete(id);
      };
      write.then(forget, forget);
      return write;
    },
    async load(id) {
      const read = isRunId(id) ? await readRecord(runDir(id), id) : { missing: true as const };
      if ("record" in read) return read.record;
      if ("problem" in read) throw damagedError(id, read.problem, runDir(id));
      throw new OffloadError("E_RUN_NOT_FOUND", `No run ${id} in ${root}.`, {
        hint: "`offload ps` lists the runs of this project.",
      });
    },
    async remove(id) {
      // A save still in flight would write run.json into the folder as rm empties it: rmdir then
      // fails ENOTEMPTY (seen as exit 250 after a launch that started nothing), or the folder comes
      // back holding a lone run.json. Wait for it; retries cover any other late writer.
      await writing.get(id)?.catch(() => {});
      await rm(runDir(id), { recursive: true, force: true, maxRetries: 3 });
    },
    async list() {
      return (await survey()).records;
    },
    survey,
    async resolveId(partial) {
      const ids = await listIds(root);
      if (partial === undefined) {
        const latest = ids.at(-1);
        if (latest === undefined)
          throw new OffloadError("E_RUN_NOT_FOUND", "This project has no runs yet.", {
            hint: "Start one with `offload run --host <host> -- <command>`.",
          });
        return latest;
      }
      // An empty argument (`"$RUN"` unset) names no run: as a prefix it would match them all, and
      // pick the only one without a word.
      const matches =
        partial === "" ? [] : ids.filter((id) => id.startsWith(partial) || id.endsWith(partial));
      if (matches.length === 1 && matches[0]) return matches[0];
      // Ids win; a name that names no single id (none, or several: `--name 20261202`) is the latest run
      // of that name. By startedAt, not by id: ids only order by the second, and two runs of one name
      // can start within one.
      if (partial !== "") {
        const named = (await survey()).records
          .filter((r) => r.name === partial)
          .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
          .at(-1);
        if (named !== undefined) return named.id;
      }
      throw new OffloadError(
        "E_RUN_NOT_FOUND",
        matches.length === 0
          ? `No run matches \`${partial}\`.`
          : `\`${partial}\` matches ${matches.length} runs.`,
        {
          hint: "`offload ps` lists the runs with their ids and names; give more of the id, or a run's name.",
        },
      );
    },
    openLog(id) {
      mkdirSync(runDir(id), { recursive: true });
      const release = claimFollower(runDir(id), id);
      try {
        return openAppend(join(runDir(id), LOG_FILE), release);
      } catch (error) {
        release();
        throw error;
      }
    },
    openSamples(id) {
      return openLazily(join(runDir(id), SAMPLES_FILE));
    },
    readSamples: async (id) => readRunFile(runDir(id), SAMPLES_FILE),
    async archiveLog(id, attempt) {
      const relative = `attempts/${attempt}.log`;
      await mkdir(join(runDir(id), "attempts"), { recursive: true });
      const move = (from: string, to: string) =>
        rename(join(runDir(id), from), join(runDir(id), to)).catch((error) => {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        });
      await move(LOG_FILE, relative);
      // The next attempt's sampler starts a new file on the host, from byte 0: so does this copy.
      await move(SAMPLES_FILE, `attempts/${attempt}.${SAMPLES_FILE}`);
      return relative;
    },
    followerOf(id) {
      return liveFollower(runDir(id));
    },
    logSize: async (id) => runFileSize(join(runDir(id), LOG_FILE)) ?? 0,
    async readLogTail(id, bytes) {
      const file = await openRunFileToReadIfAny(join(runDir(id), LOG_FILE));
      if (file === undefined) return "";
      try {
        const { size } = await file.stat();
        const start = Math.max(0, size - bytes);
        const buffer = Buffer.alloc(size - start);
        await file.read(buffer, 0, buffer.length, start);
        const text = buffer.toString("utf8");
        // A tail that starts mid-line would read as a different line: begin at the next one.
        return start === 0 ? text : text.slice(text.search(/[\r\n]/) + 1);
      } finally {
        await file.close();
      }
    },
    readLog: async (id) => readRunFile(runDir(id), LOG_FILE),
    readMetrics: async (id) => readRunFile(runDir(id), METRICS_FILE),
    reportPath: (id) => join(runDir(id), REPORT_FILE),
  };
}
