import { describe, expect, it } from "vitest";
import { formatHost, type HostTarget, parseHost, replacePort } from "../../src/config/host.js";
import { isOffloadError } from "../../src/errors.js";

const valid: [string, HostTarget][] = [
  ["local", { kind: "local" }],
  ["my_server", { kind: "ssh", host: "my_server" }],
  ["myserver.com", { kind: "ssh", host: "myserver.com" }],
  ["192.168.1.56", { kind: "ssh", host: "192.168.1.56" }],
  ["ubuntu@192.168.1.56", { kind: "ssh", host: "192.168.1.56", user: "ubuntu" }],
  ["ubuntu@192.168.1.56:456", { kind: "ssh", host: "192.168.1.56", user: "ubuntu", port: 456 }],
  [
    "ubuntu@192.168.1.56:456/workspace",
    { kind: "ssh", host: "192.168.1.56", user: "ubuntu", port: 456, path: "workspace" },
  ],
  [
    "ubuntu@192.168.1.56/workspace",
    { kind: "ssh", host: "192.168.1.56", user: "ubuntu", path: "workspace" },
  ],
  ["myserver.com/workspace", { kind: "ssh", host: "myserver.com", path: "workspace" }],
  ["root@ssh3.vast.ai:34567", { kind: "ssh", host: "ssh3.vast.ai", user: "root", port: 34567 }],
  ["box//abs/dir", { kind: "ssh", host: "box", path: "/abs/dir" }],
  ["box/~/work", { kind: "ssh", host: "box", path: "~/work" }],
  ["box/a/b/c", { kind: "ssh", host: "box", path: "a/b/c" }],
  ["box/dir@v2", { kind: "ssh", host: "box", path: "dir@v2" }],
  ["[::1]", { kind: "ssh", host: "::1" }],
  ["[::1]:2222", { kind: "ssh", host: "::1", port: 2222 }],
  [
    "me@[fe80::1%eth0]:22/w",
    { kind: "ssh", host: "fe80::1%eth0", user: "me", port: 22, path: "w" },
  ],
  ["box:1", { kind: "ssh", host: "box", port: 1 }],
  ["box:65535", { kind: "ssh", host: "box", port: 65535 }],
  ["first.last@box", { kind: "ssh", host: "box", user: "first.last" }],
  ["me@corp.example@box", { kind: "ssh", host: "box", user: "me@corp.example" }],
  ["gpu-01.lab_2", { kind: "ssh", host: "gpu-01.lab_2" }],
];

const invalid: [string, RegExp][] = [
  ["", /empty/],
  ["   ", /empty/],
  ["@host", /user before `@` is empty/],
  ["user@", /host name is empty/],
  ["user@:22", /host name is empty/],
  [":22", /host name is empty/],
  ["/path", /host name is empty/],
  ["host:", /port after `:` is empty/],
  ["host:0", /not between 1 and 65535/],
  ["host:65536", /not between 1 and 65535/],
  ["host:99999", /not between 1 and 65535/],
  ["host:123456", /not a number/],
  ["host:22a", /not a number/],
  ["host:-1", /not a number/],
  ["host:+22", /not a number/],
  ["host/", /path after `\/` is empty/],
  ["a(b@host", /`\(`/],
  ["host name", /whitespace/],
  ["host\tx", /whitespace/],
  ["host\n", /whitespace/],
  ["host\nrm -rf /", /whitespace/],
  ["host;reboot", /`;`/],
  ["host|cat", /`\|`/],
  ["host&", /`&`/],
  ["$(id)@host", /`\$`/],
  ["host/$HOME", /`\$`/],
  ["`id`", /`/],
  ["host/'x'", /`'`/],
  ['host/"x"', /`"`/],
  ["host>out", /`>`/],
  ["host<in", /`<`/],
  ["host/(x)", /`\(`/],
  ["host/{a,b}", /`\{`/],
  ["host/*", /`\*`/],
  ["host/?", /`\?`/],
  ["host!", /`!`/],
  ["host\\x", /`\\`/],
  ["host\u0000", /control character/],
  ["host\u001b[31m", /control character/],
  ["host\u007f", /control character/],
  ["::1", /IPv6 address must be written in brackets/],
  ["::1:22", /brackets/],
  ["[::1", /not closed/],
  ["[host]:22", /not an IPv6 address/],
  ["[::1]x", /only `:port`/],
  ["[::1]:0", /between 1 and 65535/],
  ["local:22", /`local` takes no user, port or path/],
  ["root@local", /`local` takes no/],
  ["local/work", /`local` takes no/],
  ["höst", /not a host name/],
  ["host#x", /not a host name/],
  ["a:b:c", /brackets/],
];

describe("parseHost", () => {
  it.each(valid)("parses %j", (text, expected) => {
    expect(parseHost(text)).toEqual(expected);
  });

  it.each(valid)("prints %j back to an equal target", (text) => {
    const target = parseHost(text);
    expect(parseHost(formatHost(target))).toEqual(target);
  });

  it.each(invalid)("refuses %j", (text, reason) => {
    let caught: unknown;
    try {
      parseHost(text);
    } catch (error) {
      caught = error;
    }
    expect(isOffloadError(caught)).toBe(true);
    if (!isOffloadError(caught)) return;
    expect(caught.code).toBe("E_HOST_SYNTAX");
    expect(caught.message).toMatch(reason);
    expect(caught.hint).toContain("[user@]host[:port][/path]");
  });

  // Refused as the ssh option it is, before any character in it: the hint says where ssh options go.
  it.each([
    ["-oProxyCommand=touch /tmp/pwned", /starts with `-`, like an ssh option/],
    ["-oProxyCommand=$(id)", /starts with `-`, like an ssh option/],
    ["-host", /starts with `-`, like an ssh option/],
    ["-l@host", /starts with `-`, like an ssh option/],
    ["user@-oProxyCommand=x", /host name starts with `-`, like an ssh option/],
    ["user@-x:22/dir", /host name starts with `-`, like an ssh option/],
  ])("refuses %j as an ssh option", (text, reason) => {
    let caught: unknown;
    try {
      parseHost(text);
    } catch (error) {
      caught = error;
    }
    expect(isOffloadError(caught)).toBe(true);
    if (!isOffloadError(caught)) return;
    expect(caught.code).toBe("E_HOST_SYNTAX");
    expect(caught.message).toMatch(reason);
    expect(caught.hint).toContain("~/.ssh/config");
    expect(caught.hint).toContain("--ssh-config");
  });

  it("never returns a host or user that ssh could read as an option", () => {
    // Parse first, assert after: an assertion inside the try would be swallowed as a refusal.
    const parsed = [...valid, ...invalid].flatMap(([text]) => {
      try {
        return [parseHost(text)];
      } catch (error) {
        expect(isOffloadError(error) && error.code).toBe("E_HOST_SYNTAX");
        return [];
      }
    });
    const ssh = parsed.filter((target) => target.kind === "ssh");
    expect(ssh).toHaveLength(valid.length - 1);
    for (const target of ssh) {
      expect(target.host.startsWith("-")).toBe(false);
      expect(target.user?.startsWith("-") ?? false).toBe(false);
    }
  });
});

describe("replacePort (--port)", () => {
  it.each([
    ["gpu-box", "gpu-box:2222"],
    ["me@gpu-box:22", "me@gpu-box:2222"],
    ["me@gpu-box:22/work/x", "me@gpu-box:2222/work/x"],
    ["[::1]:22", "[::1]:2222"],
    ["[::1]/~/w", "[::1]:2222/~/w"],
  ])("%s becomes %s", (text, expected) => {
    expect(replacePort(text, "2222")).toBe(expected);
    expect(parseHost(replacePort(text, "2222"))).toMatchObject({ kind: "ssh", port: 2222 });
  });
});
