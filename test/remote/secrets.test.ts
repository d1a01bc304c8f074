import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OffloadError } from "../../src/errors.js";
import {
  buildSecretsReceiveLines,
  buildSecretsSourceLines,
  encodeSecretsFile,
  resolveSecrets,
} from "../../src/remote/secrets.js";

let root: string;

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "offload secrets $HOME 'q' ")));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const readText = (path: string): string => readFileSync(path, "utf8");

function expectSecretError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OffloadError);
    expect((error as OffloadError).code).toBe("E_SECRET");
    expect((error as OffloadError).hint).toBeTruthy();
    expect((error as OffloadError).message).toMatch(message);
    return;
  }
  throw new Error("expected an E_SECRET error");
}

describe("resolveSecrets", () => {
  it("takes a value from the local environment or from a file, less its trailing newline", () => {
    writeFileSync(join(root, "token"), "from-a-file\n");
    const secrets = resolveSecrets(
      ["HF_TOKEN", `WANDB_API_KEY=@${join(root, "token")}`, "EMPTY"],
      { HF_TOKEN: "from-env", EMPTY: "" },
      readText,
    );
    expect(secrets).toEqual({ HF_TOKEN: "from-env", WANDB_API_KEY: "from-a-file", EMPTY: "" });
  });

  it("reads ~/ in a file path from the local home", () => {
    writeFileSync(join(root, ".netrc-token"), "t0k\r\n");
    expect(resolveSecrets(["T=@~/.netrc-token"], { HOME: root }, readText)).toEqual({ T: "t0k" });
  });

  it("refuses what it cannot resolve, saying what to do", () => {
    expectSecretError(() => resolveSecrets(["HF_TOKEN"], {}, readText), /HF_TOKEN is not set/);
    expectSecretError(
      () => resolveSecrets([`K=@${join(root, "missing")}`], {}, readText),
      /Could not read the secret K/,
    );
    expectSecretError(() => resolveSecrets(["K=hunter2"], {}, readText), /inline/);
    expectSecretError(
      () => resolveSecrets(["1BAD"], { "1BAD": "x" }, readText),
      /not an environment/,
    );
    expectSecretError(() => resolveSecrets(["A", "A"], { A: "x" }, readText), /twice/);
    expectSecretError(
      () => resolveSecrets(["BIG"], { BIG: "x".repeat(400_000) }, readText),
      /391 KiB.*Argument list too long/,
    );
  });
});

/** A secret that is certainly nowhere else: random, plus every character sh treats specially. */
function hostileSecret(): string {
  return `s3cr3t-${randomBytes(12).toString("hex")} it's "$(touch pwned)" \`id\` \\ $HOME\nline 2 ünï`;
}

function runSh(script: string, input: string | Buffer = ""): ReturnType<typeof spawnSync> {
  return spawnSync("/bin/sh", ["-c", script], { cwd: root, input, encoding: "utf8" });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

describe("secrets through the launch round trip", () => {
  it("receives the secrets (0600) and then spec.json from one stdin, byte-exact", () => {
    const secrets = { HF_TOKEN: hostileSecret(), BIG: "x\n".repeat(20_000) };
    const text = encodeSecretsFile(secrets);
    const spec = JSON.stringify({ id: "r1", envNames: ["HF_TOKEN"] });
    const received = runSh(
      [
        "R=run",
        'mkdir -p "$R"',
        ...buildSecretsReceiveLines("R", Buffer.byteLength(text)),
        'cat > "$R/spec.json"',
      ].join("\n"),
      Buffer.concat([Buffer.from(text), Buffer.from(spec)]),
    );
    expect(received.status, String(received.stderr)).toBe(0);
    expect(readText(join(root, "run", "spec.json"))).toBe(spec);
    expect(readText(join(root, "run", "secrets.sh"))).toBe(text);
    expect(statSync(join(root, "run", "secrets.sh")).mode & 0o777).toBe(0o600);
    // What the file exports is exactly what was given, whatever the characters.
    const sourced = runSh('. run/secrets.sh; printf "%s" "$HF_TOKEN"');
    expect(sourced.stdout).toBe(secrets.HF_TOKEN);
    expect(existsSync(join(root, "pwned"))).toBe(false);
  });

  it("stops the launch and keeps no file when the secrets arrive cut short", () => {
    const text = encodeSecretsFile({ HF_TOKEN: hostileSecret() });
    const received = runSh(
      [
        "R=run",
        'mkdir -p "$R"',
        ...buildSecretsReceiveLines("R", Buffer.byteLength(text)),
        "echo launched",
      ].join("\n"),
      text.slice(0, 10),
    );
    expect(received.status).toBe(1);
    expect(received.stdout).toBe("");
    expect(received.stderr).toContain("did not arrive whole");
    expect(existsSync(join(root, "run", "secrets.sh"))).toBe(false);
  });

  it("hands the secret to the job's env, never to a command line or a file that outlives the start", async () => {
    const secret = hostileSecret();
    const marker = secret.slice(0, 31);
    mkdirSync(join(root, "run"));
    writeFileSync(join(root, "run", "secrets.sh"), encodeSecretsFile({ HF_TOKEN: secret }), {
      mode: 0o600,
    });
    // The launcher the lead builds: source, delete, then start the job; the job waits for a go.
    const launcher = [
      "R=run",
      ...buildSecretsSourceLines("R"),
      `sh -c ': > started; while [ ! -f go ]; do sleep 0.05; done; printf "%s" "$HF_TOKEN"'`,
    ].join("\n");
    const child = spawn("/bin/sh", ["-c", launcher], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    while (!existsSync(join(root, "started"))) await sleep(20);

    expect(existsSync(join(root, "run", "secrets.sh"))).toBe(false);
    for (let sample = 0; sample < 5; sample++) {
      const ps = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" });
      expect(ps.status).toBe(0);
      expect(ps.stdout).toContain("while [ ! -f go ]");
      expect(ps.stdout).not.toContain(marker);
    }
    writeFileSync(join(root, "go"), "");
    expect(await exited).toBe(0);
    expect(Buffer.concat(out).toString("utf8")).toBe(secret);
    for (const file of filesUnder(root)) expect(readText(file)).not.toContain(marker);
  });

  it("leaves no secret byte on disk when the PATH has no rm", () => {
    mkdirSync(join(root, "run"));
    writeFileSync(join(root, "run", "secrets.sh"), encodeSecretsFile({ TOK: "hunter2hunter2" }));
    const ran = runSh(
      ["R=run", "PATH=/nonexistent", ...buildSecretsSourceLines("R"), 'printf "%s" "$TOK"'].join(
        "\n",
      ),
    );
    expect(ran.stdout).toBe("hunter2hunter2");
    for (const file of filesUnder(root)) expect(readText(file)).not.toContain("hunter2");
  });

  it("sources nothing, and fails nothing, when a run has no secrets", () => {
    expect(buildSecretsReceiveLines("R", 0)).toEqual([]);
    const ran = runSh(["R=run", ...buildSecretsSourceLines("R"), "echo started"].join("\n"));
    expect(ran.status).toBe(0);
    expect(ran.stdout).toBe("started\n");
  });
});
