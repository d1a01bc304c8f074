// Owns offload's default ignore rules and a matcher for them that gives the `ignore` package's verdicts
// without its regular expressions: on every run, and alone where a workspace has no rule files.
import type { Ignore } from "ignore";

/** Never worth uploading: VCS data, offload's own state, virtualenvs, caches, dependency trees. */
export const DEFAULT_IGNORES = [
  ".git/",
  ".hg/",
  ".svn/",
  ".offload/",
  ".venv/",
  "venv/",
  "env/",
  "__pycache__/",
  "*.pyc",
  ".mypy_cache/",
  ".pytest_cache/",
  ".ruff_cache/",
  ".ipynb_checkpoints/",
  "node_modules/",
  ".DS_Store",
];

/** What the scan asks of a set of rules: `ignore`'s verdict on one path (a directory's ends with `/`). */
export type RuleMatcher = Pick<Ignore, "test">;

interface NameRules {
  /** `name/`: a directory of that name, at any depth. */
  dirs: Set<string>;
  /** `name`: a file or directory of that name, at any depth. */
  names: Set<string>;
  /** `*.ext`: a file or directory whose name ends so, at any depth. */
  suffixes: string[];
}

/**
 * The three forms the defaults use, each read as `ignore` reads it. A default of any other form is a
 * mistake here, caught when the module loads (and by the test that compares the verdicts).
 */
function readNameRules(patterns: readonly string[]): NameRules {
  const rules: NameRules = { dirs: new Set(), names: new Set(), suffixes: [] };
  for (const pattern of patterns) {
    const plain = (name: string) => /^[^/*?[\]!#\\\s]+$/.test(name);
    if (pattern.endsWith("/") && plain(pattern.slice(0, -1)))
      rules.dirs.add(foldCase(pattern.slice(0, -1)));
    else if (pattern.startsWith("*") && plain(pattern.slice(1)))
      rules.suffixes.push(foldCase(pattern.slice(1)));
    else if (plain(pattern)) rules.names.add(foldCase(pattern));
    else
      throw new Error(
        `default ignore ${JSON.stringify(pattern)} has a form matchDefaults cannot read`,
      );
  }
  return rules;
}

/**
 * `ignore` compares case-insensitively with non-Unicode regular expressions, where only ASCII letters
 * fold (`K`, the Kelvin sign, is not `k`): so only A-Z are lowered here.
 */
function foldCase(name: string): string {
  return /[A-Z]/.test(name) ? name.replace(/[A-Z]/g, (c) => c.toLowerCase()) : name;
}

const RULES = readNameRules(DEFAULT_IGNORES);

function matchesName(segment: string, isDir: boolean): boolean {
  const name = foldCase(segment);
  if (isDir && RULES.dirs.has(name)) return true;
  return RULES.names.has(name) || RULES.suffixes.some((suffix) => name.endsWith(suffix));
}

/**
 * `ignore().add(DEFAULT_IGNORES)` without compiling 15 regular expressions and running them on every
 * path (half the scan of 5,000 files, measured): none of the defaults has a slash inside or a
 * negation, so a path is left out when any of its names is (every name but the last is a directory's,
 * and the last is one where the path ends with `/`). No rule un-ignores, so `unignored` is never set.
 */
export const DEFAULT_MATCHER: RuleMatcher = {
  test(path: string) {
    // Name by name without splitting the path: the scan asks once for every file and directory.
    for (let start = 0; start < path.length; ) {
      const slash = path.indexOf("/", start);
      const end = slash === -1 ? path.length : slash;
      if (end > start && matchesName(path.slice(start, end), slash !== -1)) return LEFT_OUT;
      if (slash === -1) break;
      start = slash + 1;
    }
    return KEPT;
  },
};

const LEFT_OUT = Object.freeze({ ignored: true, unignored: false });
const KEPT = Object.freeze({ ignored: false, unignored: false });
