// Compute Engine instances as offload reads and writes them: the insert body, the answer's shape read
// into a MachineDescription, image names as gcloud takes them (pure).
import { findAddresses } from "../address.js";
import type { HttpAnswer } from "../http.js";
import type { MachineDescription, MachineSpec, MachineState } from "../types.js";

/** The label every instance offload makes carries; its value is the machine's unique tag. */
export const TAG_LABEL = "offload-tag";

/** What an insert sends: the tag as label and name, offload's keys in metadata, an external address. */
export function instanceBody(
  spec: MachineSpec,
  {
    zone,
    name,
    tag,
    project,
    diskGb,
  }: { zone: string; name: string; tag: string; project: string; diskGb?: number },
): unknown {
  const metadata: { key: string; value: string }[] = [];
  if (spec.login !== undefined) {
    metadata.push({ key: "ssh-keys", value: `${spec.login.user}:${spec.login.publicKey}` });
  }
  if (spec.userData !== undefined) metadata.push({ key: "user-data", value: spec.userData });
  const disk: Record<string, unknown> = {
    sourceImage: imageUrl(spec.image, project),
  };
  if (diskGb !== undefined) disk.diskSizeGb = String(diskGb);
  const network = spec.network === undefined || spec.network === "auto" ? "default" : spec.network;
  return {
    name,
    machineType: spec.flavor.includes("/")
      ? spec.flavor
      : `zones/${zone}/machineTypes/${spec.flavor}`,
    labels: { [TAG_LABEL]: tag },
    metadata: { items: metadata },
    disks: [{ boot: true, autoDelete: true, initializeParams: disk }],
    networkInterfaces: [
      {
        network: network.includes("/") ? network : `global/networks/${network}`,
        accessConfigs: [{ type: "ONE_TO_ONE_NAT", name: "External NAT" }],
      },
    ],
    // GPUs cannot live-migrate: a host maintenance stops the machine instead.
    ...(/^(a2|a3|g2)-/.test(spec.flavor) ? { scheduling: { onHostMaintenance: "TERMINATE" } } : {}),
  };
}

export interface GcpInstance {
  name: string;
  id?: string;
  status?: string;
  zone?: string;
  labels?: Record<string, string>;
  creationTimestamp?: string;
  statusMessage?: string;
}

/** Compute Engine's status words as offload's; TERMINATED is GCP's word for stopped, not deleted. */
export function stateOf(status: string): MachineState {
  switch (status) {
    case "PROVISIONING":
    case "STAGING":
    case "REPAIRING":
    case "PENDING_STOP":
      return "pending";
    case "RUNNING":
      return "running";
    case "STOPPING":
    case "SUSPENDING":
    case "SUSPENDED":
    case "TERMINATED":
    case "STOPPED":
      return "stopped";
    default:
      return "error";
  }
}

export function describeInstance(instance: GcpInstance): MachineDescription {
  const rawState = instance.status ?? "UNKNOWN";
  const description: MachineDescription = {
    id: instance.name,
    state: stateOf(rawState),
    rawState,
    addresses: findAddresses(instance),
  };
  const tag = instance.labels?.[TAG_LABEL];
  if (tag !== undefined) description.tag = tag;
  if (instance.zone !== undefined)
    description.region = instance.zone.split("/").at(-1) ?? instance.zone;
  if (instance.creationTimestamp !== undefined) description.created = instance.creationTimestamp;
  if (description.state === "error" && instance.statusMessage !== undefined) {
    description.fault = instance.statusMessage;
  }
  return description;
}

/**
 * An image as Compute wants it: a URL or `projects/…` path as given; `PROJECT/family/FAMILY` and
 * `PROJECT/IMAGE` (gcloud's --image-project + --image-family/--image); a bare name in the own project.
 */
export function imageUrl(image: string, project: string): string {
  if (
    image.startsWith("projects/") ||
    image.startsWith("https://") ||
    image.startsWith("global/")
  ) {
    return image;
  }
  const parts = image.split("/");
  if (parts.length === 3 && parts[1] === "family")
    return `projects/${parts[0]}/global/images/family/${parts[2]}`;
  if (parts.length === 2) return `projects/${parts[0]}/global/images/${parts[1]}`;
  return `projects/${project}/global/images/${image}`;
}

/** Compute's own "not found" (a 404 from a wrong endpoint is not one). */
export function isNotFound(answer: HttpAnswer): boolean {
  const error = (answer.json as { error?: { errors?: { reason?: string }[]; message?: string } })
    ?.error;
  return (
    (error?.errors ?? []).some((e) => e.reason === "notFound") ||
    /was not found/.test(error?.message ?? "")
  );
}

export function gone(id: string): MachineDescription {
  return { id, state: "gone", rawState: "not found", addresses: { public: [], private: [] } };
}
