// Waiting between tries, shared by every phase that reconnects (follow, launch, download, a Slurm
// follow, retries): here, below both the sessions and the backends that reconnect.

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Backoff between reconnect attempts (1-based): 0.5 s, doubling, at most 5 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** (attempt - 1), 5000);
}
