// What a run transfers besides the workspace: the entries config reads from `upload`/`download`.

export type UploadEntry =
  /** A glob relative to the project; files land at the same relative path in the remote dir. */
  | { kind: "glob"; pattern: string }
  /** One file or folder; `local` may be absolute or `~/…`, `remote` is relative to the remote dir or absolute. */
  | { kind: "map"; local: string; remote: string };

export type DownloadEntry =
  /** A glob relative to the remote dir; files land at the same relative path in the run's folder. */
  (
    | { kind: "glob"; pattern: string }
    | { kind: "map"; remote: string; local: string }
    /** The first remote candidate that exists is fetched to `to` (e.g. best.pt, then last.pt). */
    | { kind: "fallback"; from: string[]; to: string }
  ) & {
    /** `every: 5m`: seconds between checkpoints, when matched files are also fetched while the job runs. */
    every?: number | undefined;
  };
