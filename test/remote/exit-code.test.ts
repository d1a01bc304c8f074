// A run's exit status as the host reports it (the follow's exit marker, ps's status line): 0 to 255, or
// none. A job that writes its own `exit` file (a lying remote) made `offload run` say "failed (exit
// 99999999999)" and exit 255; such a run now reads as lost, as one with a garbled status does.
import { expect, it } from "vitest";
import { MARK } from "../../src/remote/layout.js";
import { readExitCode, readMarkers } from "../../src/remote/markers.js";
import { parseRunStatus, STATUS_MARK } from "../../src/remote/status.js";

const ID = "20261202-091738-d9ao";

it("reads 0 to 255 as an exit status, and nothing else", () => {
  expect([0, 1, 137, 143, 255].map((n) => readExitCode(String(n)))).toEqual([0, 1, 137, 143, 255]);
  for (const text of ["256", "99999999999", "-1", "1.5", "", "junk", "0x1"])
    expect(readExitCode(text)).toBeUndefined();
});

it("takes an exit marker past 255 for a lost run, in the follow and in ps", () => {
  expect(readMarkers(`${MARK.exit} 3\n`).end).toEqual({ kind: "exit", code: 3 });
  expect(readMarkers(`${MARK.exit} 99999999999\n`).end).toEqual({ kind: "lost" });
  const states = parseRunStatus(`${STATUS_MARK} ${ID} ended 99999999999\n`);
  expect(states.get(ID)).toEqual({ state: "ended", code: null });
  expect(parseRunStatus(`${STATUS_MARK} ${ID} ended 143\n`).get(ID)).toEqual({
    state: "ended",
    code: 143,
  });
});
