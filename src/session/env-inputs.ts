// Gathers what the cached env's key is made of, from the project on this machine: the dependency file
// and every local file it points at (see env/requirements-refs.ts).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { EnvInputFile } from "../pyenv/inputs.js";
import { findLocalReferences, type LocalReference } from "../pyenv/requirements-refs.js";

/** A project's packaging files: what decides its dependencies (its code is the project's business). */
const PACKAGE_FILES = ["pyproject.toml", "setup.cfg", "setup.py"];

function readOr(path: string, absent: string): string | Uint8Array {
  try {
    return readFileSync(path);
  } catch {
    return absent;
  }
}

function describeReference(projectDir: string, ref: LocalReference): string | Uint8Array {
  const path = join(projectDir, ref.path);
  if (ref.kind === "file" || ref.kind === "requirements") return readOr(path, "(missing)");
  if (ref.kind === "package")
    return PACKAGE_FILES.map((name) => `${name}\n${readOr(join(path, name), "(none)")}`).join("\n");
  try {
    return readdirSync(path)
      .sort()
      .map((name) => `${name} ${statSync(join(path, name)).size}`)
      .join("\n");
  } catch {
    return "(missing)";
  }
}

/**
 * The requirements file and, for a requirements-style file (not pyproject.toml or a lock file), the
 * local files it references, `-r` includes followed to any depth (each once).
 */
export function collectEnvInputs(
  projectDir: string,
  requirements: string,
  content: Uint8Array,
): EnvInputFile[] {
  const inputs: EnvInputFile[] = [{ path: requirements, content }];
  if (/\.(toml|lock)$/i.test(requirements)) return inputs;
  const seen = new Set([`requirements:${requirements}`]);
  const queue: { file: string; text: string }[] = [
    { file: requirements, text: Buffer.from(content).toString("utf8") },
  ];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const ref of findLocalReferences(next.text, next.file)) {
      const id = `${ref.kind}:${ref.path}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const described = describeReference(projectDir, ref);
      inputs.push({ path: id, content: described });
      if (ref.kind === "requirements")
        queue.push({ file: ref.path, text: Buffer.from(described).toString("utf8") });
    }
  }
  return inputs;
}
