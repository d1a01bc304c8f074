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
  /** Takes the bar off the screen (before any other line is printed); the next show() draws anew. */
  clear(): void;
}

interface Bar {
  start(total: number, start: number, payload: object): void;
  update(value: number, payload: object): void;
  stop(): void;
}

export function createProgressBar(stream: TtyStream): ProgressBar {
  let bar: Bar | undefined;
  let loading: Promise<void> | undefined;
  let latest: Transfer | undefined;
  let shown = false;
  let make: (() => Bar) | undefined;

  const draw = () => {
    if (latest === undefined || make === undefined) return;
    const payload = describeTransfer(latest);
    if (!shown) {
      bar = make();
      bar.start(100, latest.percent, payload);
      shown = true;
    } else bar?.update(latest.percent, payload);
  };
  return {
    show(event) {
      latest = event;
      if (make !== undefined) return draw();
      loading ??= import("cli-progress").then((library) => {
        const { SingleBar, Presets } = library.default;
        make = () =>
          new SingleBar(
            {
              stream,
              format: "{label} {bar} {percentage}% · {detail}",
              barsize: 24,
              clearOnComplete: true,
              hideCursor: false,
              linewrap: false,
            },
            Presets.shades_classic,
          ) as Bar;
        draw();
      });
      loading.catch(() => {}); // no bar is no reason to fail a run
    },
    clear() {
      latest = undefined;
      if (shown) bar?.stop();
      shown = false;
      bar = undefined;
    },
  };
}
