#!/usr/bin/env node
// Entry point: runs the bundled CLI (npm install builds it through the `prepare` script).
import { main } from "../dist/offload.mjs";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
