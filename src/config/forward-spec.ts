// `PORT[:LOCAL]` as `offload forward` and `forward:` in offload.yaml take it: the host's port on its
// 127.0.0.1, and the port wanted here (the same one by default).
import { OffloadError } from "../errors.js";

export interface ForwardSpec {
  remote: number;
  local: number;
}

const SPEC = /^([0-9]{1,5})(?::([0-9]{1,5}))?$/;

export function isForwardSpec(text: string): boolean {
  return SPEC.test(text);
}

/** A spec with both ports in 1-65535: what offload.yaml accepts. */
export function isValidForwardSpec(text: string): boolean {
  const match = SPEC.exec(text);
  return match?.slice(1).every((port) => port === undefined || validPort(Number(port))) ?? false;
}

const validPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65535;

export function parseForwardSpec(text: string): ForwardSpec {
  const match = SPEC.exec(text);
  const remote = Number(match?.[1]);
  const local = match?.[2] === undefined ? remote : Number(match[2]);
  if (!match || !validPort(remote) || !validPort(local))
    throw new OffloadError("E_USAGE", `${JSON.stringify(text)} is not a port to forward.`, {
      hint: "Give the host's port, optionally with the local one: `6006` or `8080:18080` (ports 1-65535).",
    });
  return { remote, local };
}
