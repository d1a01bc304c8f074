// `forward:` in offload.yaml: the ports are forwarded once the run is launched and cancelled when
// `offload run` ends. A forward that fails is said, and the run goes on: the training matters more.
import { parseForwardSpec } from "../../config/forward-spec.js";
import type { Reporter } from "../../events.js";
import type { Transport } from "../../transport/types.js";

export interface RunForwards {
  report: Reporter;
  close(): Promise<void>;
}

/** `hostTransport` gives the transport of the host the run acquired (a cloud machine's, once made). */
export function forwardOnLaunch(
  hostTransport: () => Transport,
  ports: readonly string[],
  report: Reporter,
): RunForwards {
  if (ports.length === 0) return { report, close: async () => {} };
  let opening: Promise<{ close(): Promise<void> } | undefined> | undefined;
  const open = async () => {
    const transport = hostTransport();
    // Loaded only by runs that forward.
    const { openForwards } = await import("../../session/forward.js");
    try {
      const forwards = await openForwards(transport, ports.map(parseForwardSpec));
      for (const f of forwards.opened)
        report({
          type: "forwarding",
          local: f.local,
          remote: f.remote,
          target: transport.label,
          ...(f.taken === undefined ? {} : { taken: f.taken }),
        });
      return forwards;
    } catch (error) {
      report({
        type: "forward-failed",
        reason: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  };
  return {
    report: (event) => {
      report(event);
      if (event.type === "launched" && opening === undefined) opening = open();
    },
    close: async () => {
      await (await opening)?.close();
    },
  };
}
