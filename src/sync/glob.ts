// How offload matches globs against file names: dotfiles included, and `*` matches any character a file
// name may hold, newlines too (picomatch's `.` would not without the `s` flag).
export const GLOB_OPTIONS = { dot: true, flags: "s" } as const;
