// A writable that records what was written and says it is (or is not) a terminal of a given width,
// as process.stdout does; the real TTY cannot exist in a test run.
import { Writable } from "node:stream";

export class FakeTerminal extends Writable {
  readonly chunks: string[] = [];
  readonly isTTY: boolean;
  columns: number;

  constructor(options: { isTTY: boolean; columns?: number }) {
    super();
    this.isTTY = options.isTTY;
    this.columns = options.columns ?? 80;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }

  get text(): string {
    return this.chunks.join("");
  }
}
