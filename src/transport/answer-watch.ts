// A bound on a connection that never answers: a stale ControlMaster over a cut link would otherwise
// hold a new session until its keepalives give up, far beyond the connect timeout the user set.

export interface AnswerWatch {
  /** Aborts when the time is up or when the caller's own signal aborts. */
  readonly signal: AbortSignal;
  /** True once the time ran out before an answer. */
  readonly expired: boolean;
  /** The host answered: the bound no longer applies. */
  answered(): void;
  /** Stops forwarding the caller's signal; call once the process has ended. */
  dispose(): void;
}

export function watchForAnswer(seconds: number, outer?: AbortSignal): AnswerWatch {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, seconds * 1000);
  const forward = () => controller.abort();
  if (outer?.aborted) controller.abort();
  else outer?.addEventListener("abort", forward, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    answered: () => clearTimeout(timer),
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forward);
    },
  };
}
