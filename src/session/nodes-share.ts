// What the nodes of one job do once for all of them, since they run from the same workspace: list it,
// read its git state, and make a first sync's tar archive. Per node, each was a walk of the workspace
// or a local process start (each start blocks offload's one thread while it forks: 16 nodes × 4 starts
// were most of a 16-host launch).
import { readGitState } from "../runs/git.js";
import type { UploadEntry } from "../sync/entries.js";
import { createTarArchive } from "../sync/tar-archive.js";
import { listProject, type ProjectListing } from "./project-scan.js";

export interface NodesShare {
  listProject: typeof listProject;
  readGitState: typeof readGitState;
}

/** Made once per job: every node's run asks it instead of doing the work again. */
export function createNodesShare(): NodesShare {
  const listings = new Map<string, Promise<ProjectListing>>();
  const gitStates = new Map<string, ReturnType<typeof readGitState>>();
  return {
    listProject(projectDir: string, ignore: readonly string[], upload: readonly UploadEntry[]) {
      // Nodes of different targets may have different ignore or upload settings.
      const key = JSON.stringify([projectDir, ignore, upload]);
      let listing = listings.get(key);
      if (listing === undefined) {
        listing = listProject(projectDir, ignore, upload).then((listed) =>
          withSharedArchive(projectDir, listed),
        );
        listings.set(key, listing);
      }
      return listing;
    },
    readGitState(projectDir: string) {
      let state = gitStates.get(projectDir);
      if (state === undefined) {
        state = readGitState(projectDir);
        gitStates.set(projectDir, state);
      }
      return state;
    },
  };
}

/** The listing with one tar archive of it, made when the first node's first sync asks. */
function withSharedArchive(root: string, listed: ProjectListing): ProjectListing {
  let archive: Promise<Uint8Array | undefined> | undefined;
  return {
    ...listed,
    archive: () => {
      archive ??= createTarArchive(root, listed.tree);
      return archive;
    },
  };
}
