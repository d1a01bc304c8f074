// A reader that leaves early (`offload run … | head -2`, `offload events big.log | head -1`) closes
// stdout: the next write fails with EPIPE. That is no bug: offload stops what it prints, leaves the job
// running, and exits 141 (128 + SIGPIPE, as a shell reports a command a broken pipe ended).

/** Aborts once stdout can take no more (EPIPE or any other write error); stderr errors are ignored. */
export function watchOutputClosed(
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): AbortSignal {
  const closed = new AbortController();
  stdout.on("error", () => {
    if (!closed.signal.aborted) closed.abort();
  });
  // A closed stderr leaves nowhere to say anything: carry on without it.
  stderr.on("error", () => {});
  return closed.signal;
}

/** Lets a write's error (reported a tick later) land, so `closed` is up to date. */
export function settleWrites(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
