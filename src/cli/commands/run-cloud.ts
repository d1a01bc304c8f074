// `offload run` on a target with `cloud:`: the machine is made for the run and deleted after it, on
// success, failure, Ctrl+C, SIGTERM, a lost connection or a budget stop. A second Ctrl+C (or kill -9)
// leaves its deletion owed to the next offload command. The providers load only for such a target.
import type { EffectiveSettings } from "../../config/settings.js";
import { createStore } from "../../create.js";
import { EXIT_CODES, isOffloadError, OffloadError } from "../../errors.js";
import type { MachineCost, MachineLease } from "../../providers/lease.js";
import type { Transport } from "../../transport/types.js";
import type { Output } from "../render.js";
import type { RunFlags, RunHooks } from "./run.js";

type RunCommand = (
  projectDir: string,
  settings: EffectiveSettings,
  command: string[],
  flags: RunFlags,
  out: Output,
  hooks?: RunHooks,
) => Promise<number>;

export async function runOnCloudMachine(
  projectDir: string,
  settings: EffectiveSettings,
  command: string[],
  flags: RunFlags,
  out: Output,
  runCommand: RunCommand,
): Promise<number> {
  const cloud = settings.cloud;
  if (cloud === undefined) throw new Error("runOnCloudMachine: not a cloud target");
  if (flags.wait === false && !cloud.keep) {
    throw new OffloadError(
      "E_USAGE",
      "--no-wait on a cloud target would leave its machine with nobody to delete it",
      { hint: "follow the run, or set `keep: true` (and `idle_stop:`) on the target" },
    );
  }
  const say = (text: string) => out.stderr.write(`${text}\n`);
  const { leaseMachine } = await import("../../providers/lease.js");
  const signals = trapSignals(say);
  let lease: MachineLease | undefined;
  let runId: string | undefined;
  let stoppedBy: string | undefined;
  let left = false;
  let transport: Transport | undefined;
  let code: number = EXIT_CODES.failure;
  const budget = new AbortController();
  let rearm: NodeJS.Timeout | undefined;
  let budgetTimer: NodeJS.Timeout | undefined;
  try {
    lease = await leaseMachine({
      targetName: settings.hostLabel,
      target: cloud,
      signal: signals.interrupt,
      onWait: (what) => say(`waiting for ${what}`),
      onNote: say,
    });
    say(`machine: ${lease.machine.tag} (${lease.machine.id}) at ${lease.machine.address}`);
    signals.throwIfInterrupted();
    const setup = await lease
      .setUp((text) => out.stderr.write(text), signals.interrupt)
      .catch((error: unknown) => {
        signals.throwIfInterrupted();
        throw error;
      });
    if (setup === "cached") say("machine: setup already done on this machine");
    const active = lease;
    rearm = setInterval(() => void active.keepAlive(), active.rearmEveryMs);
    const stopAt = lease.stopAt;
    if (stopAt !== undefined) {
      budgetTimer = setTimeout(
        () => {
          stoppedBy = "budget";
          say(`budget: stopping the run before the budget of $${cloud.budgetUsd} is spent`);
          budget.abort();
        },
        Math.max(0, stopAt - Date.now()),
      );
    }
    const { cloud: _made, ...plain } = settings;
    const onMachine: EffectiveSettings = {
      ...plain,
      host: { kind: "ssh", host: lease.hostAlias, user: lease.machine.user },
      ssh: { ...settings.ssh, configFile: lease.sshConfigFile },
    };
    // runCommand takes Ctrl+C over while it runs: the first stops the job, the second leaves.
    signals.throwIfInterrupted();
    signals.pause();
    try {
      code = await runCommand(projectDir, onMachine, command, flags, out, {
        stop: budget.signal,
        onRunId: (id) => {
          runId = id;
        },
        onTransport: (made) => {
          transport = made;
        },
      });
    } catch (error) {
      // Left with a second Ctrl+C (or a closed stdout): the job goes on, the machine's deletion is owed.
      if (isOffloadError(error) && ["E_INTERRUPTED", "E_OUTPUT_CLOSED"].includes(error.code))
        left = true;
      throw error;
    }
    return code;
  } finally {
    clearInterval(rearm);
    clearTimeout(budgetTimer);
    signals.resume();
    if (lease !== undefined) {
      if (left && !lease.keep) {
        say(
          `machine ${lease.machine.tag} is left running: the next offload command deletes it (\`offload down ${lease.machine.tag}\` does it now)`,
        );
      } else {
        // A kept machine idles only once no ssh session is open: close this run's master now.
        if (lease.keep) await transport?.close().catch(() => {});
        const cost = await releaseLoudly(lease, say);
        if (runId !== undefined) await recordCost(projectDir, runId, cost, stoppedBy);
      }
    }
    signals.release();
  }
}

/** Deletes (or keeps) the machine, saying what it cost; a teardown that did not finish goes up. */
async function releaseLoudly(
  lease: MachineLease,
  say: (text: string) => void,
): Promise<MachineCost> {
  const { tag } = lease.machine;
  if (!lease.keep) say(`machine: deleting ${tag}`);
  const cost = await lease.release((what) => say(`waiting for ${what}`));
  const spent = cost.costUsd === undefined ? "" : `; cost $${cost.costUsd.toFixed(2)}`;
  say(lease.keep ? `machine: ${tag} kept${spent}` : `machine: ${tag} gone${spent}`);
  return cost;
}

async function recordCost(
  projectDir: string,
  runId: string,
  cost: MachineCost,
  stoppedBy: string | undefined,
): Promise<void> {
  const store = createStore(projectDir);
  const record = await store.load(runId).catch(() => undefined);
  if (record === undefined) return;
  record.machine = { ...cost, ...(stoppedBy === undefined ? {} : { stoppedBy }) };
  await store.save(record);
}

/**
 * While offload makes or deletes the machine: the first Ctrl+C (or SIGTERM) aborts the making and
 * deletes it; the next one leaves at once, the deletion owed. Paused while runCommand has its own.
 */
function trapSignals(say: (text: string) => void) {
  const interrupt = new AbortController();
  let paused = false;
  let count = 0;
  const onSignal = () => {
    count++;
    if (paused) return;
    if (count === 1) {
      say(
        "interrupted: deleting the machine (Ctrl+C again leaves it for the next offload command)",
      );
      interrupt.abort();
      return;
    }
    process.exit(EXIT_CODES.interrupted);
  };
  // SIGTERM is a Ctrl+C: the run stops, its outputs come home and the machine goes.
  const onTerm = () => {
    if (paused) process.emit("SIGINT");
    else onSignal();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onTerm);
  return {
    interrupt: interrupt.signal,
    throwIfInterrupted: () => {
      if (interrupt.signal.aborted)
        throw new OffloadError("E_INTERRUPTED", "interrupted before the run started", {
          hint: "offload deletes the machine; nothing was run",
        });
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    release: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onTerm);
    },
  };
}
