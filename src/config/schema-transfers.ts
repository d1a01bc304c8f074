// The transfer keys of offload.yaml: upload and download rules, the results bucket, the inputs.

import { durationSchema } from "./duration.js";
import { checkTransferString } from "./transfer-entries.js";
import { lazySchema, z } from "./zod.js";

export function transferString(direction: "upload" | "download") {
  return z.string({ error: "expected a path" }).superRefine((text, ctx) => {
    const why = checkTransferString(text, direction);
    if (why !== undefined) ctx.addIssue({ code: "custom", message: why });
  });
}

export const fallbackDownload = lazySchema(() =>
  z.strictObject({
    every: durationSchema().optional(),
    from: z
      .array(z.string().min(1, { error: "expected a remote path" }), {
        error: "expected a list of remote paths",
      })
      .min(1, { error: "expected at least one remote path" }),
    to: z.string({ error: "expected a local path" }).min(1, { error: "expected a local path" }),
  }),
);

/** `{path, every}`: a glob or `remote|local` rule that is also fetched while the job runs. */
export const checkpointDownload = lazySchema(() =>
  z.strictObject({
    path: transferString("download"),
    every: durationSchema(),
  }),
);

// The bucket's own rules are checked where it is used (storage/); here only its form, to point at the line.
const BUCKET_URL = /^(s3|gs):\/\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](\/.*)?$/;
export const bucketUrl = lazySchema(() =>
  z.string({ error: "expected a bucket URL such as s3://bucket/prefix/" }).regex(BUCKET_URL, {
    error: "expected a bucket URL such as s3://bucket/prefix/ or gs://bucket/",
  }),
);

export const resultsSchema = lazySchema(() =>
  z
    .union(
      [bucketUrl(), z.strictObject({ url: bucketUrl(), every: durationSchema().optional() })],
      {
        error: "expected a bucket URL, or {url, every}",
      },
    )
    .meta({
      description:
        "Bucket folder the download rules' matches go to from the remote machine, under <prefix>/<run id>/; `every` pushes them while the job runs",
    }),
);

/** `s3://bucket/key|dest`, `s3://bucket/key -> dest`, or `{from, to}`. */
export const inputEntry = lazySchema(() =>
  z.union(
    [
      z
        .string({ error: "expected `s3://bucket/key|dest`" })
        .regex(/^(s3|gs):\/\/[^/]+\/[^|]*[^/|\s](\s*(\||->|→)\s*.*)?$/, {
          error:
            "expected `s3://bucket/key|dest` (the object, then where it goes in the remote dir)",
        }),
      z.strictObject({
        from: bucketUrl(),
        to: z.string({ error: "expected a path in the remote dir" }).optional(),
      }),
    ],
    { error: "expected `s3://bucket/key|dest` or {from, to}" },
  ),
);
