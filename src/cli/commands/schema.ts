// `offload schema`: the JSON Schema of offload.yaml, for editors.
import { toJsonSchema } from "../../config/schema.js";
import type { Output } from "../render.js";

export async function schemaAction(out: Output): Promise<number> {
  out.stdout.write(`${JSON.stringify(toJsonSchema(), null, 2)}\n`);
  return 0;
}
