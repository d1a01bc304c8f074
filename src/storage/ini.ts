// The INI dialect of ~/.aws/credentials, ~/.aws/config and ~/.boto (pure): sections of `key = value`.

export type IniSections = Map<string, Map<string, string>>;

/** Sections by name; keys are lower-cased as the AWS CLI treats them; nested (indented) blocks are skipped. */
export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(raw)) continue;
    const header = /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(raw);
    if (header?.[1] !== undefined) {
      current = sections.get(header[1]) ?? new Map<string, string>();
      sections.set(header[1], current);
      continue;
    }
    // An indented line continues a nested block (`s3 =` then `  endpoint_url = …`): not a top-level key.
    if (/^\s/.test(raw)) continue;
    const pair = /^([^=]+?)\s*=\s*(.*?)\s*$/.exec(raw);
    if (pair?.[1] !== undefined && current) current.set(pair[1].toLowerCase(), pair[2] ?? "");
  }
  return sections;
}
