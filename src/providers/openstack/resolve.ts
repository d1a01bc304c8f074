// Flavor, image and network names resolved to ids, as the openstack CLI resolves them.
import { ProviderError } from "../errors.js";
import { openStackError } from "./errors.js";
import type { OpenStackSession } from "./session.js";

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

interface Named {
  id: string;
  name?: string;
}

/** A flavor by id or name: Nova's flavor list (ids of flavors are often short words such as "1"). */
export async function resolveFlavor(
  session: OpenStackSession,
  region: string | undefined,
  ref: string,
): Promise<string> {
  const answer = await session.request("compute", region, "/flavors?is_public=None");
  if (answer.status !== 200)
    throw openStackError(answer, `listing flavors in ${region ?? "the region"}`);
  const flavors = ((answer.json as { flavors?: Named[] })?.flavors ?? []) as Named[];
  return pickOne(flavors, ref, "flavor", region);
}

/** An image by id, else by name through Glance v2 (Nova's image proxy is gone since 2.36). */
export async function resolveImage(
  session: OpenStackSession,
  region: string | undefined,
  ref: string,
): Promise<string> {
  if (UUID.test(ref)) return ref;
  const answer = await session.request(
    "image",
    region,
    `/v2/images?name=${encodeURIComponent(ref)}`,
  );
  if (answer.status !== 200) throw openStackError(answer, `looking up image "${ref}"`);
  const images = ((answer.json as { images?: Named[] })?.images ?? []) as Named[];
  return pickOne(images, ref, "image", region);
}

/** `auto` and `none` are Nova's own (microversion 2.37); a name is looked up in Neutron. */
export async function resolveNetworks(
  session: OpenStackSession,
  region: string | undefined,
  ref: string | undefined,
): Promise<"auto" | "none" | { uuid: string }[]> {
  if (ref === undefined || ref === "auto" || ref === "none") return ref ?? "auto";
  if (UUID.test(ref)) return [{ uuid: ref }];
  const answer = await session.request(
    "network",
    region,
    `/v2.0/networks?name=${encodeURIComponent(ref)}`,
  );
  if (answer.status !== 200) throw openStackError(answer, `looking up network "${ref}"`);
  const networks = ((answer.json as { networks?: Named[] })?.networks ?? []) as Named[];
  return [{ uuid: pickOne(networks, ref, "network", region) }];
}

function pickOne(
  items: readonly Named[],
  ref: string,
  what: string,
  region: string | undefined,
): string {
  const byId = items.find((item) => item.id === ref);
  if (byId !== undefined) return byId.id;
  const byName = items.filter((item) => item.name === ref);
  const where = region === undefined ? "" : ` in ${region}`;
  if (byName.length === 1 && byName[0] !== undefined) return byName[0].id;
  if (byName.length > 1) {
    throw new ProviderError("request", `${byName.length} ${what}s are named "${ref}"${where}`, {
      hint: `name the ${what} by id: ${byName.map((i) => i.id).join(", ")}`,
    });
  }
  const known = items
    .map((item) => item.name ?? item.id)
    .slice(0, 12)
    .join(", ");
  throw new ProviderError("request", `no ${what} "${ref}"${where}`, {
    hint: `${what}s there: ${known || "none"}`,
  });
}
