// Owns the fake Keystone v3: password and application-credential auth, tokens in X-Subject-Token,
// a catalog with compute, image and network endpoints per region. Differs from the real one: no
// domains beyond a name check, no scoping to other projects, tokens never expire.
import { randomBytes } from "node:crypto";

export interface FakeUser {
  username: string;
  password: string;
  project: string;
  domain?: string;
}

export interface FakeAppCredential {
  id: string;
  secret: string;
}

export interface AuthResult {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export class FakeKeystone {
  readonly tokens = new Set<string>();
  /** The next N token requests answer 503 (Keystone behind a restarting proxy). */
  failNext = 0;
  constructor(
    private readonly users: readonly FakeUser[],
    private readonly appCredentials: readonly FakeAppCredential[],
    private readonly endpointOf: (region: string, type: string) => string,
    private readonly regions: readonly string[],
  ) {}

  /** POST /v3/auth/tokens */
  issue(body: unknown): AuthResult {
    if (this.failNext > 0) {
      this.failNext--;
      return {
        status: 503,
        body: {
          error: { code: 503, message: "Service Unavailable", title: "Service Unavailable" },
        },
      };
    }
    if (!this.accepts(body)) return unauthorized();
    const token = `gAAAAA${randomBytes(24).toString("hex")}`;
    this.tokens.add(token);
    const expires = new Date(Date.now() + 3600_000).toISOString();
    return {
      status: 201,
      headers: { "x-subject-token": token },
      body: {
        token: {
          methods: ["password"],
          expires_at: expires,
          issued_at: new Date().toISOString(),
          project: {
            id: "6f70656e737461636b20342065766572",
            name: "demo",
            domain: { id: "default", name: "Default" },
          },
          user: { id: "fake", name: "demo", domain: { id: "default", name: "Default" } },
          catalog: ["compute", "image", "network"].map((type) => ({
            type,
            name: { compute: "nova", image: "glance", network: "neutron" }[type],
            id: randomBytes(16).toString("hex"),
            endpoints: this.regions.map((region) => ({
              id: randomBytes(16).toString("hex"),
              interface: "public",
              region,
              region_id: region,
              url: this.endpointOf(region, type),
            })),
          })),
        },
      },
    };
  }

  private accepts(body: unknown): boolean {
    const identity = (body as { auth?: { identity?: Record<string, unknown> } })?.auth?.identity;
    const methods = (identity?.methods ?? []) as string[];
    if (methods.includes("application_credential")) {
      const cred = identity?.application_credential as { id?: string; secret?: string } | undefined;
      return this.appCredentials.some((c) => c.id === cred?.id && c.secret === cred?.secret);
    }
    const user = (
      identity?.password as {
        user?: { name?: string; password?: string; domain?: { name?: string; id?: string } };
      }
    )?.user;
    const scope = (body as { auth?: { scope?: { project?: { name?: string } } } }).auth?.scope
      ?.project;
    return this.users.some(
      (u) =>
        u.username === user?.name &&
        u.password === user?.password &&
        u.project === scope?.name &&
        (user?.domain?.id === (u.domain ?? "default") ||
          user?.domain?.name === (u.domain ?? "Default")),
    );
  }
}

/** Keystone's answer to a request without valid credentials or token (Nova's too, behind it). */
export function unauthorized(): { status: 401; body: unknown } {
  return {
    status: 401,
    body: {
      error: {
        code: 401,
        message: "The request you have made requires authentication.",
        title: "Unauthorized",
      },
    },
  };
}
