// Validates settings that came from somewhere other than a file (the command line): apart from the
// file reader, so that a command whose settings have no file never loads the YAML parser.
import { OffloadError } from "../errors.js";
import { explainIssues, formatKeyPath } from "./issues.js";
import { checkSettings, type SettingsFile, settingsFileSchema } from "./schema.js";

/** Validates settings that came from somewhere other than a file (the command line). */
export function validateSettings(raw: unknown, label: string): SettingsFile {
  const result = checkSettings(raw);
  if (result.success) return result.data;
  const problems = explainIssues(result.error.issues, raw, settingsFileSchema());
  const [first] = problems;
  const message = problems
    .map((problem) => `${label}: ${formatKeyPath(problem.path)}: ${problem.message}`)
    .join("\n");
  // A bad value typed on the command line is a usage error (exit 2), as a bad flag is; the same value
  // in a file is a config error.
  throw new OffloadError("E_USAGE", message, first?.hint === undefined ? {} : { hint: first.hint });
}
