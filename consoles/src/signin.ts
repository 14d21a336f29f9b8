// Signing in to the dashboard (issue 16.2), as the gateway says it is done here
// (GET /v1/sign-in): with the identity provider, by OpenID Connect's authorization code flow
// with PKCE (S256; the page is a public client and holds no secret), the access token it gets
// then sent as the bearer token; or, on a development setup, by name (POST /v1/dev/sign-in).
// The token is kept in the tab's session storage until it expires or the person signs out.
import { type Api, byId, refusal, type Schemas, say } from "./api";

export type Me = { token: string; user: string; name: string; roles: string[]; until?: number };
type Provider = Schemas["Provider"];
type Pending = { verifier: string; state: string };
type Discovery = { issuer: string; authorization_endpoint: string; token_endpoint: string };

const KEPT = "support.staff";
const PENDING = "support.sign-in"; // the verifier and state of a sign-in under way

/** Whoever signed in in this tab before, unless the token has expired since. */
export function kept(): Me | null {
  const me: Me | null = JSON.parse(sessionStorage.getItem(KEPT) ?? "null");
  if (me?.until && me.until <= Date.now()) {
    sessionStorage.removeItem(KEPT);
    return null;
  }
  return me;
}

export function forget(): void {
  sessionStorage.removeItem(KEPT);
}

function keep(me: Me): Me {
  sessionStorage.setItem(KEPT, JSON.stringify(me));
  byId("sign-in").hidden = true;
  return me;
}

/** The person signed in: back from the identity provider with a code, or once they sign in
 * on this page (the sign-in section shows the ways the gateway offers). */
export async function signIn(api: Api): Promise<Me> {
  byId("sign-in").hidden = false;
  const problem = byId("sign-in-problem");
  const options = await api.GET("/v1/sign-in");
  if (!options.data) {
    say(problem, options);
    return new Promise<Me>(() => {}); // nothing to sign in with until the page is loaded again
  }
  const { provider, development } = options.data;
  const answer = new URLSearchParams(location.search);
  if (provider && (answer.has("code") || answer.has("error"))) {
    history.replaceState(null, "", location.pathname); // a code is good for one exchange
    try {
      return keep(await exchanged(api, provider, answer));
    } catch (error) {
      problem.textContent = (error as Error).message;
      problem.hidden = false;
    }
  }
  byId("no-sign-in").hidden = Boolean(provider || development);
  return new Promise<Me>((resolve) => {
    if (provider) withProvider(provider);
    if (development) byName(api, (me) => resolve(keep(me)));
  });
}

function withProvider(provider: Provider): void {
  byId("with-provider").hidden = false;
  byId("provider-issuer").textContent = provider.issuer;
  byId("provider-sign-in").addEventListener("click", async () => {
    try {
      const found = await discovered(provider);
      const verifier = randomText(32);
      const state = randomText(16);
      const pending: Pending = { verifier, state };
      sessionStorage.setItem(PENDING, JSON.stringify(pending));
      const authorize = new URL(found.authorization_endpoint);
      authorize.search = new URLSearchParams({
        ...provider.parameters,
        response_type: "code",
        client_id: provider.client_id,
        redirect_uri: back(),
        scope: provider.scope,
        state,
        code_challenge: await challenge(verifier),
        code_challenge_method: "S256",
      }).toString();
      location.assign(authorize.toString());
    } catch (error) {
      const problem = byId("sign-in-problem");
      problem.textContent = (error as Error).message;
      problem.hidden = false;
    }
  });
}

/** The code the provider sent back, exchanged for an access token with the verifier only this
 * tab knows; then who the gateway takes the token for. */
async function exchanged(api: Api, provider: Provider, answer: URLSearchParams): Promise<Me> {
  const pending: Pending | null = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  if (answer.has("error")) {
    const why = answer.get("error_description") ?? answer.get("error");
    throw new Error(`The identity provider did not sign you in: ${why}`);
  }
  if (!pending || answer.get("state") !== pending.state) {
    throw new Error("That sign-in was not started from this page: sign in again.");
  }
  const found = await discovered(provider);
  if (answer.has("iss") && answer.get("iss") !== found.issuer) {
    throw new Error("The answer came from another identity provider: sign in again."); // RFC 9207
  }
  const reply = await fetch(found.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: answer.get("code") ?? "",
      redirect_uri: back(),
      client_id: provider.client_id,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = await reply.json();
  if (!reply.ok || typeof tokens.access_token !== "string") {
    const why = tokens.error_description ?? tokens.error ?? `it answered ${reply.status}`;
    throw new Error(`The identity provider gave no token: ${why}`);
  }
  const token: string = tokens.access_token;
  const who = await api.GET("/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  if (!who.data) throw new Error(refusal(who.error, who.response));
  const seconds = typeof tokens.expires_in === "number" ? tokens.expires_in : 3600;
  return { token, ...who.data, until: Date.now() + seconds * 1000 };
}

async function discovered(provider: Provider): Promise<Discovery> {
  const where = `${provider.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const reply = await fetch(where).catch(() => null);
  if (!reply?.ok) throw new Error(`The identity provider did not answer at ${where}.`);
  return reply.json();
}

function byName(api: Api, signedIn: (me: Me) => void): void {
  const form = byId<HTMLFormElement>("by-name");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const roles = [...form.querySelectorAll<HTMLInputElement>("input[name=roles]:checked")].map(
      (box) => box.value as "csr" | "agent" | "admin",
    );
    const user = byId<HTMLInputElement>("user").value.trim();
    const name = byId<HTMLInputElement>("display-name").value.trim();
    const outcome = await api.POST("/v1/dev/sign-in", { body: { user, name, roles } });
    if (!outcome.data) {
      say(byId("sign-in-problem"), outcome);
      return;
    }
    const until = Date.now() + outcome.data.expires_in * 1000;
    signedIn({ token: outcome.data.token, user, name, roles, until });
  });
}

/** Where the provider sends the person back: this page, as the client is registered. */
function back(): string {
  return `${location.origin}${location.pathname}`;
}

function randomText(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}
