// The bar a terminal shows while a long copy runs (bytes, rate and ETA as rsync measures them), drawn
// by cli-progress. The library is loaded only once a copy reports progress: most runs never load it.
import type { RunEvent } from "../events.js";
import { formatClock } from "../report/format.js";
import { bytes } from "./bytes.js";

type Transfer = Extract<RunEvent, { type: "transfer" }>;
type TtyStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** What the bar says beside itself: `31% · 30.5 MiB · 31.3 MiB/s · ETA 0:02`. */
export function describeTransfer(event: Transfer): { label: string; detail: string } {
  const parts = [bytes(event.bytes)];
  if (event.bytesPerSecond !== undefined && event.bytesPerSecond > 0)
    parts.push(`${bytes(Math.round(event.bytesPerSecond))}/s`);
  if (event.etaSeconds !== undefined && event.percent < 100)
    parts.push(`ETA ${formatClock(event.etaSeconds)}`);
  return {
    label: event.direction === "upload" ? "uploading  " : "downloading",
    detail: parts.join(" · "),
  };
}

export interface ProgressBar {
  show(event: Transfer): void;
  /** A phase of unknown length (the env build): its time so far and the latest line it printed. */
  showActivity(label: string, detail: string): void;
  /** Takes the bar off the screen (before any other line is printed); the next show() draws anew. */
  clear(): void;
}

interface Bar {
  start(total: number, start: number, payload: object): void;
  update(value: number, payload: object): void;
  stop(): void;
}

interface Drawn {
  format: string;
  percent: number;
  payload: { label: string; detail: string };
}

const TRANSFER_FORMAT = "{label} {bar} {percentage}% · {detail}";
const ACTIVITY_FORMAT = "{label} {duration_formatted} · {detail}";

export function createProgressBar(stream: TtyStream): ProgressBar {
  let bar: { format: string; bar: Bar } | undefined;
  let loading: Promise<void> | undefined;
  let latest: Drawn | undefined;
  let make: ((format: string) => Bar) | undefined;

  const draw = () => {
    if (latest === undefined || make === undefined) return;
    if (bar !== undefined && bar.format !== latest.format) stop();
    if (bar === undefined) {
      bar = { format: latest.format, bar: make(latest.format) };
      bar.bar.start(100, latest.percent, latest.payload);
    } else bar.bar.update(latest.percent, latest.payload);
  };
  const stop = () => {
    bar?.bar.stop();
    bar = undefined;
  };
  const render = (drawn: Drawn) => {
    latest = drawn;
    if (make !== undefined) return draw();
    loading ??= import("cli-progress").then((library) => {
      const { SingleBar, Presets } = library.default;
      make = (format) =>
        new SingleBar(
          {
            stream,
            format,
            barsize: 24,
            clearOnComplete: true,
            hideCursor: false,
            linewrap: false,
          },
          Presets.shades_classic,
        );
      draw();
    });
    loading.catch(() => {}); // no bar is no reason to fail a run
  };
  return {
    show(event) {
      render({
        format: TRANSFER_FORMAT,
        percent: event.percent,
        payload: describeTransfer(event),
      });
    },
    showActivity(label, detail) {
      render({ format: ACTIVITY_FORMAT, percent: 0, payload: { label, detail } });
    },
    clear() {
      latest = undefined;
      stop();
    },
  };
}
