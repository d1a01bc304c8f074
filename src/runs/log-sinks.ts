// A run's append-only local files (output.log, machine.txt) and the mark of the one offload that
// follows the run and appends to them.
import {
  closeSync,
  fstatSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { OffloadError } from "../errors.js";
import { openRunFile, runFileSize } from "./files.js";

export interface LogSink {
  /** Bytes in the file: where the next stream resumes. */
  readonly size: number;
  write(chunk: Uint8Array): void;
  close(): void;
  /** The file for a child to append to (openAppend's sinks): backends/types.ts' DirectLog. */
  readonly direct?: {
    readonly path: string;
    readonly fd: number;
    read(buffer: Uint8Array, position: number): number;
    grew(bytes: number): void;
  };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Marks this process as the one appending to a run's log (`follower.pid`): two followers, a `run` and
 * an `attach` in two terminals, would each append the same bytes. A mark whose process is gone (a
 * killed offload) is taken over. Returns the release.
 */
export function claimFollower(dir: string, id: string): () => void {
  const path = join(dir, "follower.pid");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(path, "utf8").trim());
    } catch {
      // removed meanwhile: try again
    }
    if (isAlive(holder)) {
      throw new OffloadError(
        "E_LOCKED",
        `Run ${id} is being followed by another offload on this machine (pid ${holder}).`,
        {
          hint: `That one records the run's end; \`offload logs ${id}\` shows the log so far. Two followers would write the log twice.`,
        },
      );
    }
    rmSync(path, { force: true });
  }
  throw new OffloadError("E_LOCKED", `Could not mark run ${id} as followed by this offload.`, {
    hint: "Another offload keeps taking the run: try again once it is done.",
  });
}

export function liveFollower(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, "follower.pid"), "utf8").trim());
  } catch {
    return undefined;
  }
  return isAlive(pid) ? pid : undefined;
}

/**
 * A file opened for appending with synchronous writes (bytes stay in order); its size is the offset.
 * Opened for reading too: a child that appends to it directly (`direct`) has its bytes read back.
 */
export function openAppend(path: string, onClose: () => void): LogSink {
  const fd = openRunFile(path, "append");
  let size = fstatSync(fd).size;
  let open = true;
  return {
    get size() {
      return size;
    },
    write(chunk) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done);
      size += chunk.length;
    },
    direct: {
      path,
      fd,
      read: (buffer, position) => readSync(fd, buffer, 0, buffer.length, position),
      grew(bytes) {
        size += bytes;
      },
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
      onClose();
    },
  };
}

/** As openAppend, but the file is made by the first write: a run without samples gets no empty file. */
export function openLazily(path: string): LogSink {
  let sink: LogSink | undefined;
  // Not there yet is fine; a link or a folder there is refused now, not at the first sample.
  const size = runFileSize(path) ?? 0;
  return {
    get size() {
      return sink?.size ?? size;
    },
    write(chunk) {
      sink ??= openAppend(path, () => {});
      sink.write(chunk);
    },
    close() {
      sink?.close();
    },
  };
}
