// Ctrl+C while a run streams: the first stops the remote job (and waits for it), the second leaves at
// once with the job still running over there.
import type { RunControls } from "../session/complete.js";

export function captureInterrupts(): { controls: RunControls; release: () => void } {
  const stop = new AbortController();
  const detach = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) stop.abort();
    else detach.abort();
  };
  process.on("SIGINT", onSignal);
  return {
    controls: { stop: stop.signal, detach: detach.signal },
    release: () => process.off("SIGINT", onSignal),
  };
}
