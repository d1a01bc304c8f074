// Holds a long-lived command (ui, forward) open until Ctrl+C or SIGTERM, then lets it clean up.

/** Resolves at the first SIGINT or SIGTERM; the handlers are gone again by then. */
export function waitForInterrupt(): Promise<void> {
  return new Promise<void>((resolve) => {
    const leave = () => {
      process.off("SIGINT", leave);
      process.off("SIGTERM", leave);
      resolve();
    };
    process.on("SIGINT", leave);
    process.on("SIGTERM", leave);
  });
}
