// Owns the human entry: `node --import tsx test/testbed/cli.ts up [N] | down [--force] | status`.

import { down } from "./down.js";
import { describeHolder } from "./fault-lease.js";
import { otherLeases } from "./lock.js";
import { defaultNames, faultHostIndex, hostDir, hostName } from "./names.js";
import { isGone } from "./procfs.js";
import { readSshdPid } from "./sshd.js";
import { FAULT_HOSTS, startTestbed } from "./start.js";
import { readState } from "./state.js";

const USAGE =
  "usage: node --import tsx test/testbed/cli.ts up [N] | down | status\n" +
  "env: OFFLOAD_TB_DIR, OFFLOAD_TB_BRIDGE, OFFLOAD_TB_PREFIX, OFFLOAD_TB_VETH, OFFLOAD_TB_NFT";

async function main(argv: string[]): Promise<number> {
  const names = defaultNames();
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(2)} s`;
  const [command, arg] = argv;
  if (command === "up") {
    const asked = arg === undefined ? 2 : Number(arg);
    // Fewer hosts than a running test run leased would pull hosts from under it.
    const n = Math.max(asked, ...otherLeases(names.stateDir));
    const info = await startTestbed(n, names);
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    process.stderr.write(
      `up ${n}: ${info.mode} in ${elapsed()}${info.reason ? ` (${info.reason})` : ""}\n`,
    );
    return info.mode === "none" ? 1 : 0;
  }
  if (command === "down") {
    const users = otherLeases(names.stateDir).length;
    if (users > 0 && arg !== "--force") {
      process.stderr.write(
        `in use by ${users} running test run(s); \`down --force\` takes it anyway\n`,
      );
      return 1;
    }
    down(names);
    process.stderr.write(`down in ${elapsed()}\n`);
    return 0;
  }
  if (command === "status") {
    const state = readState(names.stateDir);
    const hosts = Array.from({ length: state?.hosts ?? 0 }, (_, i) => {
      const pid = readSshdPid(hostDir(names, i + 1));
      return {
        host: `${names.hostPrefix}${i + 1}`,
        sshd: pid !== undefined && !isGone(pid) ? pid : null,
      };
    });
    const faultHosts = Array.from({ length: FAULT_HOSTS }, (_, i) => {
      const k = faultHostIndex(i + 1);
      const pid = readSshdPid(hostDir(names, k));
      return {
        host: hostName(names, k),
        sshd: pid !== undefined && !isGone(pid) ? pid : null,
        leasedBy: describeHolder(names.stateDir, hostName(names, k)),
      };
    });
    const status = { stateDir: names.stateDir, state: state ?? null, hosts, faultHosts };
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return state === undefined ? 3 : 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
