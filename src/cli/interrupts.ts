// Ctrl+C means what the screen says. In `run` the first stops the remote job (TERM, KILL after the
// grace period) and waits for it; the second leaves at once while the stop goes on on the host. In
// `attach` and `logs -f` Ctrl+C only stops watching: the job goes on. A closed stdout (`| head`) leaves
// like a Ctrl+C that only stops watching.

import { LEFT_BY } from "../backends/types.js";
import type { RunControls } from "../context.js";

export function captureInterrupts(
  mode: "stop-then-leave" | "leave",
  outputClosed?: AbortSignal,
): { controls: RunControls; release: () => void } {
  const stop = new AbortController();
  const leave = new AbortController();
  const onSignal = () => {
    if (mode === "stop-then-leave" && !stop.signal.aborted) stop.abort(LEFT_BY.interrupt);
    else if (!leave.signal.aborted) leave.abort(LEFT_BY.interrupt);
  };
  const onClosed = () => {
    if (!leave.signal.aborted) leave.abort(LEFT_BY.outputClosed);
  };
  process.on("SIGINT", onSignal);
  if (outputClosed?.aborted) onClosed();
  else outputClosed?.addEventListener("abort", onClosed, { once: true });
  return {
    controls: {
      ...(mode === "stop-then-leave" ? { stop: stop.signal } : {}),
      detach: leave.signal,
    },
    release: () => {
      process.off("SIGINT", onSignal);
      outputClosed?.removeEventListener("abort", onClosed);
    },
  };
}
