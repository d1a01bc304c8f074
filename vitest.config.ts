// Test runner settings: one shared SSH test bed per run, real processes, generous timeouts.

import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Child processes (ssh, rsync, python) are killed cleanly with forks; threads share one process.
    pool: "forks",
    // Integration tests mostly wait on real sshd/rsync/python; one worker per core, at most 4.
    maxWorkers: Math.max(1, Math.min(4, availableParallelism())),
    reporters: ["default"],
  },
});
