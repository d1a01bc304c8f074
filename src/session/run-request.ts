// What `run` is asked (the request), and what its phases hand on once the remote dir's lock is held.

import type { readGitState } from "../runs/git.js";
import type { RunRecord } from "../runs/record.js";
import type { HostLost } from "./attempts.js";
import type { NodeHooks } from "./nodes.js";
import type { PreparedTarget, SyncRequest } from "./prepare.js";
import type { ProjectScan } from "./project-scan.js";

/** What `run` adds to the context: the command and what only the command line gives. */
export interface RunRequest {
  command: string[];
  /** `run --name` and `--tag`, recorded as given. */
  name?: string;
  tags?: Record<string, string>;
  /** Folder of the project the command runs in, relative and `/`-separated ("" or absent: the root). */
  workdir?: string;
  /** Stop the run that holds the remote dir, then take it over. */
  force?: boolean;
  /** Return once the job has started; `attach` finishes it later. */
  noWait?: boolean;
  /** Values resolved locally (`--secret`); they reach the job through a 0600 file, nowhere else. */
  secrets?: Record<string, string>;
  /** `--rebuild-env`: build the Python env afresh. */
  rebuildEnv?: boolean;
  /** One node of a job across several hosts (session/nodes.ts): its place and its barriers. */
  node?: NodeHooks;
}

/** A run once connected and locked: what the locked phases start from. */
export interface Started {
  id: string;
  started: number;
  scanning: Promise<ProjectScan>;
  gitState: ReturnType<typeof readGitState>;
  prepared: PreparedTarget;
  /** Once launched, no release; the heartbeat stops where the started job keeps the lock alive itself. */
  lock: { launched: boolean; stopBeating: () => void };
  results: RunRecord["results"];
  syncState: SyncRequest["state"];
  freshOnLoss: boolean;
  resumed: HostLost | undefined;
}
