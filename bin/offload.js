#!/usr/bin/env node
// Entry point: runs the built CLI (npm install builds it through the `prepare` script).
import { main } from "../dist/cli/main.js";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
