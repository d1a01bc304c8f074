// The host reaches ssh's argv only as a host: a `-` first is refused, and `--` ends ssh's options.
import { describe, expect, it } from "vitest";
import { isOffloadError } from "../../src/errors.js";
import { SshTransport } from "../../src/transport/ssh.js";

describe("SshTransport argv", () => {
  it.each(["-oProxyCommand=touch /tmp/pwned", "-x", ""])(
    "refuses the host %j before any argv is built",
    (host) => {
      let caught: unknown;
      try {
        new SshTransport({ label: host, host });
      } catch (error) {
        caught = error;
      }
      expect(isOffloadError(caught) && caught.code).toBe("E_HOST_SYNTAX");
    },
  );

  it("ends ssh's options with `--` right before the host in what it gives rsync and tar", () => {
    const shell = new SshTransport({
      label: "box",
      host: "box",
      user: "me",
      port: 2222,
    }).remoteShell();
    const argv = shell.shellArgv("true");
    expect(argv.slice(-3)).toEqual(["--", "box", "true"]);
    expect(shell.remotePath("/w")).toBe("box:/w");
  });
});
