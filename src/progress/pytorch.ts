// The print formats of the PyTorch examples (github.com/pytorch/examples, mnist/main.py and the
// many scripts copied from it): `Train Epoch: 1 [6400/60000 (11%)]\tLoss: 0.289188` and
// `Test set: Average loss: 0.0537, Accuracy: 9826/10000 (98%)`.
import type { LineParser, MetricEvent, ParsedEvent, ProgressEvent } from "./types.js";
import { findPairs, VALUE } from "./values.js";

// The bracket counts samples, not steps, so only the percent of the epoch is progress.
const TRAIN = /^\s*Train Epoch:\s*(\d+)\s*\[\s*\d+\s*\/\s*\d+\s*\((\d+(?:\.\d+)?)%\)\]\s*(.*)$/;
const SET = /^\s*(\w+) set:\s*(.+)$/i;
// `Accuracy: 9826/10000 (98%)`: the count is exact where the printed percent is rounded.
const COUNT = new RegExp(
  String.raw`^\s*([A-Za-z][\w ]*?):\s*(\d+)\s*\/\s*(\d+)\s*\(\s*${VALUE}%\s*\)\s*$`,
);

/** Stateful: a `Test set:` line reports on the epoch that the last `Train Epoch:` line trained. */
export function createPytorchExampleParser(): LineParser {
  let lastEpoch: number | undefined;
  return (line) => {
    const events = parsePytorchExampleLine(line, lastEpoch);
    const first = events?.[0];
    if (first?.type === "progress") lastEpoch = first.epoch;
    return events;
  };
}

function parsePytorchExampleLine(
  line: string,
  lastEpoch: number | undefined,
): ParsedEvent[] | null {
  const train = TRAIN.exec(line);
  if (train !== null) {
    const epoch = Number(train[1]);
    const progress: ProgressEvent = {
      type: "progress",
      epoch,
      percent: Number(train[2]),
      source: "pytorch",
    };
    const metrics = findPairs(train[3] ?? "").map(
      ({ name, value }): MetricEvent => ({
        type: "metric",
        name,
        value,
        epoch,
        source: "pytorch",
      }),
    );
    return [progress, ...metrics];
  }
  const set = SET.exec(line);
  if (set?.[1] === undefined || set[2] === undefined) return null;
  const metrics = readSetLine(set[1].toLowerCase(), set[2]);
  if (lastEpoch !== undefined) for (const metric of metrics ?? []) metric.epoch = lastEpoch;
  return metrics;
}

/** `Average loss: 0.0537, Accuracy: 9826/10000 (98%)` → test_loss 0.0537, test_accuracy 98.26. */
function readSetLine(prefix: string, text: string): MetricEvent[] | null {
  const name = (label: string) =>
    `${prefix}_${label
      .trim()
      .replace(/^average\s+/i, "")
      .toLowerCase()
      .replace(/\s+/g, "_")}`;
  const metrics = text.split(/,\s*/).flatMap((part): MetricEvent[] => {
    const count = COUNT.exec(part);
    if (count !== null) {
      const total = Number(count[3]);
      if (count[1] === undefined || !(total > 0)) return [];
      const value = (Number(count[2]) / total) * 100;
      return [{ type: "metric", name: name(count[1]), value, source: "pytorch" }];
    }
    return findPairs(part.replace(/^\s*Average\s+/i, "")).map(({ name: label, value }) => ({
      type: "metric",
      name: name(label),
      value,
      source: "pytorch",
    }));
  });
  return metrics.length === 0 ? null : metrics;
}
