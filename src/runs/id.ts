// Run ids: sortable by start time, short enough to type, safe in paths and shell words. What an id
// looks like is here; making one is in new-id.ts, apart, so that reading the store (`ps`, `report`)
// does not load node:crypto (~6 ms).
/** What createRunId makes: the only names the store treats as runs, so an id is safe in a path or a shell word. */
export const RUN_ID_PATTERN = /^[0-9]{8}-[0-9]{6}-[a-z0-9]{4}$/;

export function isRunId(text: string): boolean {
  return RUN_ID_PATTERN.test(text);
}
