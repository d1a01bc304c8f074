// A `cloud:` target's HostSource: the machine is made when the run acquires its host and deleted when
// the run gives it back, on success, failure, Ctrl+C, SIGTERM, a lost connection or a budget stop. A
// second Ctrl+C (or kill -9) leaves its deletion owed to the next offload command (providers/owed.ts).
import type { CloudTarget } from "../config/cloud.js";
import type { AcquiredHost, HostSource, RunContext } from "../context.js";
import { EXIT_CODES, OffloadError } from "../errors.js";
import { amendRecord } from "../runs/record-writer.js";
import { type LeaseRequest, leaseMachine } from "./lease.js";
import { Ledger, type LedgerRun } from "./ledger.js";
import type { MachineCost, MachineLease } from "./machine-lease.js";
import { leaveMachinesOwed } from "./owed.js";

/** How the run reaches the machine: an ssh alias in an ssh config that pins its host key. */
export interface MachineAddress {
  alias: string;
  user: string;
  sshConfigFile: string;
}

export interface MachineSourceRequest {
  targetName: string;
  target: CloudTarget;
  /** The run's context moved onto the machine (create.ts builds it: transport, target, backend). */
  contextOn(machine: MachineAddress, base: RunContext): RunContext;
  /** For tests: a provider or ledger made elsewhere. */
  lease?: Partial<Pick<LeaseRequest, "provider" | "ledger" | "env" | "pollMs">>;
}

export function cloudMachine(request: MachineSourceRequest): HostSource {
  return {
    acquire: async (context, needs) => {
      const run = needs?.runId && { id: needs.runId, projectDir: context.projectDir };
      // --no-wait leaves nobody to delete a machine: only a kept one (`offload up`) will do.
      const keptOnly = needs?.noWait === true && !request.target.keep;
      return acquireMachine(request, context, run || undefined, keptOnly);
    },
  };
}

async function acquireMachine(
  request: MachineSourceRequest,
  context: RunContext,
  run: LedgerRun | undefined,
  keptOnly: boolean,
): Promise<AcquiredHost> {
  const { report } = context;
  const ledger = request.lease?.ledger ?? new Ledger();
  const signals = trapSignals(context, ledger);
  const stop = context.controls.stop;
  let lease: MachineLease | undefined;
  try {
    lease = await leaseMachine({
      ...request.lease,
      ledger,
      targetName: request.targetName,
      target: request.target,
      ...(run === undefined ? {} : { run }),
      ...(keptOnly ? { keptOnly } : {}),
      ...(stop === undefined ? {} : { signal: stop }),
      onWait: (what) => report({ type: "machine-wait", what }),
      onNote: (text) => report({ type: "machine-note", text }),
    });
    const made = lease;
    const { tag, id, address } = made.machine;
    report({ type: "machine-ready", tag, id, address });
    signals.throwIfInterrupted();
    const setup = await made
      .setUp((text) => report({ type: "machine-output", data: Buffer.from(text) }), stop)
      .catch((error: unknown) => {
        signals.throwIfInterrupted();
        throw error;
      });
    if (setup === "cached") report({ type: "machine-setup-cached", tag });
    signals.throwIfInterrupted();
  } catch (error) {
    if (lease !== undefined) await releaseLoudly(lease, report).catch(() => {});
    signals.release();
    throw error;
  }
  return holdMachine(request, context, lease, signals);
}

/** The machine while the run uses it: its dead-man switch re-armed, its budget watched. */
function holdMachine(
  request: MachineSourceRequest,
  context: RunContext,
  lease: MachineLease,
  signals: ReturnType<typeof trapSignals>,
): AcquiredHost {
  const say = context.report;
  const rearm = setInterval(() => void lease.keepAlive(), lease.rearmEveryMs);
  const budget = new AbortController();
  let stoppedBy: string | undefined;
  const stopAt = lease.stopAt;
  const budgetTimer =
    stopAt === undefined
      ? undefined
      : setTimeout(
          () => {
            stoppedBy = "budget";
            say({ type: "machine-budget-stop", budgetUsd: request.target.budgetUsd ?? 0 });
            budget.abort();
          },
          Math.max(0, stopAt - Date.now()),
        );
  let runId: string | undefined;
  const report: RunContext["report"] = (event) => {
    if (event.type === "launched") runId = event.runId;
    context.report(event);
  };
  const { stop } = context.controls;
  const controls = {
    ...context.controls,
    stop: stop === undefined ? budget.signal : AbortSignal.any([stop, budget.signal]),
  };
  const onMachine = request.contextOn(
    { alias: lease.hostAlias, user: lease.machine.user, sshConfigFile: lease.sshConfigFile },
    { ...context, report, controls },
  );
  // The run's own Ctrl+C handling applies while it runs: the first stops the job, the second leaves.
  signals.pause();
  return {
    context: onMachine,
    freshOnLoss: !lease.keep,
    release: async () => {
      clearInterval(rearm);
      clearTimeout(budgetTimer);
      signals.resume();
      try {
        // Left with a second Ctrl+C (or a closed stdout): the job goes on, the deletion is owed.
        if (context.controls.detach?.aborted && !lease.keep) {
          await leaveMachinesOwed(lease.ledger, [lease.machine.tag]).catch(() => []);
          say({ type: "machine-left", tag: lease.machine.tag });
          return;
        }
        // A kept machine idles only once no ssh session is open: close this run's master now.
        if (lease.keep) await onMachine.transport.close().catch(() => {});
        const cost = await releaseLoudly(lease, say);
        if (runId !== undefined) await recordCost(context, runId, cost, stoppedBy);
      } finally {
        signals.release();
      }
    },
  };
}

/** Deletes (or keeps) the machine, saying what it cost; a teardown that did not finish goes up. */
async function releaseLoudly(lease: MachineLease, say: RunContext["report"]): Promise<MachineCost> {
  const { tag } = lease.machine;
  if (!lease.keep) say({ type: "machine-deleting", tag });
  const cost = await lease.release((what) => say({ type: "machine-wait", what }));
  say({
    type: "machine-released",
    tag,
    kept: lease.keep,
    ...(cost.costUsd === undefined ? {} : { costUsd: cost.costUsd }),
  });
  return cost;
}

/** The machine's cost goes into the run record; a run retried on a fresh machine pays for both. */
async function recordCost(
  context: RunContext,
  runId: string,
  cost: MachineCost,
  stoppedBy: string | undefined,
): Promise<void> {
  // No record (the run never launched, its folder removed): nothing to write the cost into.
  const found = await context.store.load(runId).then(
    () => true,
    () => false,
  );
  if (!found) return;
  await amendRecord(context.store, runId, (record) => {
    const before = record.machine;
    const earlier = before !== undefined && before.tag !== cost.tag ? (before.costUsd ?? 0) : 0;
    const costUsd =
      cost.costUsd === undefined
        ? undefined
        : Math.round((cost.costUsd + earlier) * 10_000) / 10_000;
    return {
      machine: {
        ...cost,
        ...(costUsd === undefined ? {} : { costUsd }),
        ...(stoppedBy === undefined ? {} : { stoppedBy }),
      },
    };
  });
}

/** A job across N machines traps N times: one SIGTERM must still be one Ctrl+C, and one leave one exit. */
const shared = { termTraps: 0, leaving: false };
const forwardTerm = () => process.emit("SIGINT");

/**
 * While offload makes or deletes the machine: the first Ctrl+C (or SIGTERM) aborts the making and
 * deletes it; the next one leaves at once (exit 130), the deletion owed in the ledger and said. Paused
 * while the run has its own. SIGTERM is a Ctrl+C for as long as a machine is held: the run stops,
 * outputs come home, it goes.
 */
function trapSignals(context: RunContext, ledger: Ledger) {
  const { stop, detach } = context.controls;
  let paused = false;
  const onStop = () => {
    if (!paused) context.report({ type: "machine-interrupted" });
  };
  const leave = async () => {
    for (const tag of await leaveMachinesOwed(ledger).catch(() => []))
      context.report({ type: "machine-left", tag });
    process.exit(EXIT_CODES.interrupted);
  };
  const onLeave = () => {
    if (paused || shared.leaving) return;
    shared.leaving = true;
    void leave();
  };
  stop?.addEventListener("abort", onStop);
  detach?.addEventListener("abort", onLeave);
  if (shared.termTraps++ === 0) process.on("SIGTERM", forwardTerm);
  let released = false;
  return {
    throwIfInterrupted: () => {
      if (stop?.aborted)
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
      if (released) return;
      released = true;
      stop?.removeEventListener("abort", onStop);
      detach?.removeEventListener("abort", onLeave);
      if (--shared.termTraps === 0) process.off("SIGTERM", forwardTerm);
    },
  };
}
