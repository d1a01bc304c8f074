// The few requests offload itself makes to a bucket (over fetch, with URLs it signed): multipart setup
// and reading objects home. Bucket errors become OffloadErrors that say what the bucket answered.
import { OffloadError } from "../errors.js";

/** The `<Code>` and `<Message>` of an S3 error body, or the status when it has none. */
function describeBucketError(status: number, body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1]?.replace(/\.$/, "");
  return code ? `${status} ${code}${message ? `: ${message}` : ""}` : `HTTP ${status}`;
}

export async function requestBucket(
  what: string,
  url: string,
  init: RequestInit = {},
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new OffloadError("E_STORAGE", `${what} failed: ${(error as Error).message}.`, {
      hint: "Check the endpoint is reachable from this machine (storage.endpoint, AWS_ENDPOINT_URL).",
      cause: error,
    });
  }
  if (response.ok) return response;
  const text = await response.text().catch(() => "");
  const auth = response.status === 403 || response.status === 401;
  throw new OffloadError(
    auth ? "E_STORAGE_AUTH" : "E_STORAGE",
    `${what}: the bucket answered ${describeBucketError(response.status, text)}.`,
    {
      hint: auth
        ? "Check the keys (AWS_* env vars, ~/.aws, GS_* for gs://) may write and read this bucket."
        : "Check the bucket and prefix exist and the endpoint is the right one.",
    },
  );
}
