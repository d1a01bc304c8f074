// `offload logs` as a library call: a run's log from wherever it is. This machine's copy is a byte-exact
// prefix of the host's output.log, so the log is the local bytes, then the host's from that offset on.
// Nothing here writes the run store or takes the follower mark: any number of readers may watch a run.
import { closeSync, readSync } from "node:fs";
import { jobRefOf, type LogWriter } from "../backends/types.js";
import type { RunContext } from "../context.js";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildLogFromScript, buildLogTailScript, readLogReply } from "../remote/logs.js";
import { openRunFile, runFileSize } from "../runs/files.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import type { Transport } from "../transport/types.js";

export interface ShowLogRequest {
  store: RunStore;
  record: RunRecord;
  /** Reached only when the host is needed (a run that has not ended here, a log gone from this machine). */
  host: () => Promise<RunContext>;
  /** Only the last lines. */
  tailLines?: number | undefined;
  /** Keep printing as the run writes, until it ends. */
  follow: boolean;
  write: (chunk: Uint8Array) => void;
  /** The run's machine.txt bytes, this machine's first, then the host's as the follow brings them. */
  samples?: ((chunk: Uint8Array) => void) | undefined;
  /** Reconnect notices while following. */
  report: Reporter;
  signal?: AbortSignal | undefined;
}

const CHUNK = 1024 * 1024;

/** Where the last `lines` lines of a file of `size` bytes start (a final line break ends a line). */
function tailOffset(fd: number, size: number, lines: number): number {
  if (lines <= 0) return size;
  const buffer = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
  let seen = 0;
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - buffer.length);
    const got = readSync(fd, buffer, 0, end - start, start);
    for (let i = got - 1; i >= 0; i--) {
      // The break that ends the file closes its last line; it does not start one.
      if (buffer[i] !== 10 || start + i === size - 1) continue;
      seen += 1;
      if (seen === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

/** Copies bytes [from, to) of the local log to `write`, a chunk at a time (logs run to gigabytes). */
function copyLocal(
  path: string,
  size: number,
  tailLines: number | undefined,
  write: ShowLogRequest["write"],
) {
  const fd = openRunFile(path, "read");
  try {
    let at = tailLines === undefined ? 0 : tailOffset(fd, size, tailLines);
    const buffer = Buffer.alloc(CHUNK);
    while (at < size) {
      const got = readSync(fd, buffer, 0, Math.min(CHUNK, size - at), at);
      if (got === 0) break;
      write(buffer.subarray(0, got));
      at += got;
    }
  } finally {
    closeSync(fd);
  }
}

function logMissing(record: RunRecord, label: string, why: string): OffloadError {
  return new OffloadError(
    "E_LOG_MISSING",
    `The log of run ${record.id} is not on this machine, and ${why}.`,
    {
      hint: `It lived in ${record.target.remoteDir}/.offload/runs/${record.id}/output.log on ${label}; when that host is reachable and the dir still there, \`offload logs ${record.id}\` fetches it.`,
    },
  );
}

/** One round trip that prints the host's log (from `offset`, or its last lines); returns the size read to. */
async function fetchRemote(
  request: ShowLogRequest,
  transport: Transport,
  from: { offset: number } | { tailLines: number },
): Promise<{ size?: number; missing: boolean }> {
  const { record } = request;
  await transport.connect();
  const script =
    "offset" in from
      ? buildLogFromScript(record.target.remoteDir, record.id, from.offset)
      : buildLogTailScript(record.target.remoteDir, record.id, from.tailLines);
  const result = await transport.exec(script, {
    onStdout: (chunk) => request.write(chunk),
    ...(request.signal ? { signal: request.signal } : {}),
  });
  if (result.connectionFailed) throw transport.explain(result);
  const reply = readLogReply(result.stderr);
  if (!reply.missing && result.code !== 0)
    throw new OffloadError(
      "E_LOG_MISSING",
      `Could not read run ${record.id}'s log on ${transport.label}: ${result.stderr.trim() || `status ${result.code}`}.`,
      {
        hint: `\`offload check --host ${transport.label}\` shows whether the host and its remote dir are fine.`,
      },
    );
  return reply;
}

/** A sink that hands the followed bytes to the reader and keeps the offset: nothing lands on disk. */
function passThrough(offset: number, write: ShowLogRequest["write"]): LogWriter {
  let size = offset;
  return {
    get size() {
      return size;
    },
    write(chunk) {
      write(chunk);
      size += chunk.length;
    },
  };
}

export async function showLog(request: ShowLogRequest): Promise<void> {
  const { store, record, tailLines } = request;
  const path = store.logPath(record.id);
  const local = runFileSize(path);
  // A run that ended while followed has all of its log here.
  const ended = record.status !== "running" && record.status !== "launching";
  if (ended && local !== undefined) {
    copyLocal(path, local, tailLines, request.write);
    return;
  }
  let host: RunContext;
  try {
    host = await request.host();
  } catch (error) {
    if (local !== undefined) throw error;
    throw logMissing(
      record,
      record.target.label,
      `its host cannot be reached from here: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const { transport } = host;
  let offset = 0;
  if (tailLines === undefined) {
    // The host may be gone for good: what this machine holds comes first.
    if (local !== undefined) copyLocal(path, local, undefined, request.write);
    offset = local ?? 0;
  }
  if (!request.follow || tailLines !== undefined) {
    let fetched: Awaited<ReturnType<typeof fetchRemote>>;
    try {
      fetched = await fetchRemote(
        request,
        transport,
        tailLines === undefined ? { offset } : { tailLines },
      );
    } catch (error) {
      if (local === undefined && error instanceof OffloadError && error.code !== "E_LOG_MISSING")
        throw logMissing(
          record,
          transport.label,
          `${transport.label} did not answer: ${error.message}`,
        );
      throw error;
    }
    if (fetched.missing && local === undefined)
      throw logMissing(
        record,
        transport.label,
        `${record.target.remoteDir} on ${transport.label} no longer has it`,
      );
    if (!request.follow || fetched.missing) return;
    offset = fetched.size ?? 0;
  }
  let samples: LogWriter | undefined;
  if (request.samples) {
    const local = Buffer.from(await store.readSamples(record.id));
    if (local.length > 0) request.samples(local);
    samples = passThrough(local.length, request.samples);
  }
  const end = await host.backend.follow(jobRefOf(record), {
    sink: passThrough(offset, request.write),
    samples,
    report: request.report,
    signal: request.signal,
  });
  if (end.kind === "missing" && offset === 0)
    throw logMissing(
      record,
      transport.label,
      `${record.target.remoteDir} on ${transport.label} no longer has it`,
    );
}
