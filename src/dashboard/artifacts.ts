// A run's downloaded artifacts as the dashboard lists and serves them: plain files under the run's
// artifacts dir only; a link or a path that climbs out is never followed.
import { createReadStream } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";

export interface ArtifactFile {
  path: string;
  bytes: number;
}

export async function listArtifacts(dir: string): Promise<ArtifactFile[]> {
  const files: ArtifactFile[] = [];
  const walk = async (at: string) => {
    const entries = await readdir(at, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile())
        files.push({ path: relative(dir, path), bytes: (await lstat(path)).size });
    }
  };
  await walk(dir);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** The file at `path` under `dir`, or undefined when it climbs out, crosses a link or is no file. */
export async function openArtifact(
  dir: string,
  path: string,
): Promise<{ stream: Readable; bytes: number } | undefined> {
  const root = resolve(dir);
  const full = resolve(root, path);
  if (!full.startsWith(root + sep)) return undefined;
  // Every step of the way is checked: a link anywhere in it could point outside the run.
  let at = root;
  for (const part of relative(root, full).split(sep)) {
    at = join(at, part);
    const info = await lstat(at).catch(() => undefined);
    if (info === undefined || info.isSymbolicLink()) return undefined;
    if (at === full)
      return info.isFile() ? { stream: createReadStream(full), bytes: info.size } : undefined;
  }
  return undefined;
}
