// A stop whose run is gone from the host (its remote dir removed or replaced while the job ran) signals
// nothing and says so: the pid file that proves the job's group went with the dir. It used to read the
// script's failed `cd` as "signalled; no exit status yet" (exit 0) while the job went on.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { stopRemoteRun } from "../../src/session/stop.js";
import { LocalTransport } from "../../src/transport/local.js";

const ID = "20261202-091124-6g10";
let scratch: string | undefined;
afterEach(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
  scratch = undefined;
});

it("refuses with E_RUN_NOT_FOUND when the remote dir is gone, and when the run's folder is", async () => {
  scratch = await mkdtemp(join(tmpdir(), "offload-stop-missing-"));
  const transport = new LocalTransport();
  const gone = join(scratch, "removed-remote-dir");
  await expect(stopRemoteRun(transport, gone, ID, 1)).rejects.toMatchObject({
    code: "E_RUN_NOT_FOUND",
    message: expect.stringContaining("nothing was signalled"),
  });
  await mkdir(join(scratch, "empty-remote-dir"));
  await expect(
    stopRemoteRun(transport, join(scratch, "empty-remote-dir"), ID, 1),
  ).rejects.toMatchObject({ code: "E_RUN_NOT_FOUND" });
});
