// The two meeting points of a job across nodes (every lock taken; every node ready): a wait for all
// parties that fails every waiter at the first failure.

/** Waits until all `size` parties arrived, each with a value; fails every waiter at the first failure. */
export class Barrier<T> {
  readonly #values: T[] = [];
  #arrived = 0;
  readonly #done: Promise<T[]>;
  #resolve!: (values: T[]) => void;
  #reject!: (error: Error) => void;

  constructor(readonly size: number) {
    this.#done = new Promise<T[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#done.catch(() => {});
  }

  arrive(index: number, value: T): Promise<T[]> {
    this.#values[index] = value;
    this.#arrived += 1;
    if (this.#arrived === this.size) this.#resolve([...this.#values]);
    return this.#done;
  }

  fail(error: Error): void {
    this.#reject(error);
  }
}
