// Colour for a terminal only. picocolors' default turns colour on for every stream when CI is set,
// which put escape codes into piped logs and files; here the stream decides, NO_COLOR and FORCE_COLOR
// (https://no-color.org, https://force-color.org) win, and TERM=dumb gets none.
import { createColors } from "picocolors";

export type Colors = ReturnType<typeof createColors>;

export function colorsFor(
  stream: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): Colors {
  if (env.NO_COLOR) return createColors(false);
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return createColors(true);
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  return createColors(tty && env.TERM !== "dumb");
}
