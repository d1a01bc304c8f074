// Owns state.json: which kind of bed is up in a state dir, so down() and the fault helpers know.

import { join } from "node:path";
import { readOrEmpty, writeAtomic } from "./files.js";

export interface BedState {
  mode: "netns" | "loopback";
  hosts: number;
  /** Loopback mode: the port the single sshd listens on. */
  port?: number;
}

export function readState(stateDir: string): BedState | undefined {
  const text = readOrEmpty(join(stateDir, "state.json"));
  if (text === "") return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<BedState>;
    if (parsed.mode !== "netns" && parsed.mode !== "loopback") return undefined;
    return {
      mode: parsed.mode,
      hosts: typeof parsed.hosts === "number" ? parsed.hosts : 0,
      ...(typeof parsed.port === "number" ? { port: parsed.port } : {}),
    };
  } catch {
    return undefined;
  }
}

export function writeState(stateDir: string, state: BedState): void {
  writeAtomic(join(stateDir, "state.json"), `${JSON.stringify(state)}\n`);
}
