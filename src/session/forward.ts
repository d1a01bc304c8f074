// Port forwards over the target's ControlMaster (TensorBoard, Jupyter, a web UI on the host's
// localhost): each to a free local port, the next one up when the one asked for is taken, and a
// session held open so the master outlives its ControlPersist idle time while the forwards are used.
import { createServer } from "node:net";
import type { ForwardSpec } from "../config/forward-spec.js";
import { OffloadError } from "../errors.js";
import type { Transport } from "../transport/types.js";

export interface OpenedForward {
  remote: number;
  local: number;
  /** The local port asked for, when it was taken and `local` is the next free one. */
  taken?: number;
  /** The pid of a killed offload whose forward still held `local`, cancelled to take the port back. */
  reclaimedFrom?: number;
}

export interface Forwards {
  opened: OpenedForward[];
  close(): Promise<void>;
}

/** Names the holding session's shell on the host (`ps`). */
export const HOLD_MARK = "offload-forward-hold";

/** How many ports up from the one asked for are tried before giving up. */
const PORT_TRIES = 50;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function openOne(transport: Transport, spec: ForwardSpec): Promise<OpenedForward> {
  const forward = transport.forwardPort?.bind(transport);
  if (forward === undefined)
    throw new OffloadError("E_USAGE", `Target ${transport.label} has no ports to forward.`, {
      hint: "`offload forward` reaches ports on an ssh host; on `local` the port is already here.",
    });
  let lastError = "";
  // The port asked for may still be held by the master for an offload killed while it forwarded.
  const reclaimedFrom = (await isFree(spec.local))
    ? undefined
    : await transport.reclaimForward?.(spec.local);
  for (let local = spec.local; local < spec.local + PORT_TRIES && local <= 65535; local++) {
    if (!(await isFree(local))) continue;
    const result = await forward({ remote: spec.remote, local });
    if (result.code === 0)
      return {
        remote: spec.remote,
        local,
        ...(local === spec.local ? {} : { taken: spec.local }),
        ...(reclaimedFrom === undefined ? {} : { reclaimedFrom }),
      };
    lastError = result.stderr.trim();
    // Taken between our check and ssh's bind: try the next one. Anything else is not a port problem.
    if (!/forwarding failed|in use/i.test(lastError)) break;
  }
  throw new OffloadError(
    "E_FORWARD",
    `Could not forward port ${spec.remote} of ${transport.label}${lastError ? `: ${lastError}` : ": no free local port"}.`,
    {
      hint: `Local ports from ${spec.local} on are taken, or the ssh connection failed; try another local port (\`${spec.remote}:<local>\`) or \`offload check --host ${transport.label}\`.`,
    },
  );
}

export async function openForwards(
  transport: Transport,
  specs: readonly ForwardSpec[],
): Promise<Forwards> {
  await transport.connect();
  const opened: OpenedForward[] = [];
  const cancel = async () => {
    await Promise.all(
      opened.map((f) => transport.cancelForward?.({ remote: f.remote, local: f.local })),
    );
  };
  try {
    for (const spec of specs) opened.push(await openOne(transport, spec));
  } catch (error) {
    await cancel();
    throw error;
  }
  // A listening forward is no session to ssh: an idle master would exit after ControlPersist. The
  // session that holds it writes a line every few seconds, so it ends by itself (a broken pipe) soon
  // after this side lets go, even if this offload is killed.
  const hold = new AbortController();
  const held = transport
    .exec(`while echo; do sleep 5; done # ${HOLD_MARK}`, {
      signal: hold.signal,
      onStdout: () => {},
    })
    .catch(() => undefined);
  return {
    opened,
    close: async () => {
      await cancel();
      hold.abort();
      await held;
    },
  };
}
