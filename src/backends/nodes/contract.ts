// One job across several SSH hosts: the scripts that find how the nodes reach each other, and
// torchrun's env contract for each node (pure: data in, scripts and env out).
import { quoteShell } from "../../shell/quote.js";

export const NODE_MARK = {
  /** Node 0's address toward the other nodes, as its routing table picks it. */
  source: "offload-node-source",
  /** A TCP port nothing listens on at node 0. */
  port: "offload-node-port",
} as const;

/** An IPv4 or IPv6 address and nothing else: what may go into a script unquoted or an env value. */
const ADDRESS = /^[0-9A-Fa-f.:]+$/;

/** Whether `text` is an address a node's env and scripts may carry (not a word of a shell). */
export function isNodeAddress(text: string): boolean {
  return ADDRESS.test(text);
}

/**
 * On node 0: its own address on the route to `peer` (how the other nodes reach it, even where this
 * machine reaches it at another, public address), and a free port: random in 29500–49499, skipped
 * while /proc/net/tcp{,6} lists it as in use.
 */
export function buildMasterScript(peer: string | undefined): string {
  const route =
    peer !== undefined && ADDRESS.test(peer)
      ? `src=$(ip route get ${quoteShell(peer)} 2>/dev/null | sed -n 's/.* src \\([^ ]*\\).*/\\1/p' | head -n 1)`
      : "src=";
  return [
    route,
    `[ -z "$src" ] || printf '${NODE_MARK.source} %s\\n' "$src" >&2`,
    `used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk 'NR > 1 { split($2, a, ":"); print a[2] }')`,
    `n=0; while [ $n -lt 100 ]; do`,
    `  r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' '); port=$((29500 + r % 20000))`,
    `  hex=$(printf '%04X' "$port")`,
    `  case " $(printf '%s ' $used)" in *" $hex "*) n=$((n + 1)); continue ;; esac`,
    `  printf '${NODE_MARK.port} %s\\n' "$port" >&2; exit 0`,
    `done`,
    `exit 1`,
  ].join("\n");
}

/** The value after `mark` on the last stderr line that carries it, when it is an address or a port. */
export function readNodeMark(stderr: string, mark: string): string | undefined {
  const values = stderr
    .split("\n")
    .filter((line) => line.startsWith(`${mark} `))
    .map((line) => line.slice(mark.length + 1).trim())
    .filter((value) => ADDRESS.test(value));
  return values.at(-1);
}

export interface NodeLayout {
  /** Each node's address as the others reach it; node 0's is MASTER_ADDR. */
  addresses: readonly string[];
  masterPort: number;
  /** Processes each node's launcher starts (torchrun's --nproc_per_node): `gpus`, else 1. */
  procsPerNode: number;
}

/**
 * torchrun's contract for node `rank`: what `torchrun --nnodes $NNODES --node_rank $NODE_RANK
 * --master_addr $MASTER_ADDR --master_port $MASTER_PORT` needs, and RANK/WORLD_SIZE/LOCAL_RANK for a
 * script that calls init_process_group("env://") itself with one process per node.
 */
export function buildNodeEnv(layout: NodeLayout, rank: number): Record<string, string> {
  const nodes = layout.addresses.length;
  return {
    MASTER_ADDR: layout.addresses[0] ?? "127.0.0.1",
    MASTER_PORT: String(layout.masterPort),
    NNODES: String(nodes),
    NODE_RANK: String(rank),
    NPROC_PER_NODE: String(layout.procsPerNode),
    WORLD_SIZE: String(nodes * layout.procsPerNode),
    RANK: String(rank * layout.procsPerNode),
    LOCAL_RANK: "0",
    OFFLOAD_NODE_IPS: layout.addresses.join(","),
    OFFLOAD_NUM_NODES: String(nodes),
  };
}
