// Owns reading what a machine's cloud-init would apply from Nova's base64 user_data: the host key
// (ssh_keys.ed25519_private) and the login keys (ssh_authorized_keys), as cloud-init's cc_ssh does.
import { parse } from "yaml";

export interface CloudInitKeys {
  hostKey?: string;
  hostPublicKey?: string;
  authorizedKeys: string[];
}

export function readCloudInit(userDataBase64: string | undefined): CloudInitKeys {
  if (userDataBase64 === undefined) return { authorizedKeys: [] };
  const text = Buffer.from(userDataBase64, "base64").toString("utf8");
  if (!text.startsWith("#cloud-config")) return { authorizedKeys: [] };
  const doc = (parse(text) ?? {}) as {
    ssh_keys?: Record<string, string>;
    ssh_authorized_keys?: string[];
    users?: ({ ssh_authorized_keys?: string[] } | string)[];
  };
  const fromUsers = (doc.users ?? []).flatMap((u) =>
    typeof u === "string" ? [] : (u.ssh_authorized_keys ?? []),
  );
  const keys: CloudInitKeys = {
    authorizedKeys: [...(doc.ssh_authorized_keys ?? []), ...fromUsers],
  };
  if (doc.ssh_keys?.ed25519_private !== undefined) keys.hostKey = doc.ssh_keys.ed25519_private;
  if (doc.ssh_keys?.ed25519_public !== undefined) keys.hostPublicKey = doc.ssh_keys.ed25519_public;
  return keys;
}
