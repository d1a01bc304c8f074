// Which ssh exits are the connection's fault, as OpenSSH words them, and the error a person then sees.
import { describe, expect, it } from "vitest";
import { classifySshFailure, isSshFailure, NO_ANSWER } from "../../src/transport/ssh-errors.js";

describe("isSshFailure", () => {
  it.each([
    "Connection timed out during banner exchange\nConnection to 10.200.1.2 port 22 timed out\n",
    "ssh: connect to host 10.200.1.2 port 22: Connection refused\n",
    "kex_exchange_identification: read: Connection reset by peer\n",
    "Connection to gpu-box closed by remote host.\n",
    "Host key verification failed.\n",
    "",
  ])("takes %j from ssh's exit 255 as a failed connection", (stderr) => {
    expect(isSshFailure(255, stderr)).toBe(true);
  });

  it("leaves a remote command's own 255, or any other status, to the command", () => {
    expect(isSshFailure(255, "Traceback (most recent call last):\n")).toBe(false);
    expect(isSshFailure(1, "Connection timed out during banner exchange\n")).toBe(false);
  });
});

describe("classifySshFailure", () => {
  it("calls a banner timeout unreachable and says what to check", () => {
    const error = classifySshFailure(
      "gpu-box",
      "Connection timed out during banner exchange\nConnection to 10.0.0.5 port 22 timed out\n",
    );
    expect(error.code).toBe("E_HOST_UNREACHABLE");
    expect(error.message).toContain("gpu-box");
    expect(error.hint).toContain("`ssh gpu-box true`");
  });

  it("says how long a connection that timed out was waited for, and not for one refused at once", () => {
    for (const stderr of [
      "Connection timed out during banner exchange\n",
      "ssh: connect to host 10.0.0.5 port 22: Connection timed out\n",
      `${NO_ANSWER}\n`,
    ]) {
      const error = classifySshFailure("gpu-box", stderr, "gpu-box", 7);
      expect(error.code).toBe("E_HOST_UNREACHABLE");
      expect(error.message).toMatch(/timed out.* \(waited 7 s: ssh\.connect_timeout\)$/);
      expect(error.hint).toContain("raise `ssh.connect_timeout`");
    }
    const refused = classifySshFailure(
      "gpu-box",
      "ssh: connect to host gpu-box port 22: Connection refused\n",
      "gpu-box",
      7,
    );
    expect(refused.message).toBe(
      "Can't reach gpu-box: ssh: connect to host gpu-box port 22: Connection refused",
    );
  });

  it("names the target as typed, and hints the ssh command that reaches it by hand", () => {
    const error = classifySshFailure(
      "me@gpu-box:2222/work",
      "ssh: connect to host gpu-box port 2222: Connection refused\n",
      "-p 2222 me@gpu-box",
    );
    expect(error.message).toContain("me@gpu-box:2222/work");
    expect(error.hint).toContain("`ssh -p 2222 me@gpu-box true`");
    expect(error.hint).toContain("`offload check --host me@gpu-box:2222/work`");
  });
});

describe("a changed host key", () => {
  // As OpenSSH 9.2 prints it (captured on the test bed with a forged known_hosts line).
  const changed = (file: string, name: string) =>
    [
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
      `Add correct host key in ${file} to get rid of this message.`,
      `Offending ED25519 key in ${file}:1`,
      "  remove with:",
      `  ssh-keygen -f "${file}" -R "${name}"`,
      `Host key for ${name} has changed and you have requested strict checking.`,
      "Host key verification failed.",
      "",
    ].join("\n");

  it("hints the ssh-keygen -R that removes the very key ssh refused, in the file ssh read", () => {
    const error = classifySshFailure("gpu", changed("/tmp/kh", "10.200.1.2"), "gpu");
    expect(error.code).toBe("E_HOST_KEY_CHANGED");
    expect(error.hint).toContain("`ssh-keygen -f /tmp/kh -R 10.200.1.2`");
  });

  it("names a host on another port as known_hosts does, [host]:port, quoted for the shell", () => {
    const error = classifySshFailure(
      "me@gpu:2222",
      changed("/home/me/.ssh/known hosts", "[gpu.example.com]:2222"),
      "-p 2222 me@gpu",
    );
    expect(error.hint).toContain(
      "`ssh-keygen -f '/home/me/.ssh/known hosts' -R '[gpu.example.com]:2222'`",
    );
  });

  it("builds the command from the offending file and name where ssh printed no `remove with`", () => {
    const stderr = changed("/root/.ssh/known_hosts", "[10.0.0.5]:2200")
      .split("\n")
      .filter((line) => !/remove with|ssh-keygen/.test(line))
      .join("\n");
    const error = classifySshFailure("box", stderr, "box");
    expect(error.hint).toContain("`ssh-keygen -f /root/.ssh/known_hosts -R '[10.0.0.5]:2200'`");
    expect(error.hint).not.toContain("<hostname>");
  });
});
