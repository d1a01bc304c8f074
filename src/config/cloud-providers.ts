// Each cloud provider's own settings section of a `cloud:` target (`gcp:`, `lambda:`, `command:`),
// beside the fields every cloud shares (src/config/cloud.ts).
import { lazySchema, z } from "./zod.js";

const MACHINE_STATES = ["pending", "running", "stopped", "terminating", "gone", "error"] as const;

export const providerShape = lazySchema(() => {
  const command = z.string({ error: "expected a shell command" }).min(1);
  return {
    gcp: z
      .strictObject({
        project: z
          .string()
          .min(1)
          .optional()
          .meta({ description: "Default: gcloud's core/project" }),
        disk_gb: z
          .number()
          .int()
          .positive()
          .optional()
          .meta({ description: "Boot disk size in GB" }),
      })
      .optional()
      .meta({
        description: "cloud: gcp — zones go in `region:`; credentials as gcloud finds them",
      }),
    lambda: z
      .strictObject({
        base_url: z
          .url()
          .optional()
          .meta({ description: "Default https://cloud.lambda.ai/api/v1" }),
      })
      .optional()
      .meta({ description: "cloud: lambda — the key comes from LAMBDA_API_KEY" }),
    command: z
      .strictObject({
        create: command,
        describe: command,
        delete: command,
        list: command.optional(),
        stop: command.optional(),
        start: command.optional(),
        id_field: z.string().min(1).optional().meta({
          description:
            "A dotted path to the id in create's output (e.g. name, Instances.0.InstanceId)",
        }),
        states: z
          .record(
            z.string(),
            z.enum(MACHINE_STATES, { error: `expected one of ${MACHINE_STATES.join(", ")}` }),
          )
          .optional()
          .meta({
            description: "The cloud's state words offload would misread, e.g. TERMINATED: stopped",
          }),
        host_keys: z.enum(["user-data", "first-use"]).optional().meta({
          description:
            "first-use when the CLI cannot pass $OFFLOAD_USER_DATA_FILE as cloud-init user data",
        }),
      })
      .optional()
      .meta({
        description:
          "cloud: command — the cloud CLI's commands (sh, printing JSON); they see $OFFLOAD_TAG, $OFFLOAD_ID, $OFFLOAD_REGION, $OFFLOAD_FLAVOR, $OFFLOAD_IMAGE, $OFFLOAD_USER, $OFFLOAD_PUBLIC_KEY, $OFFLOAD_USER_DATA_FILE",
      }),
  };
});

type ProviderFields = {
  [K in keyof ReturnType<typeof providerShape>]?: z.output<ReturnType<typeof providerShape>[K]>;
};
export type ProviderOptions = NonNullable<
  ProviderFields["gcp"] | ProviderFields["lambda"] | ProviderFields["command"]
>;

/** The section of the target's own cloud (`gcp:` for `cloud: gcp`…), if it has one. */
export function providerOptionsOf(
  cloud: string,
  fields: ProviderFields,
): ProviderOptions | undefined {
  if (cloud === "gcp" || cloud === "lambda" || cloud === "command") return fields[cloud];
  return undefined;
}
