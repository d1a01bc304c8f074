// `offload machines` (list, address, stop, start) and `offload down`: the machines offload made in
// clouds. The providers' code is imported only when one of these commands runs, so every other
// command starts as fast as before.
import type { Command } from "commander";
import { OffloadError } from "../../errors.js";
import type { Output } from "../render.js";
import { writeInventory } from "./machine-table.js";

type SetCode = (code: number) => void;

const providers = () =>
  Promise.all([
    import("../../providers/inventory.js"),
    import("../../providers/ledger.js"),
    import("../../providers/open.js"),
  ]).then(([inventory, ledger, open]) => ({ ...inventory, ...ledger, ...open }));

export function addMachineCommands(program: Command, out: Output, setCode: SetCode): void {
  const machines = program
    .command("machines")
    .summary("list the cloud machines offload made: live, or owed a teardown")
    .option("--cloud <kind>", "also ask this cloud for offload's machines (e.g. openstack)")
    .option("--json", "print the machines as JSON")
    .action(async (flags: { cloud?: string; json?: boolean }) => {
      const p = await providers();
      const inventory = await p.listMachines(
        new p.Ledger(),
        (kind, regions, options) =>
          p.openProvider({ kind, regions, ...(options === undefined ? {} : { options }) }),
        flags.cloud === undefined ? [] : [flags.cloud],
      );
      if (flags.json) out.stdout.write(`${JSON.stringify(inventory)}\n`);
      else writeInventory(inventory, out);
      setCode(0);
    });

  machines
    .command("address")
    .summary(
      "print the address offload would pick from a saved cloud response (FILE or - for stdin)",
    )
    .argument("<file>", "a JSON response of the cloud's API or CLI, or - for stdin")
    .option(
      "--private",
      "print the private address offload uses when a target reaches machines privately",
    )
    .action(async (file: string, flags: { private?: boolean }) => {
      const [{ findAddresses, pickAddress, pickPrivateAddress }, { readFile }] = await Promise.all([
        import("../../providers/address.js"),
        // Loaded here, not at the top: every command loads this file, and node:fs/promises costs ~2 ms.
        import("node:fs/promises"),
      ]);
      const text = file === "-" ? await readStdin() : await readFile(file, "utf8");
      let response: unknown;
      try {
        response = JSON.parse(text);
      } catch (error) {
        throw new OffloadError(
          "E_USAGE",
          `${file === "-" ? "stdin" : file} is not JSON: ${(error as Error).message}`,
        );
      }
      // The machine in it as the command provider finds it (AWS's Reservations[].Instances[], a list…).
      const { findMachines } = await import("../../providers/command/parse.js");
      const addresses = findAddresses(findMachines(response)[0] ?? response);
      const address = flags.private ? pickPrivateAddress(addresses) : pickAddress(addresses);
      if (address !== undefined) out.stdout.write(`${address}\n`);
      setCode(address === undefined ? 1 : 0);
    });

  for (const verb of ["stop", "start"] as const) {
    machines
      .command(verb)
      .summary(
        verb === "stop"
          ? "stop a machine, keeping its disk (where the cloud can)"
          : "start a stopped machine and print the address it answers at now",
      )
      .argument("<machine>", "its MACHINE name from `offload machines`, or its cloud id")
      .action(async (name: string) => {
        const p = await providers();
        const ledger = new p.Ledger();
        const entry = (await ledger.list()).find(
          (e) => e.tag === name || e.tag === `offload-${name}` || e.id === name,
        );
        if (entry?.id === undefined) {
          throw new OffloadError("E_USAGE", `no machine "${name}" in offload's ledger`, {
            hint: "`offload machines` lists them",
          });
        }
        const provider = p.openProvider({
          kind: entry.provider,
          regions: entry.region === undefined ? [] : [entry.region],
          ...(entry.options === undefined ? {} : { options: entry.options }),
        });
        if (provider[verb] === undefined) {
          throw new OffloadError("E_USAGE", `${entry.provider} machines cannot ${verb}`);
        }
        if (verb === "stop") {
          await provider.stop?.(entry.id, entry.region);
          out.stderr.write(`stopping ${entry.tag} (${entry.id})\n`);
        } else {
          const { startMachine } = await import("../../providers/restart.js");
          const machine = await startMachine(provider, ledger, entry.tag, {
            onWait: (what) => out.stderr.write(`waiting for ${what}\n`),
          });
          // The address it answers at now: a restart may have given it a new one.
          out.stdout.write(`${machine.address}\n`);
        }
        setCode(0);
      });
  }

  program
    .command("up")
    .summary("make (or start) a cloud target's machine and keep it for the next runs")
    .argument("<target>", "a target with `cloud:` in offload.yaml")
    .action(async (name: string) => {
      const { load } = await import("../settings.js");
      const { settings } = await load({ host: name });
      if (settings.cloud === undefined) {
        throw new OffloadError("E_USAGE", `target "${name}" has no \`cloud:\``, {
          hint: "`offload up` makes machines of targets with `cloud:` (openstack, …)",
        });
      }
      const { leaseMachine } = await import("../../providers/lease.js");
      const say = (text: string) => out.stderr.write(`${text}\n`);
      const lease = await leaseMachine({
        targetName: name,
        target: { ...settings.cloud, keep: true },
        onWait: (what) => say(`waiting for ${what}`),
        onNote: say,
      });
      try {
        await lease.setUp((text) => out.stderr.write(text));
      } catch (error) {
        await lease.release().catch(() => {});
        throw error;
      }
      await lease.release();
      const idle = settings.cloud.idleStopSeconds;
      say(
        idle === undefined
          ? `machine ${lease.machine.tag} is up and kept: it runs until \`offload down ${lease.machine.tag}\` (no idle_stop)`
          : `machine ${lease.machine.tag} is up and kept: it stops after ${idle} s idle`,
      );
      out.stdout.write(`${lease.machine.tag} ${lease.machine.address}\n`);
      setCode(0);
    });

  program
    .command("down")
    .summary("delete cloud machines offload made, and wait until they are gone")
    .argument("[machines...]", "MACHINE names from `offload machines`, or cloud ids")
    .option("--all", "every machine in offload's ledger")
    .option("--cloud <kind>", "also find machines by their tag in this cloud (e.g. openstack)")
    .action(async (names: string[], flags: { all?: boolean; cloud?: string }) => {
      if (!flags.all && names.length === 0) {
        throw new OffloadError("E_USAGE", "name the machines to delete, or pass --all", {
          hint: "`offload machines` lists them",
        });
      }
      const p = await providers();
      const result = await p.downMachines(
        new p.Ledger(),
        (kind, regions, options) =>
          p.openProvider({ kind, regions, ...(options === undefined ? {} : { options }) }),
        flags.all ? "all" : names,
        {
          ...(flags.cloud === undefined ? {} : { kinds: [flags.cloud] }),
          onWait: (what) => out.stderr.write(`waiting for ${what}\n`),
        },
      );
      for (const tag of result.gone) out.stderr.write(`${tag}: gone\n`);
      for (const run of result.runs)
        out.stderr.write(`offload: run ${run.id} recorded lost: ${run.why}\n`);
      for (const { tag, error } of result.failed)
        out.stderr.write(`${tag}: teardown owed: ${error}\n`);
      if (result.failed.length > 0) {
        throw new OffloadError(
          "E_MACHINE_LEAK",
          `${result.failed.length} machine(s) may still be running`,
          {
            hint: "run `offload down` again later, or delete them in the cloud's console",
          },
        );
      }
      setCode(0);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
