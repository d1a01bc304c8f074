// zod as the schema files use it: jitless. zod compiles an object schema into a function on its first
// parse (`new Function`), which pays only after many parses, and a command parses a few values once
// (10 ms of a warm run, profiled). Set here, before any schema of these files is built: zod reads it
// when an object schema is made.
import * as z from "zod";

z.config({ jitless: true });

export { z };

/**
 * A schema built on its first use, then kept. Building all of offload.yaml's schemas took ~20 ms of
 * CPU on every command (profiled), most of a warm run's own work; a command now builds only those of
 * the keys it checks (the command line's few, a file's own), and none when it checks nothing.
 */
export function lazySchema<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

/** Each key's schema from its builder, all of them built: the shape of a whole object schema. */
export function buildShape<F extends Record<string, () => z.ZodType>>(
  fields: F,
): { [K in keyof F]: ReturnType<F[K]> } {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, build] of Object.entries(fields)) shape[key] = build();
  return shape as { [K in keyof F]: ReturnType<F[K]> };
}
