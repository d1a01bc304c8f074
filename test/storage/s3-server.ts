// Starts the S3 API the storage tests talk to: moto's server (test/storage/s3-server.py adds the presigned
// URL checks moto skips) on the bridge address, which the test-bed hosts and this machine both reach.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StorageAccess } from "../../src/storage/access.js";
import { createPresigner, type Presign } from "../../src/storage/presign.js";
import { parseBucketUrl } from "../../src/storage/url.js";

const SERVER = fileURLToPath(new URL("./s3-server.py", import.meta.url));

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Lines "METHOD /bucket/key?sub-resources status", one a request, in order. */
  requests(): string[];
  stop(): Promise<void>;
}

/** Why the S3 server cannot run here, or undefined when it can. */
export function whyNoS3Server(): string | undefined {
  const probe = spawnSync("python3", ["-c", "import moto.server, botocore, werkzeug"], {
    encoding: "utf8",
  });
  if (probe.status === 0) return undefined;
  return `python3 cannot import moto's server (${(probe.stderr || probe.error?.message || "").trim().split("\n").pop()})`;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function waitUntilServing(endpoint: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the S3 server exited with ${child.exitCode}`);
    const ok = await fetch(`${endpoint}/`).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the S3 server did not answer within 30 s");
}

/** `hold`: requests to hold at a gate (s3-server.py says how); the gate's files start with `gate`. */
export async function startS3Server(
  host: string,
  options: { hold?: string; gate?: string } = {},
): Promise<S3Server> {
  const port = await freePort(host);
  const dir = mkdtempSync(join(tmpdir(), "offload-s3-"));
  const log = join(dir, "requests.log");
  const accessKeyId = "AKIAOFFLOADTEST0001";
  const secretAccessKey = `offload-test-secret-${process.pid}-${Date.now()}`;
  const child = spawn("python3", [SERVER, host, String(port), log], {
    env: {
      ...process.env,
      S3_TEST_KEYS: `${accessKeyId}:${secretAccessKey}`,
      ...(options.hold === undefined ? {} : { S3_TEST_HOLD: options.hold }),
      ...(options.gate === undefined ? {} : { S3_TEST_GATE: options.gate }),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://${host}:${port}`;
  try {
    await waitUntilServing(endpoint, child);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    requests: () => {
      try {
        return readFileSync(log, "utf8").split("\n").filter(Boolean);
      } catch {
        return [];
      }
    },
    stop: async () => {
      if (child.exitCode === null) {
        const closed = new Promise((resolve) => child.once("close", resolve));
        child.kill("SIGTERM");
        await closed;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates the bucket of `url` (s3://name/prefix/) on the server; returns the access (the server's
 * keys, path-style) and a presigner for it.
 */
export async function createBucket(
  server: S3Server,
  url: string,
): Promise<{ access: StorageAccess; presign: Presign }> {
  const access: StorageAccess = {
    bucket: parseBucketUrl(url),
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    region: "us-east-1",
    origin: server.endpoint,
    pathStyle: true,
  };
  const presign = await createPresigner(access);
  const made = await fetch(await presign({ method: "PUT", key: "", expiresIn: 60 }), {
    method: "PUT",
  });
  if (made.status !== 200) {
    throw new Error(`creating bucket ${url}: HTTP ${made.status}: ${await made.text()}`);
  }
  return { access, presign };
}
