// Temp projects whose offload.yaml points at the cluster's login node, each with its own remote dir on
// the shared fs, and the CLI run in them with the cluster's ssh config.
import { join } from "node:path";
import { type CliOptions, type CliResult, runCli } from "../../support/cli.js";
import { makeProject, type TempProject } from "../../support/project.js";
import type { SlurmCluster } from "./cluster.js";

export interface SlurmProjects {
  /** A new project; `yaml` (a `slurm:` block and any other settings) follows host and remote_dir. */
  make(yaml: string): Promise<TempProject>;
  /** `offload <args>` in the project, its first word the command, with the cluster's ssh config. */
  offload(p: TempProject, args: string[], extra?: Partial<CliOptions>): Promise<CliResult>;
}

/** Projects whose remote dirs are named `<prefix>-<pid>-<serial>`. */
export function slurmProjects(cluster: () => SlurmCluster, prefix: string): SlurmProjects {
  let serial = 0;
  return {
    async make(yaml) {
      serial += 1;
      const p = await makeProject();
      const remoteDir = join(cluster().workDir, `${prefix}-${process.pid}-${serial}`);
      await p.write("offload.yaml", `host: ${cluster().login}\nremote_dir: ${remoteDir}\n${yaml}`);
      return p;
    },
    offload: (p, args, extra = {}) =>
      runCli([...args.slice(0, 1), "--ssh-config", cluster().sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        env: { HOME: p.home },
        ...extra,
      }),
  };
}
