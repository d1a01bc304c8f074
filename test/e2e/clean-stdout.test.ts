// The ssh transport learns from its framed round trips whether the host's login shell prints on stdout:
// only a stdout proven clean may carry a log straight into a file (session/follow-file.ts). The noisy
// side is shell-noise.test.ts: its byte-exact log and resumes would take the shell's junk otherwise.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { SshTransport } from "../../src/transport/ssh.js";
import { describeWithHosts } from "../testbed/index.js";

describeWithHosts(1, "a clean stdout", (bed) => {
  it("is unknown before the first framed round trip and proven by it", async () => {
    const host = bed.hosts[0] ?? "offload-h1";
    const transport = new SshTransport({
      label: host,
      host,
      configFile: bed.sshConfig,
      controlDir: mkdtempSync(join(tmpdir(), "offload-clean-")),
    });
    try {
      expect(transport.cleanStdout).toBe(false);
      await transport.connect();
      expect(transport.cleanStdout).toBe(false);
      const result = await transport.exec("printf 'payload'");
      expect(result.stdout).toBe("payload");
      expect(transport.cleanStdout).toBe(true);
    } finally {
      await transport.close();
    }
  });
});
