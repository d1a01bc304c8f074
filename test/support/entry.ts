// The CLI entry for tests: the same as bin/offload.js, but from the sources.
import { main } from "../../src/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
