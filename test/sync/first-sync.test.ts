// The first sync's tar at both ends, run for real on this machine: the remote side reads the records the
// local side writes, handed over in the small pieces ssh gives a pipe, and unpacks the tree whole.
import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { quoteShell } from "../../src/shell/quote.js";
import { buildTarCreateArgv, buildTarExtractCommand } from "../../src/sync/first-sync.js";
import { encodeNulList } from "../../src/sync/raw-names.js";

let temp: string | undefined;
afterEach(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
  temp = undefined;
});

/** The value after `-b` in an argv or a command line. */
function recordBlocks(words: readonly string[]): string | undefined {
  const at = words.indexOf("-b");
  return at < 0 ? undefined : words[at + 1];
}

/** Runs argv with `input` on stdin; resolves with its stdout. */
function capture(argv: readonly string[], cwd: string, input: Buffer): Promise<Buffer> {
  const [program = "", ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, stdio: ["pipe", "pipe", "inherit"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${program} exited ${code}`)),
    );
    child.stdin.end(input);
  });
}

/** Feeds `archive` to the extract command in 3,000-byte writes, as a slow link would. */
function extractInPieces(command: string, archive: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { stdio: ["pipe", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`tar -x exited ${code}`)),
    );
    let offset = 0;
    const writeNext = (): void => {
      if (offset >= archive.length) {
        child.stdin.end();
        return;
      }
      const piece = archive.subarray(offset, offset + 3000);
      offset += piece.length;
      child.stdin.write(piece, () => setImmediate(writeNext));
    };
    writeNext();
  });
}

describe("first sync tar", () => {
  it("extracts with the record size it creates with where the remote tar is GNU tar (128 KiB: fewer reads and writes)", () => {
    const create = recordBlocks(buildTarCreateArgv(true));
    expect(create).toBe("256");
    expect(recordBlocks(buildTarExtractCommand("'dir'", true).split(" "))).toBe(create);
    // A tar that may not be GNU's (busybox has no -b) is not given it: it reads any record size.
    expect(buildTarExtractCommand("'dir'", false)).toBe("cd 'dir' && exec tar -xpf -");
  });

  it("unpacks a tree sent in small pieces whole, records and all", async () => {
    temp = await mkdtemp(join(tmpdir(), "first-sync-tar-"));
    const source = join(temp, "source");
    const dest = join(temp, "dest 'quoted'");
    const names = ["."];
    for (let d = 0; d < 5; d++) {
      await mkdir(join(source, `dir${d}`), { recursive: true });
      names.push(`dir${d}`);
      for (let f = 0; f < 40; f++) {
        const name = `dir${d}/file${f}.txt`;
        // Sizes across record boundaries: a file bigger than a 128 KiB record, and many small ones.
        await writeFile(join(source, name), "x".repeat(f === 0 ? 300_000 : f * 97));
        names.push(name);
      }
    }
    await mkdir(dest);
    const archive = await capture(buildTarCreateArgv(true), source, encodeNulList(names));
    expect(archive.length % (256 * 512)).toBe(0);
    await extractInPieces(buildTarExtractCommand(quoteShell(dest), true), archive);
    const list = (dir: string) =>
      execFileSync("sh", ["-c", "find . -type f -exec cksum {} + | sort"], { cwd: dir }).toString();
    expect(list(dest)).toBe(list(source));
    expect(list(dest).split("\n").filter(Boolean)).toHaveLength(200);
  });
});
