// Waits a Ctrl+C can end: a sleep that rejects with E_INTERRUPTED once the signal aborts, and the
// check between steps; `withOptional` drops the undefined fields of an options object.
import { OffloadError } from "../errors.js";

/** A sleep that rejects with E_INTERRUPTED as soon as `signal` aborts. */
export function abortableSleep(
  sleep: (ms: number) => Promise<void>,
  signal: AbortSignal | undefined,
): (ms: number) => Promise<void> {
  if (signal === undefined) return sleep;
  return (ms) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(interrupted());
      const onAbort = () => reject(interrupted());
      signal.addEventListener("abort", onAbort, { once: true });
      sleep(ms).then(
        () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted();
}

function interrupted(): OffloadError {
  return new OffloadError("E_INTERRUPTED", "interrupted while the machine was being made", {
    hint: "offload deleted the machine; nothing was run",
  });
}

export function withOptional<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
