// The progress folder's public surface: log lines in, typed progress and metric events out.
export { parseEpochLine } from "./epoch.js";
export { parseHfLine } from "./hf.js";
export { OFFLOAD_MARKER, parseJsonLine } from "./json.js";
export { createKerasParser } from "./keras.js";
export { stripAnsi } from "./lines.js";
export { compilePatterns } from "./patterns.js";
export { parseResultLine } from "./result.js";
export type { LogParser, LogParserOptions } from "./stream.js";
export { createLogParser, parseLogText } from "./stream.js";
export { parseTqdmLine } from "./tqdm.js";
export type {
  LineParser,
  MetricEvent,
  ParsedEvent,
  ParserName,
  ProgressEvent,
  UserPattern,
} from "./types.js";
export { createYoloParser } from "./yolo.js";
