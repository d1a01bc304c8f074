// A first sync's tar archive made once in memory, for a job that uploads the same workspace to several
// hosts: one local tar instead of one per host (each a process start that blocks offload's one thread
// while it forks, and each re-reading every file). A workspace too big to hold is streamed per host.
import { runProcess } from "../transport/process.js";
import { localTarIsGnu } from "../transport/tar-version.js";
import { buildTarCreateArgv } from "./first-sync.js";
import { encodeNulList } from "./raw-names.js";

/** Above this an archive is not held in memory: each host's upload streams its own tar. */
export const ARCHIVE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The archive of `tree` under `root` as an upload's tar stream carries it ("." first), or undefined
 * when it would pass `limit` bytes or tar fails: the upload then runs its own tar, which reports.
 */
export async function createTarArchive(
  root: string,
  tree: readonly string[],
  limit = ARCHIVE_LIMIT_BYTES,
): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  const tooBig = new AbortController();
  const result = await runProcess(buildTarCreateArgv(await localTarIsGnu()), {
    cwd: root,
    stdin: encodeNulList([".", ...tree]),
    signal: tooBig.signal,
    onStdout: (chunk) => {
      size += chunk.length;
      if (size > limit) tooBig.abort();
      else chunks.push(chunk);
    },
  });
  if (result.code !== 0 || tooBig.signal.aborted) return undefined;
  return Buffer.concat(chunks);
}
