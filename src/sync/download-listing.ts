// What a download fetches (pure): one remote script lists the files the rules match, the big ones among
// them, the symlinks met (never followed) and each mapped rule's candidate; its reply is parsed here.
import { quoteRemotePath, quoteShell } from "../shell/quote.js";
import { type DownloadPlan, isContainedPath } from "./download-plan.js";

const MAPPED_MARK = "offload-mapped";
const BIG_MARK = "offload-big";
const LINK_MARK = "offload-links";
/** Files above this size travel as a plain `cat` stream: rsync's protocol costs it ~40% throughput there. */
export const BIG_FILE_BYTES = 64 * 1024 * 1024;

/**
 * A shell test, true when some part of `relative` (below the current dir) is a symlink. The kernel
 * follows a symlink anywhere in a path, so checking the last part alone lets `lnk/shadow` reach /etc.
 */
function crossesLink(relative: string): string {
  const parts = relative.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0) return "false";
  const prefixes = parts.map((_, i) => `./${parts.slice(0, i + 1).join("/")}`);
  return `{ ${prefixes.map((prefix) => `[ -L ${quoteShell(prefix)} ]`).join(" || ")}; }`;
}

/**
 * One script lists glob matches, the big ones among them, the symlinks the rules met (never followed,
 * never fetched: the download policy) and the first usable candidate of each mapped rule.
 */
export function buildListingScript(
  remoteDir: string,
  plan: DownloadPlan,
  physical = false,
  guard: readonly string[] = [],
): string {
  const dir = quoteShell(remoteDir);
  const lines = physical
    ? [
        // The physical path the run launched in: a path that leads elsewhere now (a part of it became
        // a symlink) would fetch another dir's files under the run's name.
        `cd ${dir} 2>/dev/null || { printf '%s\\n' "the dir the run launched in, "${dir}", is gone (moved or removed while the job ran)" >&2; exit 1; }`,
        `[ "$(pwd -P)" = ${dir} ] || { printf '%s\\n' "the dir the run launched in, "${dir}", now leads to $(pwd -P) (replaced by a symlink while the job ran): nothing was fetched from there" >&2; exit 1; }`,
      ]
    : [`cd ${dir} || exit 1`];
  // The caller's own checks (in the dir, before anything is listed): one round trip for them all.
  lines.push(...guard);
  const bases = [...new Set(plan.globs.map((glob) => glob.base))];
  const walk = (tests: string) =>
    bases.map((base) => {
      const start = quoteShell(base === "." ? "." : `./${base}`);
      const links = crossesLink(base);
      return `if ! ${links} && [ -d ${start} ]; then find ${start} -path ./.offload -prune -o ${tests} -print0; elif ! ${links} && [ -f ${start} ]; then find ${start} -prune ${tests} -print0; fi`;
    });
  lines.push(...walk("-type f"));
  lines.push(`printf '${BIG_MARK}\\0'`);
  lines.push(...walk(`-type f -size +${BIG_FILE_BYTES - 1}c`));
  lines.push(`printf '${LINK_MARK}\\0'`);
  lines.push(...walk("-type l"));
  for (const base of bases)
    if (base !== ".")
      lines.push(`if ${crossesLink(base)}; then printf '%s\\0' ${quoteShell(`./${base}`)}; fi`);
  lines.push(`printf '${MAPPED_MARK}\\0'`);
  plan.mapped.forEach((rule, index) => {
    const found: string[] = [];
    const linked: string[] = [];
    for (const candidate of rule.candidates) {
      if (candidate.startsWith("/") || candidate.startsWith("~")) {
        // An absolute mapping names a place outside the remote dir on purpose; only its file must be real.
        const path = quoteRemotePath(candidate);
        found.push(`[ -f ${path} ] && [ ! -L ${path} ]; then printf '%s\\0%s\\0' ${index} ${path}`);
        linked.push(`[ -L ${path} ]`);
      } else {
        const links = crossesLink(candidate);
        const path = `"$PWD"/${quoteShell(candidate)}`;
        found.push(`! ${links} && [ -f ${path} ]; then printf '%s\\0%s\\0' ${index} ${path}`);
        linked.push(links);
      }
    }
    // A rule whose only candidates are symlinks says so (an empty path), rather than "nothing matched".
    found.push(`${linked.join(" || ")}; then printf '%s\\0\\0' ${index}`);
    lines.push(`if ${found.join("; elif ")}; fi`);
  });
  return lines.join("\n");
}

export interface Listing {
  files: string[];
  /** Those of `files` larger than BIG_FILE_BYTES. */
  big: Set<string>;
  /** Symlinks the glob rules met, and glob bases that pass through one: skipped, never followed. */
  links: string[];
  /** Rule index → absolute remote path of the candidate that exists; "" when its candidates are symlinks. */
  mapped: Map<number, string>;
}

export function parseListing(stdout: string, plan: DownloadPlan): Listing {
  const records = stdout.split("\0");
  const strip = (path: string) => path.replace(/^\.\//, "");
  const section = (from: string | undefined, to: string) => {
    const start = from === undefined ? 0 : records.indexOf(from) + 1;
    const end = records.indexOf(to);
    if (start < 0 || (from !== undefined && start === 0)) return [];
    return records.slice(start, end >= 0 ? end : records.length);
  };
  const found = section(undefined, BIG_MARK).map(strip);
  const big = new Set(section(BIG_MARK, LINK_MARK).map(strip));
  const files = [...new Set(found)].filter(
    (path) => isContainedPath(path) && plan.globs.some((glob) => glob.match(path)),
  );
  const links = [...new Set(section(LINK_MARK, MAPPED_MARK).map(strip))].filter(
    (path) =>
      isContainedPath(path) && plan.globs.some((glob) => glob.match(path) || glob.base === path),
  );
  const mapped = new Map<number, string>();
  const mark = records.indexOf(MAPPED_MARK);
  const tail = mark < 0 ? [] : records.slice(mark + 1);
  for (let i = 0; i + 1 < tail.length; i += 2) mapped.set(Number(tail[i]), tail[i + 1] ?? "");
  return { files, big, links, mapped };
}
