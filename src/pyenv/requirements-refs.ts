// The local files a requirements file points at: other requirement and constraint files, wheels and
// sdists, wheel folders, local packages. What they hold decides what the env holds just as the file's
// own text does, so they join the env's key (a rebuilt wheel with the same name rebuilds the env).
import { posix } from "node:path";

export interface LocalReference {
  /** Project-relative and normalised; references that leave the project are not listed (never synced). */
  path: string;
  /**
   * requirements: read it too (`-r`, `-c`); file: its bytes (a wheel, an sdist); listing: the names and
   * sizes in a folder (`--find-links`); package: a local project's packaging files (`-e ./pkg`, `./pkg`).
   */
  kind: "requirements" | "file" | "listing" | "package";
}

const ARCHIVE = /\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar\.xz)$/i;

/** Logical lines: continuations joined, comments (`#` at the start or after a blank) dropped. */
function logicalLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter((line) => line !== "");
}

function isUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(value);
}

/** `path` from `base` inside the project, or undefined where it leaves it or is absolute. */
function inside(base: string, path: string): string | undefined {
  if (path.startsWith("/") || path.startsWith("~")) return undefined;
  const joined = posix.normalize(posix.join(base, path));
  return joined === ".." || joined.startsWith("../") ? undefined : joined;
}

/**
 * Reads `text`, the requirements file at project-relative `file`. pip takes `-r`/`-c` paths from the
 * file's folder and every other path from the working directory, which for the env build is the project.
 */
export function findLocalReferences(text: string, file: string): LocalReference[] {
  const found: LocalReference[] = [];
  const add = (base: string, path: string | undefined, kind: LocalReference["kind"]) => {
    if (path === undefined || path === "" || isUrl(path)) return;
    const resolved = inside(base, path);
    if (resolved !== undefined) found.push({ path: resolved, kind });
  };
  for (const line of logicalLines(text)) {
    const [first = "", second] = line.split(/\s+/);
    const option = /^(-[a-z]|--[a-z-]+)(?:=(.*))?$/i.exec(first);
    if (option) {
      const name = option[1] ?? "";
      const value = option[2] ?? second;
      if (["-r", "--requirement", "-c", "--constraint"].includes(name))
        add(posix.dirname(file), value, "requirements");
      else if (["-f", "--find-links"].includes(name)) add(".", value, "listing");
      else if (["-e", "--editable"].includes(name)) add(".", value, "package");
      continue;
    }
    if (line.includes(" @ ") || line.includes("@ ")) continue; // name @ url: a URL, not a path
    if (ARCHIVE.test(first)) add(".", first, "file");
    else if (/^\.{1,2}\//.test(first)) add(".", first, "package");
  }
  return found;
}
