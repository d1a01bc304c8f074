// A remote dir on a file system too small for the workspace: the sync fails, by tar (a first sync) or by
// rsync (a later one), and says the disk is full (E_DISK_FULL) with what to do, starts nothing, and
// leaves the dir free for the next run, which syncs what is missing once there is room.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
let mounted: string | undefined;
afterEach(async () => {
  if (mounted !== undefined) execFileSync("umount", [mounted]);
  mounted = undefined;
  await project?.remove();
  project = undefined;
});

const ROOT = process.getuid?.() === 0;

describe.skipIf(!ROOT)("a remote dir on a full file system (a 256 KiB tmpfs; needs root)", () => {
  it("fails the sync with E_DISK_FULL (exit 200), by tar then by rsync, and runs once there is room", async () => {
    project = await makeProject();
    const disk = join(project.home, "disk");
    mkdirSync(disk);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", disk]);
    mounted = disk;
    await project.write("a.bin", randomBytes(150_000));
    await project.write("b.bin", randomBytes(150_000));
    const remoteDir = join(disk, "work");
    const run = () =>
      runInProject(project as TempProject, [
        "run",
        "--host",
        "local",
        "--remote-dir",
        remoteDir,
        "--",
        "touch",
        "ran",
      ]);

    for (const tool of ["tar", "rsync"]) {
      const full = await run();
      expect(full.code, full.stderr).toBe(200);
      expect(full.stderr).toContain("error E_DISK_FULL");
      expect(full.stderr).toMatch(new RegExp(`${tool}( error)?:`));
      expect(full.stderr).toContain("the remote dir's file system is full");
      expect(full.stderr).toContain("hint: Free space there");
      expect(existsSync(join(remoteDir, "ran")), `${tool}: the job ran`).toBe(false);
      // The failed run gave the lock back: the next one is not refused as locked.
      expect(existsSync(join(remoteDir, ".offload/lock")), `${tool}: lock left`).toBe(false);
    }

    await rm(join(project.dir, "b.bin"));
    const fits = await run();
    expect(fits.code, fits.stderr).toBe(0);
    expect(existsSync(join(remoteDir, "ran"))).toBe(true);
    expect(existsSync(join(remoteDir, "b.bin"))).toBe(false);
  });
});
