// Whether the system Python can import torch, for the tests that train the PyTorch examples for real.
import { execFileSync } from "node:child_process";

export function hasTorch(): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
