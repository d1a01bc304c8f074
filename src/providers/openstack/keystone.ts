// Keystone v3: a token (X-Subject-Token) for password or application-credential auth, and the catalog.
import { ProviderError } from "../errors.js";
import { type HttpAnswer, requestJson } from "../http.js";
import type { OpenStackCredentials } from "./credentials.js";
import { openStackError } from "./errors.js";

export interface CatalogEndpoint {
  interface: string;
  region?: string;
  region_id?: string;
  url: string;
}

export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

export interface KeystoneToken {
  token: string;
  expiresAt: string | undefined;
  catalog: CatalogService[];
}

/** POST /v3/auth/tokens; a refusal is an auth error naming where the credentials came from. */
export async function authenticate(creds: OpenStackCredentials): Promise<KeystoneToken> {
  const answer = await requestJson(`${identityUrl(creds.authUrl)}/auth/tokens`, {
    method: "POST",
    body: { auth: authBody(creds) },
  });
  if (answer.status === 401) {
    throw new ProviderError(
      "auth",
      `Keystone refused the credentials from ${creds.source} (HTTP 401)`,
      {
        status: answer.status,
      },
    );
  }
  if (answer.status !== 201 && answer.status !== 200) {
    throw openStackError(answer, `authenticating at ${creds.authUrl}`);
  }
  const token = answer.headers.get("x-subject-token");
  const body = answer.json as { token?: { expires_at?: string; catalog?: CatalogService[] } };
  if (token === null || body?.token === undefined) throw keystoneFailure(answer, creds);
  return { token, expiresAt: body.token.expires_at, catalog: body.token.catalog ?? [] };
}

/** The endpoint of `type` for the region and interface, as the openstack CLI picks it. */
export function findEndpoint(
  catalog: readonly CatalogService[],
  type: string,
  region: string | undefined,
  iface: string,
): string | undefined {
  const service = catalog.find((s) => s.type === type);
  const endpoint = service?.endpoints.find(
    (e) =>
      e.interface === iface &&
      (region === undefined || e.region === region || e.region_id === region),
  );
  return endpoint?.url.replace(/\/+$/, "");
}

/** auth_url with or without its version, as users write it: `https://h:5000` or `…/v3`. */
function identityUrl(authUrl: string): string {
  const trimmed = authUrl.replace(/\/+$/, "");
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

function authBody(creds: OpenStackCredentials): Record<string, unknown> {
  if (creds.authType === "v3applicationcredential") {
    const credential =
      creds.applicationCredentialId !== undefined
        ? { id: creds.applicationCredentialId, secret: creds.applicationCredentialSecret }
        : {
            name: creds.applicationCredentialName,
            secret: creds.applicationCredentialSecret,
            user: userOf(creds),
          };
    // An application credential carries its own project: a scope would be refused.
    return {
      identity: { methods: ["application_credential"], application_credential: credential },
    };
  }
  return {
    identity: {
      methods: ["password"],
      password: { user: { ...userOf(creds), password: creds.password } },
    },
    scope: { project: projectOf(creds) },
  };
}

function userOf(creds: OpenStackCredentials): Record<string, unknown> {
  if (creds.userId !== undefined) return { id: creds.userId };
  return { name: creds.username, domain: domainOf(creds.userDomainName, creds.userDomainId) };
}

function projectOf(creds: OpenStackCredentials): Record<string, unknown> {
  if (creds.projectId !== undefined) return { id: creds.projectId };
  return {
    name: creds.projectName,
    domain: domainOf(creds.projectDomainName, creds.projectDomainId),
  };
}

function domainOf(name: string | undefined, id: string | undefined): Record<string, string> {
  return name !== undefined ? { name } : { id: id ?? "default" };
}

function keystoneFailure(answer: HttpAnswer, creds: OpenStackCredentials): ProviderError {
  return new ProviderError("transient", `Keystone at ${creds.authUrl} answered without a token`, {
    status: answer.status,
  });
}
