// Uploads beyond the workspace sync: globs that reach ignored files (`data/*.csv`) and explicit
// `local|remote` mappings from anywhere on this machine to anywhere on the target.
import { readdir, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import picomatch from "picomatch";
import { OffloadError } from "../errors.js";
import { quoteShell } from "../shell/quote.js";
import { runProcess } from "../transport/process.js";
import type { Transport } from "../transport/types.js";
import type { UploadEntry } from "./entries.js";
import { GLOB_OPTIONS } from "./glob.js";
import { expandLocal } from "./local-path.js";
import { buildRsyncOneArgv } from "./rsync.js";

/** Files below `root` that the glob entries match, ignore rules notwithstanding (they were asked for). */
export async function expandUploadGlobs(
  root: string,
  entries: readonly UploadEntry[],
): Promise<string[]> {
  const found = new Set<string>();
  for (const entry of entries) {
    if (entry.kind !== "glob") continue;
    const pattern = entry.pattern.replace(/^\.\//, "");
    const scan = picomatch.scan(pattern);
    const match = picomatch(pattern, GLOB_OPTIONS);
    if (!scan.isGlob) {
      const isFile = await stat(join(root, pattern)).then(
        (s) => s.isFile(),
        () => false,
      );
      if (isFile) found.add(pattern);
      continue;
    }
    const walk = async (relative: string): Promise<void> => {
      const entriesHere = await readdir(join(root, relative), { withFileTypes: true }).catch(
        () => [],
      );
      for (const item of entriesHere) {
        const path = relative === "" ? item.name : `${relative}/${item.name}`;
        if (item.isDirectory()) await walk(path);
        else if (item.isFile() && match(path)) found.add(path);
      }
    };
    await walk(scan.base === "." ? "" : scan.base);
  }
  return [...found].sort();
}

/** The remote side of a mapping as an absolute path: relative to the remote dir, `~` under the remote home. */
export function resolveRemote(path: string, remoteDir: string, remoteHome: string): string {
  if (path === "~" || path.startsWith("~/")) return posix.join(remoteHome, path.slice(1));
  if (path.startsWith("/")) return path;
  return posix.join(remoteDir, path);
}

export async function uploadMapped(
  transport: Transport,
  root: string,
  remoteDir: string,
  remoteHome: string,
  entries: readonly UploadEntry[],
): Promise<number> {
  const maps = entries.flatMap((entry) => (entry.kind === "map" ? [entry] : []));
  if (maps.length === 0) return 0;
  const jobs = [];
  for (const map of maps) {
    const local = expandLocal(map.local, root);
    const info = await stat(local).catch(() => undefined);
    if (!info) {
      throw new OffloadError(
        "E_SYNC",
        `Upload \`${map.local}|${map.remote}\`: ${local} does not exist.`,
        { hint: "Fix the path in `upload:` of offload.yaml." },
      );
    }
    const remote = resolveRemote(map.remote, remoteDir, remoteHome);
    jobs.push({
      local: info.isDirectory() ? `${local}/` : local,
      remote: info.isDirectory() ? `${remote}/` : remote,
    });
  }
  const parents = jobs.map(
    (job) =>
      `mkdir -p ${quoteShell(job.remote.endsWith("/") ? job.remote : posix.dirname(job.remote))}`,
  );
  const made = await transport.exec(parents.join(" && "));
  if (made.connectionFailed) throw transport.explain(made);
  const shell = transport.remoteShell();
  for (const job of jobs) {
    const result = await runProcess(
      buildRsyncOneArgv(shell, job.local, shell.remotePath(job.remote)),
    );
    if (result.code !== 0) {
      throw new OffloadError(
        "E_SYNC",
        `Uploading ${job.local} to ${job.remote} failed: ${result.stderr.trim()}`,
        { hint: "Check the remote path and its permissions." },
      );
    }
  }
  return jobs.length;
}
