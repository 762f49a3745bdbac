// A real OpenID Connect provider for the browser tests: the npm package
// oidc-provider, with its development sign-in pages (any user name, any
// password). Tillit is configured with it as Boxholm's identity provider.
//
// Usage: node idp.mjs PORT TILLIT_BASE_URL
//
// For the forged-token tests the provider can be told, through
// GET /__forge?mode=MODE, to tamper with the ID token of the next token
// response only: re-signed with a wrong issuer, a wrong audience, an
// expired lifetime or another nonce; signed by a key outside its published
// key set; signed with HS256 using the client secret; or not signed at all
// (alg "none"). Everything else is the provider's own doing.

import Provider from "oidc-provider";
import * as jose from "jose";

const [port, tillit] = process.argv.slice(2);
if (!port || !tillit) {
  console.error("usage: node idp.mjs PORT TILLIT_BASE_URL");
  process.exit(2);
}
const issuer = `http://localhost:${port}`;
const CLIENT_ID = "tillit-boxholm";
const CLIENT_SECRET = "test-secret-for-boxholm-0123456789abcdef";

const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: "idp-key-1", alg: "RS256", use: "sig" };
const outsider = (await jose.generateKeyPair("RS256", { extractable: true })).privateKey;

// Accounts: the claims include an organisation the person might like to
// choose; Tillit must ignore it.
const accounts = {
  sara: { name: "Sara Ssonsdotter", preferred_username: "sara", org: "kinda", tillit_org: "kinda" },
  mallory: { name: `Mallory <script>alert("xss")</script>`, preferred_username: "mallory", org: "itsam" },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [`${tillit}/login/sso/callback`],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  claims: { openid: ["sub"], profile: ["name", "preferred_username", "org", "tillit_org"] },
  conformIdTokenClaims: false,
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(accounts[id] || { name: `Testperson ${id}` }) }),
  }),
  cookies: { keys: ["idp-cookie-key-for-tests-only"] },
  features: { devInteractions: { enabled: true } },
  renderError: async (ctx, out) => {
    ctx.type = "html";
    ctx.body = `<!DOCTYPE html><title>IdP error</title><p>${out.error}</p>`;
  },
});

let forge = null;
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");

async function tamper(idToken, mode) {
  const payload = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims, key = privateKey, kid = jwk.kid) =>
    new jose.SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(key);
  switch (mode) {
    case "wrong_issuer": return sign({ ...payload, iss: `${issuer}/someone-else` });
    case "wrong_audience": return sign({ ...payload, aud: "another-client" });
    case "expired": return sign({ ...payload, iat: now - 7200, exp: now - 3600 });
    case "nonce_mismatch": return sign({ ...payload, nonce: "a-nonce-from-another-sign-in" });
    case "wrong_key": return sign(payload, outsider);
    case "hs256": return new jose.SignJWT(payload)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode(CLIENT_SECRET));
    case "alg_none": return `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
    default: throw new Error(`unknown forge mode ${mode}`);
  }
}

provider.use(async (ctx, next) => {
  if (ctx.path === "/__forge") {
    forge = ctx.query.mode || null;
    ctx.body = { forge };
    return;
  }
  await next();
  if (forge && ctx.path === "/token" && ctx.method === "POST" && ctx.body && ctx.body.id_token) {
    const mode = forge;
    forge = null;
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, mode) };
    console.log(`idp: forged the ID token (${mode})`);
  }
});

provider.listen(Number(port), () => console.log(`idp: listening at ${issuer}`));
