// Reads what a cloud's own CLI printed as JSON (pure): the machine objects in any shape (one object, a
// list, AWS's Reservations[].Instances[], GCP's aggregated items, `data` envelopes), their id and state.
import type { MachineState } from "../types.js";

type Json = Record<string, unknown>;

const ID_KEYS = ["InstanceId", "instance_id", "instanceId", "id", "ID", "Id", "uuid"];
const ID_LIST_KEYS = ["instance_ids", "InstanceIds", "instanceIds", "ids"];
const STATE_KEYS = [
  "status",
  "Status",
  "state",
  "State",
  "actual_status",
  "instance_status",
  "lifecycleState",
  "vm_state",
  "power_state",
];

/** Objects that look like machines (they carry a state), outermost first; the outermost object else. */
export function findMachines(output: unknown): Json[] {
  const found: Json[] = [];
  collectMachines(output, found, 0);
  return found;
}

function collectMachines(value: unknown, found: Json[], depth: number): void {
  if (depth > 8) return;
  if (Array.isArray(value)) {
    for (const item of value) collectMachines(item, found, depth + 1);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const record = value as Json;
  if (STATE_KEYS.some((key) => record[key] !== undefined) && ID_KEYS.some((k) => k in record)) {
    found.push(record);
    return;
  }
  for (const inner of Object.values(record)) collectMachines(inner, found, depth + 1);
}

/** The machine's id: `idField` (a dotted path such as `name` or `Instances.0.InstanceId`) when given. */
export function findId(output: unknown, idField?: string): string | undefined {
  if (idField !== undefined) return scalar(valueAt(output, idField));
  const machine = findMachines(output)[0];
  if (machine !== undefined) return firstScalar(machine, ID_KEYS);
  return findIdList(output, 0) ?? firstScalar(asRecord(output) ?? {}, ID_KEYS);
}

function findIdList(value: unknown, depth: number): string | undefined {
  const record = asRecord(value);
  if (record === undefined || depth > 4) return undefined;
  for (const key of ID_LIST_KEYS) {
    const list = record[key];
    if (Array.isArray(list) && list.length > 0) return scalar(list[0]);
  }
  for (const inner of Object.values(record)) {
    const id = findIdList(inner, depth + 1);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** The cloud's state word (AWS's `State: {Name}` too). */
export function findRawState(machine: Json): string | undefined {
  for (const key of STATE_KEYS) {
    const value = machine[key];
    const word = scalar(value) ?? scalar(asRecord(value)?.Name) ?? scalar(asRecord(value)?.name);
    if (word !== undefined) return word;
  }
  return undefined;
}

const WORDS: [RegExp, MachineState][] = [
  [/^(running|active|ready|started|up|online|healthy)$/, "running"],
  [/^(terminated|deleted|destroyed|gone|exited|removed)$/, "gone"],
  [/^(terminating|deleting|shutting[-_ ]?down|destroying|deprovisioning)$/, "terminating"],
  [/^(stopped|shutoff|stopping|suspended|suspending|paused|offline|hibernated)$/, "stopped"],
  [/error|fail|unhealthy|crash/, "error"],
];

/**
 * A state word as offload's state; `overrides` (the target's `states:`) win: clouds disagree on words
 * (GCP's TERMINATED is a stopped machine, AWS's terminated one is deleted). Unknown words are pending.
 */
export function stateOfWord(
  word: string,
  overrides: Record<string, MachineState> = {},
): MachineState {
  const given = overrides[word] ?? overrides[word.toLowerCase()];
  if (given !== undefined) return given;
  const lower = word.toLowerCase();
  return WORDS.find(([pattern]) => pattern.test(lower))?.[1] ?? "pending";
}

/** The offload tag a machine carries anywhere in its JSON (a name, a label, a tag value). */
export function findTag(machine: unknown): string | undefined {
  return /offload-[0-9a-f]{12}/.exec(JSON.stringify(machine))?.[0];
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split(".")) {
    if (Array.isArray(current)) current = current[Number(part)];
    else current = asRecord(current)?.[part];
  }
  // A list at the top (`gcloud … create --format json`) names its first machine.
  return Array.isArray(value) && current === undefined ? valueAt(value[0], path) : current;
}

function firstScalar(record: Json, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = scalar(record[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

function scalar(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

function asRecord(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}
