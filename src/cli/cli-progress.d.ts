// The part of cli-progress the bar uses (progress-bar.ts), typed here rather than through
// @types/cli-progress: one class and one preset do not need a second package.
declare module "cli-progress" {
  interface BarOptions {
    stream?: NodeJS.WritableStream;
    format?: string;
    barsize?: number;
    clearOnComplete?: boolean;
    hideCursor?: boolean;
    linewrap?: boolean;
  }
  class SingleBar {
    constructor(options: BarOptions, preset?: object);
    start(total: number, start: number, payload?: object): void;
    update(value: number, payload?: object): void;
    stop(): void;
  }
  const library: { SingleBar: typeof SingleBar; Presets: { shades_classic: object } };
  export default library;
}
