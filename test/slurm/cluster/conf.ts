// Owns the text of slurm.conf and cgroup.conf (SLURM.md's recipe): paths written literally, since
// slurm.conf expands nothing.

import { join } from "node:path";
import { CONTROLLER, type ComputeNode, MUNGE_SOCKET, SLURM_DIR } from "./layout.js";

export function slurmConfText(nodes: readonly ComputeNode[]): string {
  const d = SLURM_DIR;
  const names = nodes.map((node) => node.name).join(",");
  return `${[
    "ClusterName=offloadtest",
    `SlurmctldHost=${CONTROLLER.name}(${CONTROLLER.address})`,
    "SlurmUser=root",
    "SlurmdUser=root",
    "AuthType=auth/munge",
    "CredType=cred/munge",
    `AuthInfo=socket=${MUNGE_SOCKET}`,
    "SlurmctldPort=16817",
    "SlurmdPort=16818",
    `StateSaveLocation=${join(d, "state")}`,
    `SlurmdSpoolDir=${join(d, "spool", "%n")}`,
    `SlurmctldPidFile=${join(d, "run", "slurmctld.pid")}`,
    `SlurmdPidFile=${join(d, "run", "slurmd-%n.pid")}`,
    `SlurmctldLogFile=${join(d, "log", "slurmctld.log")}`,
    `SlurmdLogFile=${join(d, "log", "slurmd-%n.log")}`,
    // linuxproc/pgid leave TERM-ignoring children behind on scancel; cgroup leaves nothing.
    "ProctrackType=proctrack/cgroup",
    "TaskPlugin=task/none",
    "JobAcctGatherType=jobacct_gather/none",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_CPU",
    // sbatch → RUNNING in under a second instead of ~2 s.
    "SchedulerParameters=batch_sched_delay=0",
    "AccountingStorageType=accounting_storage/none",
    "JobCompType=jobcomp/filetxt",
    `JobCompLoc=${join(d, "log", "jobcomp.txt")}`,
    "MpiDefault=none",
    "ReturnToService=2",
    "MinJobAge=600",
    "KillWait=5",
    "SlurmdTimeout=30",
    ...nodes.map((node) => `NodeName=${node.name} NodeAddr=${node.address} CPUs=1 State=UNKNOWN`),
    `PartitionName=debug Nodes=${names} Default=YES MaxTime=INFINITE State=UP`,
  ].join("\n")}\n`;
}

export const CGROUP_CONF = `${[
  "CgroupPlugin=cgroup/v1",
  "CgroupAutomount=no",
  "ConstrainCores=no",
  "ConstrainRAMSpace=no",
  "ConstrainDevices=no",
].join("\n")}\n`;
