// Nova's server as offload reads it: its status words as offload's machine states, and the description
// (addresses, fault, tag, region) a provider returns.
import { findAddresses } from "../address.js";
import type { MachineDescription, MachineState } from "../types.js";
import { isCapacityText } from "./errors.js";

/** The metadata key every server offload makes carries; its value is the machine's unique tag. */
export const TAG_KEY = "offload-tag";

export interface NovaServer {
  id: string;
  status?: string;
  created?: string;
  metadata?: Record<string, string>;
  fault?: { code?: number; message?: string; details?: string };
  "OS-EXT-STS:task_state"?: string | null;
}

/** Nova's status words as offload's states; a server being deleted is terminating whatever its status. */
export function stateOf(status: string, taskState: string | null | undefined): MachineState {
  if (taskState === "deleting") return "terminating";
  switch (status) {
    case "ACTIVE":
      return "running";
    case "BUILD":
    case "REBUILD":
    case "REBOOT":
    case "HARD_REBOOT":
    case "MIGRATING":
    case "RESIZE":
    case "VERIFY_RESIZE":
    case "REVERT_RESIZE":
    case "PASSWORD":
      return "pending";
    case "SHUTOFF":
    case "STOPPED":
    case "SUSPENDED":
    case "PAUSED":
    case "SHELVED":
    case "SHELVED_OFFLOADED":
      return "stopped";
    case "SOFT_DELETED":
      return "terminating";
    case "DELETED":
      return "gone";
    default:
      return "error";
  }
}

export function describeServer(server: NovaServer, region: string | undefined): MachineDescription {
  const rawState = server.status ?? "UNKNOWN";
  const description: MachineDescription = {
    id: server.id,
    state: stateOf(rawState, server["OS-EXT-STS:task_state"]),
    rawState,
    addresses: findAddresses(server),
  };
  const fault = server.fault?.message;
  if (fault !== undefined && description.state === "error") {
    description.fault = fault;
    description.faultIsCapacity = isCapacityText(`${fault} ${server.fault?.details ?? ""}`);
  }
  const tag = server.metadata?.[TAG_KEY];
  if (tag !== undefined) description.tag = tag;
  if (region !== undefined) description.region = region;
  if (server.created !== undefined) description.created = server.created;
  return description;
}
