// An authenticated OpenStack session: one Keystone token (renewed when refused or expiring), the
// catalog's endpoints per region, and requests that carry the token.
import { ProviderError } from "../errors.js";
import { type HttpAnswer, type HttpRequest, requestJson } from "../http.js";
import type { OpenStackCredentials } from "./credentials.js";
import { authenticate, findEndpoint, type KeystoneToken } from "./keystone.js";

/** Renew this long before the token says it expires: a long poll must not start with a dying token. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

export class OpenStackSession {
  readonly creds: OpenStackCredentials;
  private current: Promise<KeystoneToken> | undefined;

  constructor(creds: OpenStackCredentials) {
    this.creds = creds;
  }

  /** The URL of service `type` (compute, image, network) in `region` for the credentials' interface. */
  async endpoint(type: string, region: string | undefined): Promise<string> {
    const { catalog } = await this.token();
    const url = findEndpoint(catalog, type, region, this.creds.interface);
    if (url !== undefined) return url;
    const regions = [...new Set(catalog.flatMap((s) => s.endpoints.map((e) => e.region ?? "")))];
    throw new ProviderError(
      "config",
      `the OpenStack catalog has no ${this.creds.interface} ${type} endpoint in region "${region ?? "(any)"}"`,
      {
        hint: `regions in the catalog: ${regions.filter(Boolean).join(", ") || "none"}; set the target's region (or OS_REGION_NAME)`,
      },
    );
  }

  /** A request to `path` of service `type`; a 401 renews the token once (it may have been revoked). */
  async request(
    type: string,
    region: string | undefined,
    path: string,
    request: HttpRequest = {},
  ): Promise<HttpAnswer> {
    const base = await this.endpoint(type, region);
    const send = async () => {
      const { token } = await this.token();
      return requestJson(`${base}${path}`, {
        ...request,
        headers: { ...request.headers, "x-auth-token": token },
      });
    };
    const answer = await send();
    if (answer.status !== 401) return answer;
    this.current = undefined;
    return send();
  }

  private token(): Promise<KeystoneToken> {
    if (this.current === undefined) {
      const next = authenticate(this.creds).then((token) => {
        const expires = token.expiresAt === undefined ? Number.NaN : Date.parse(token.expiresAt);
        if (!Number.isNaN(expires) && expires - Date.now() < EXPIRY_MARGIN_MS)
          this.current = undefined;
        return token;
      });
      // A failed authentication is not kept: the next call (a retry) authenticates again.
      next.catch(() => {
        if (this.current === next) this.current = undefined;
      });
      this.current = next;
    }
    return this.current;
  }
}
