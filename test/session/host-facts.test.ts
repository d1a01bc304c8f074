// Host facts are probed once and reused for ten minutes, except where a run needs them fresh.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FACTS_TTL_MS, readHostFacts } from "../../src/session/host-facts.js";
import { LocalTransport } from "../../src/transport/local.js";

/** The real local transport, with a place to keep facts as the ssh transport has beside its sockets. */
function cachingTransport(): { transport: LocalTransport; cache: string } {
  const cache = join(mkdtempSync(join(tmpdir(), "offload-facts-")), "facts.json");
  const transport = new LocalTransport();
  Object.assign(transport, { factsCachePath: () => cache });
  return { transport, cache };
}

describe("readHostFacts", () => {
  it("probes, then reuses the facts until they are ten minutes old", async () => {
    const { transport } = cachingTransport();
    const start = Date.now();
    const first = await readHostFacts(transport, tmpdir(), { fresh: false, now: start });
    expect(first?.os).toBe("Linux");
    expect(first?.cpus).toBeGreaterThan(0);
    const again = await readHostFacts(transport, tmpdir(), { fresh: false, now: start + 1000 });
    expect(again).toEqual(first);
    const later = Date.parse(first?.probedAt ?? "") + FACTS_TTL_MS + 1;
    const stale = await readHostFacts(transport, tmpdir(), { fresh: false, now: later });
    expect(stale?.probedAt).not.toBe(first?.probedAt);
  });

  it("probes again when asked for fresh facts or when the kept ones are unreadable", async () => {
    const { transport, cache } = cachingTransport();
    const first = await readHostFacts(transport, tmpdir(), { fresh: false });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const fresh = await readHostFacts(transport, tmpdir(), { fresh: true });
    expect(fresh?.probedAt).not.toBe(first?.probedAt);
    writeFileSync(cache, "{ not json");
    const reprobed = await readHostFacts(transport, tmpdir(), { fresh: false });
    expect(reprobed?.os).toBe("Linux");
  });

  it("probes again when the kept facts are JSON of another shape (another version's, a damaged file)", async () => {
    const { transport, cache } = cachingTransport();
    const first = await readHostFacts(transport, tmpdir(), { fresh: false });
    const kept = { ...first, probedAt: new Date().toISOString() };
    const damaged: unknown[] = [
      null,
      [],
      "facts",
      { ...kept, gpus: [null] },
      { ...kept, gpus: [{ index: "0", name: "H100" }] },
      { ...kept, cpus: "many" },
      { ...kept, python: "3.11" },
      { ...kept, tar: undefined },
    ];
    for (const value of damaged) {
      writeFileSync(cache, JSON.stringify(value));
      const reprobed = await readHostFacts(transport, tmpdir(), { fresh: false });
      expect(reprobed?.probedAt, JSON.stringify(value)).not.toBe(kept.probedAt);
      expect(reprobed?.gpus.every((gpu) => gpu !== null)).toBe(true);
    }
    // The kept facts as written are read back, not probed again.
    writeFileSync(cache, JSON.stringify(kept));
    expect((await readHostFacts(transport, tmpdir(), { fresh: false }))?.probedAt).toBe(
      kept.probedAt,
    );
  });

  it("serves another remote dir of the same host from its facts, until the host's boot id differs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "offload-facts-"));
    const transport = new LocalTransport();
    // As the ssh transport keys them: one file a remote dir, and "" for the host whatever the dir.
    Object.assign(transport, {
      factsCachePath: (remoteDir: string) => join(dir, `${remoteDir.replaceAll("/", "_")}.json`),
    });
    const first = await readHostFacts(transport, "/srv/a", { fresh: false, bootId: "boot-1" });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const other = await readHostFacts(transport, "/srv/b", { fresh: false, bootId: "boot-1" });
    expect(other).toEqual(first);
    // Rebooted (or another machine behind that name): probed again.
    const rebooted = await readHostFacts(transport, "/srv/c", { fresh: false, bootId: "boot-2" });
    expect(rebooted?.probedAt).not.toBe(first?.probedAt);
    // No boot id (not Linux): only the remote dir's own facts serve, as before.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const unknown = await readHostFacts(transport, "/srv/d", { fresh: false });
    expect(unknown?.probedAt).not.toBe(rebooted?.probedAt);
  });

  it("never keeps facts for a transport without a cache", async () => {
    const transport = new LocalTransport();
    const a = await readHostFacts(transport, tmpdir(), { fresh: false });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const b = await readHostFacts(transport, tmpdir(), { fresh: false });
    expect(b?.probedAt).not.toBe(a?.probedAt);
  });
});
