// The local half of the cached Python env's key: a hash of everything that decides what the env holds
// and that this machine can see (dependency files, interpreter name, site-packages choice).
import { createHash } from "node:crypto";
import { OffloadError } from "../errors.js";

export interface EnvInputFile {
  /** As written in offload.yaml, relative to the project (and so to the remote dir). */
  path: string;
  content: string | Uint8Array;
}

// Bumped when the env script builds differently, so envs made by an older offload are not reused.
const LAYOUT_VERSION = "offload-env/1";

/**
 * The first 16 hex digits of a sha256 over the inputs. Files are hashed in path order so listing them
 * differently gives the same env; each part is length-prefixed so no two different inputs concatenate to
 * the same bytes. The interpreter's version is only known on the host: the env script adds it to the dir
 * name there (see `buildEnvScript`).
 */
export function hashEnvInputs(
  files: readonly EnvInputFile[],
  interpreter: string,
  systemSitePackages: boolean,
): string {
  const hash = createHash("sha256");
  const part = (value: string | Uint8Array): void => {
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  };
  part(LAYOUT_VERSION);
  part(interpreter);
  part(systemSitePackages ? "system-site-packages" : "isolated");
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    part(file.path);
    part(file.content);
  }
  return hash.digest("hex").slice(0, 16);
}

/** Dependency files are installed from the synced workspace, so they must stay inside it. */
export function checkRequirementPath(path: string): void {
  const parts = path.split("/");
  if (path === "" || path.startsWith("/") || path.startsWith("~") || parts.includes("..")) {
    throw new OffloadError(
      "E_CONFIG_VALUE",
      `python.requirements must be a file inside the project, not ${JSON.stringify(path)}.`,
      {
        hint: "Give a path relative to the project root, e.g. `requirements.txt` or `pyproject.toml`.",
      },
    );
  }
}
