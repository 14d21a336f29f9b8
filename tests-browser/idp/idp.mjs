// An OpenID Provider for the consoles' sign-in test (issue 16.2): oidc-provider, a certified
// OpenID Connect implementation, with its development sign-in pages (any password), one public
// client that must use PKCE (S256), and JWT access tokens for the gateway's audience carrying
// the user's name and roles, signed with a key made at start and published at /jwks.
//
// Usage: node idp.mjs PORT CLIENT_ID REDIRECT_URI AUDIENCE USERS_JSON
//   USERS_JSON: {"carol": {"name": "Carol Smith", "roles": ["csr"]}, ...}
// Prints "idp: listening on ISSUER" once it answers; SIGTERM stops it.
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const [port, clientId, redirectUri, audience, usersJson] = process.argv.slice(2);
const users = JSON.parse(usersJson);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: "jwk" }), kid: "test-idp", use: "sig", alg: "RS256" };
const person = (id) => users[id] ?? { name: id, roles: [] };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      token_endpoint_auth_method: "none", // a public client: a page holds no secret
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  pkce: { required: () => true },
  jwks: { keys: [signing] },
  clientBasedCORS: () => true, // the consoles call the token endpoint from their own origin
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, name: person(id).name }),
  }),
  claims: { openid: ["sub"], profile: ["name"] },
  extraTokenClaims: (_ctx, token) =>
    token.kind === "AccessToken" ? { name: person(token.accountId).name, roles: person(token.accountId).roles } : undefined,
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: "openid profile",
        audience,
        accessTokenFormat: "jwt",
        accessTokenTTL: 3600,
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
  ttl: { AccessToken: 3600 },
});
provider.proxy = false;
const server = provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`idp: listening on ${issuer}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
