// zod as the schema files use it: jitless. zod compiles an object schema into a function on its first
// parse (`new Function`), which pays only after many parses, and a command parses a few values once
// (10 ms of a warm run, profiled). Set here, before any schema of these files is built: zod reads it
// when an object schema is made.
import * as z from "zod";

z.config({ jitless: true });

export { z };
