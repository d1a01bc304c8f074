// Bounded polling for tests: wait until something a test is about to check has happened.

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls (bounded: `tries` × 100 ms) until `ready` says yes; the test's assertion then says what was wrong. */
export async function waitFor(ready: () => boolean | Promise<boolean>, tries = 600): Promise<void> {
  for (let i = 0; i < tries && !(await ready()); i++) await sleep(100);
}
