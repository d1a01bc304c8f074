// Owns the test run's bed: up once before all files, always down after, also on Ctrl+C or a crash.

import type { TestProject } from "vitest/node";
import { downUnlocked } from "./testbed/down.js";
import { addLease, dropLease, otherLeases, withLockSync } from "./testbed/lock.js";
import { defaultNames } from "./testbed/names.js";
import { startTestbed } from "./testbed/start.js";
import type { TestbedInfo } from "./testbed/types.js";

declare module "vitest" {
  export interface ProvidedContext {
    testbed: TestbedInfo;
  }
}

const DEFAULT_HOSTS = 4;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const names = defaultNames();
let released = true;
let handlersRegistered = false;

export async function setup(project: TestProject): Promise<void> {
  const wanted = Math.max(DEFAULT_HOSTS, Number(process.env.OFFLOAD_TB_HOSTS) || 0);
  released = false;
  registerExitHandlers();
  // Another run on this machine may share the bed: bring up as many hosts as the largest lease.
  addLease(names.stateDir, wanted);
  const info = await startTestbed(Math.max(wanted, ...otherLeases(names.stateDir)), names);
  if (info.reason !== undefined) process.stderr.write(`[testbed] ${info.reason}\n`);
  project.provide("testbed", info);
}

export function teardown(): void {
  release();
}

/** Down unless another live test run still holds a lease; decided under the lock, so no race. */
function release(): void {
  if (released) return;
  released = true;
  dropLease(names.stateDir);
  withLockSync(names.stateDir, () => {
    const others = otherLeases(names.stateDir);
    if (others.length === 0) downUnlocked(names);
    else process.stderr.write(`[testbed] left up: ${others.length} other test run(s) use it\n`);
  });
}

function registerExitHandlers(): void {
  if (handlersRegistered) return;
  handlersRegistered = true;
  process.once("exit", release);
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      release();
      // Alone, we would swallow the signal: re-raise it so the default action (exit) happens.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
