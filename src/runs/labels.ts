// A run's name and tags (`run --name`, `--tag k=v`): checked before anything starts, since a name is
// typed wherever a run id is and shown in `ps`.
import { OffloadError } from "../errors.js";
import { isRunId } from "./id.js";

/** A usable run name: one line, no path separators, not mistakable for a run id; else an E_USAGE error. */
export function checkRunName(name: string): string {
  const problem =
    name.trim() === ""
      ? "is empty"
      : /[/\\]/.test(name)
        ? "contains a slash"
        : /\p{Cc}/u.test(name)
          ? "contains a control character"
          : isRunId(name)
            ? "looks like a run id"
            : name.length > 100
              ? "is longer than 100 characters"
              : undefined;
  if (problem === undefined) return name;
  throw new OffloadError("E_USAGE", `--name ${JSON.stringify(name)} ${problem}.`, {
    hint: "Give a short name without slashes or control characters, e.g. `--name baseline-lr3e-4`.",
  });
}

/** `--tag k=v` (repeatable) as a map; a later tag with the same key wins. */
export function parseRunTags(tags: readonly string[]): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const tag of tags) {
    const at = tag.indexOf("=");
    const key = at > 0 ? tag.slice(0, at) : "";
    if (key === "" || /[\p{Cc}=,\s]/u.test(key) || /\p{Cc}/u.test(tag))
      throw new OffloadError(
        "E_USAGE",
        // A value is free text but one line: ps shows it in a column.
        `--tag ${JSON.stringify(tag)} ${key !== "" && /\p{Cc}/u.test(tag) ? "contains a control character" : "is not KEY=VALUE"}.`,
        {
          hint: "Tag a run like `--tag lr=3e-4 --tag data=v2`: a key without spaces, `=` or commas, then its value, on one line without tabs.",
        },
      );
    parsed[key] = tag.slice(at + 1);
  }
  return parsed;
}
