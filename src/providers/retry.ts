// Bounded retries of cloud calls: rate limits wait as long as the cloud asks, transient errors back off.
import { isRetryable, type ProviderError } from "./errors.js";

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** First backoff; doubles each time, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Told before each wait, so a caller can show what it waits for. */
  onWait?: (wait: RetryWait) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface RetryWait {
  attempt: number;
  delayMs: number;
  error: ProviderError;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 1_000, maxDelayMs: 30_000 };

/** Runs `call` until it succeeds, throws a non-retryable error, or the attempts run out. */
export async function withRetries<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  retryable: (error: unknown) => error is ProviderError = isRetryable,
): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!retryable(error) || attempt >= policy.attempts) throw error;
      const delayMs = delayFor(error, attempt, policy);
      policy.onWait?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/** Retry-After when the cloud gave one (never shortened), else exponential backoff. */
export function delayFor(error: ProviderError, attempt: number, policy: RetryPolicy): number {
  if (error.retryAfterMs !== undefined) return error.retryAfterMs;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
