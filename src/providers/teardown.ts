// Teardown that is confirmed, never assumed: delete, then describe until the cloud says gone; the
// ledger entry goes only then, and stays "teardown-owed" with the reason when time runs out.
import { OffloadError } from "../errors.js";
import { isRetryable } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { defaultSleep } from "./retry.js";
import type { Provider } from "./types.js";

export interface TeardownOptions {
  /** How long to keep trying before leaving the teardown owed (default 10 minutes). */
  timeoutMs?: number;
  /** First pause between checks; doubles up to 10 s. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told what the teardown waits for, for people. */
  onWait?: (what: string) => void;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/**
 * Deletes every machine carrying `tag` (the id the ledger knows, and any the cloud lists under the tag:
 * a create that answered 500 may have made one) and waits until each is gone.
 */
export async function tearDown(
  provider: Provider,
  ledger: Ledger,
  tag: string,
  options: TeardownOptions = {},
): Promise<void> {
  const entry = await ledger.read(tag);
  if (entry === undefined) return;
  await ledger.update(tag, { state: "teardown-owed" });
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    const ids = new Set<string>(entry.id === undefined ? [] : [entry.id]);
    for (const machine of await untilDeadline(() => provider.list(tag), deadline, options)) {
      ids.add(machine.id);
    }
    for (const id of ids) await confirmGone(provider, id, entry.region, deadline, options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await ledger.update(tag, { state: "teardown-owed", lastError: message });
    throw new OffloadError(
      "E_MACHINE_LEAK",
      `machine ${tag} may still be running: its teardown did not finish (${message})`,
      {
        hint: "offload retries it at the next command; check with `offload machines` and delete it in the cloud's console if it stays",
        cause: error,
      },
    );
  }
  await ledger.remove(tag);
}

/** Deletes one machine and waits until the cloud says it is gone (bounded by the timeout). */
export function terminateUntilGone(
  provider: Provider,
  id: string,
  region: string | undefined,
  options: TeardownOptions = {},
): Promise<void> {
  return confirmGone(
    provider,
    id,
    region,
    Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    options,
  );
}

/** terminate (idempotent) and describe until gone; a machine still there is terminated again. */
async function confirmGone(
  provider: Provider,
  id: string,
  region: string | undefined,
  deadline: number,
  options: TeardownOptions,
): Promise<void> {
  const sleep = options.sleep ?? defaultSleep;
  let pause = options.pollMs ?? 1_000;
  for (;;) {
    await untilDeadline(() => provider.terminate(id, region), deadline, options);
    const now = await untilDeadline(() => provider.describe(id, region), deadline, options);
    if (now.state === "gone") return;
    if (Date.now() > deadline) throw new Error(`server ${id} is still ${now.rawState}`);
    options.onWait?.(`machine ${id} to be gone (${now.rawState})`);
    await sleep(pause);
    pause = Math.min(pause * 2, 10_000);
  }
}

/** Retries a call's retryable failures (beyond the provider's own bounded retries) until the deadline. */
async function untilDeadline<T>(
  call: () => Promise<T>,
  deadline: number,
  options: TeardownOptions,
): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  let pause = options.pollMs ?? 1_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryable(error) || Date.now() + pause > deadline) throw error;
      options.onWait?.(`the cloud to answer again (${error.message})`);
      await sleep(error.retryAfterMs ?? pause);
      pause = Math.min(pause * 2, 10_000);
    }
  }
}
