// Short-lived URLs signed here with the standard SigV4 query presigning (AWS's own @smithy/signature-v4):
// the remote machine gets URLs, never keys. The signer is imported on first use so start-up stays as is.
import type { StorageAccess } from "./access.js";

export type Presign = (request: PresignRequest) => Promise<string>;

export interface PresignRequest {
  method: "GET" | "PUT" | "HEAD" | "POST" | "DELETE";
  key: string;
  /** Sub-resource and parameters: `{ uploads: "" }`, `{ partNumber: "3", uploadId }`. */
  query?: Record<string, string>;
  /** Seconds the URL stays valid (SigV4 allows 1 s to 7 days). */
  expiresIn: number;
}

const PAYLOAD_HEADER = "x-amz-content-sha256";

/** RFC 3986 escaping as SigV4 wants it: everything but unreserved characters. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A key as a URL path: each segment escaped once, slashes kept (S3 does not double-encode). */
function toPath(access: StorageAccess, key: string): string {
  const escaped = key.split("/").map(escapeUri).join("/");
  return access.pathStyle ? `/${access.bucket.bucket}/${escaped}` : `/${escaped}`;
}

/** Builds the signer for one bucket; each call of the result signs one request. */
export async function createPresigner(access: StorageAccess): Promise<Presign> {
  const [{ SignatureV4 }, { Hash }] = await Promise.all([
    import("@smithy/signature-v4"),
    import("@smithy/hash-node"),
  ]);
  const signer = new SignatureV4({
    service: "s3",
    region: access.region,
    credentials: access.credentials,
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: false,
    applyChecksum: false,
  });
  const origin = new URL(access.origin);
  return async ({ method, key, query = {}, expiresIn }) => {
    const signed = await signer.presign(
      {
        method,
        protocol: origin.protocol,
        hostname: origin.hostname,
        ...(origin.port ? { port: Number(origin.port) } : {}),
        path: toPath(access, key),
        query: { ...query },
        // S3 signs presigned URLs over an unsigned payload: the header only tells the signer so, and
        // stays out of the URL and of the signed headers.
        headers: { host: origin.host, [PAYLOAD_HEADER]: "UNSIGNED-PAYLOAD" },
      },
      {
        expiresIn,
        unhoistableHeaders: new Set([PAYLOAD_HEADER]),
        unsignableHeaders: new Set([PAYLOAD_HEADER]),
      },
    );
    const search = Object.entries(signed.query ?? {})
      .flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) =>
          v === null || v === undefined ? escapeUri(name) : `${escapeUri(name)}=${escapeUri(v)}`,
        ),
      )
      .join("&");
    return `${access.origin}${signed.path}?${search}`;
  };
}
