// wxauth as an OpenID Provider, seen by a standard relying-party library: Node's
// openid-client (panva's, docs/oidc-clients.md) does the whole relying-party side —
// discovery, the authorization URL with PKCE (S256), state and nonce, the callback
// (state, iss, the code exchange, the ID token's signature against the JWKS, iss, aud,
// exp, iat, nonce) and userinfo — against wxauth-local in demo mode, or the provider at
// WXAUTH_OIDC_ISSUER (tests/it/lambda_runtime/: the function binaries under the runtime
// emulator). The user's side (browser and WeChat app) is played with plain fetch
// (support.mjs).
// Run with `node --test tests/oidc-clients/` after scripts/oidc-clients.sh.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";

import { CLIENTS, EXTERNAL_ISSUER, findOpenidClient, startProvider, userLogsIn } from "./support.mjs";

const found = await findOpenidClient();

/** The messages along an error's chain of causes (the library wraps its precise reason). */
function reasons(err) {
  const messages = [];
  for (let e = err; e instanceof Error; e = e.cause) messages.push(e.message);
  return messages.join(" <- ");
}
const client = found.client;

/** Why a test of wxauth-local's own demo client does not run against another provider. */
const notLocal = EXTERNAL_ISSUER && "the demo client (wxauth-demo) exists only in wxauth-local";
if (notLocal && !found.skip) console.log(`skipped: ${notLocal}`);

describe("openid-client against wxauth", { skip: found.skip }, () => {
  let provider;
  /** One openid-client Configuration per way of authenticating at the token endpoint. */
  const configs = {};

  before(async () => {
    provider = await startProvider();
    const discover = (id, secret, auth) =>
      client.discovery(new URL(provider.issuer), id, secret, auth, {
        // The issuer is http://127.0.0.1: the library refuses plain HTTP unless told. And
        // it checks ID tokens from the token endpoint against the JWKS only when asked
        // (OpenID Connect Core §3.1.3.7 lets TLS stand in for the signature).
        execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
      });
    configs.basic = await discover(
      CLIENTS.basic.client_id,
      undefined,
      client.ClientSecretBasic(CLIENTS.basic.client_secret),
    );
    configs.post = await discover(
      CLIENTS.post.client_id,
      undefined,
      client.ClientSecretPost(CLIENTS.post.client_secret),
    );
    configs.public = await discover(CLIENTS.public.client_id, undefined, client.None());
    if (!notLocal) configs.demo = await discover("wxauth-demo", undefined, client.None());
  });

  after(async () => {
    await provider?.stop();
  });

  /**
   * The relying party's half of starting a login, with the library's helpers: a fresh PKCE
   * verifier (S256), state and nonce. Then the user logs in; returns the redirect back and
   * what the relying party kept to check it with.
   */
  async function login(config, { redirectUri, scope, user, allow = true, pkce = true, responseMode }) {
    const checks = { expectedState: client.randomState(), expectedNonce: client.randomNonce() };
    const parameters = {
      redirect_uri: redirectUri,
      scope,
      state: checks.expectedState,
      nonce: checks.expectedNonce,
    };
    if (responseMode) parameters.response_mode = responseMode;
    if (pkce) {
      checks.pkceCodeVerifier = client.randomPKCECodeVerifier();
      parameters.code_challenge = await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier);
      parameters.code_challenge_method = "S256";
    }
    const authorizationUrl = client.buildAuthorizationUrl(config, parameters);
    const redirect = await userLogsIn(authorizationUrl, { user, allow });
    return { redirect, checks };
  }

  /** The callback as the relying party handles it, every check the library's. */
  function callback(config, { redirect, checks }) {
    return client.authorizationCodeGrant(config, redirect, { ...checks, idTokenExpected: true });
  }

  /**
   * What the library leaves to the application: openid-client checks iss, aud, exp, iat,
   * nonce and (asked to) the signature, but not at_hash, which the code flow makes optional
   * (OpenID Connect Core §3.1.3.8): checked here, as §3.2.2.9 computes it for RS256.
   */
  function assertClaims(tokens, { clientId, nonce, profile }) {
    const claims = tokens.claims();
    const header = JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url"));
    assert.equal(header.alg, "RS256");
    assert.ok(header.kid, "kid");
    const digest = createHash("sha256").update(tokens.access_token).digest();
    assert.equal(claims.at_hash, digest.subarray(0, 16).toString("base64url"), "at_hash");
    assert.equal(claims.iss, provider.issuer);
    assert.equal(claims.aud, clientId);
    assert.equal(claims.nonce, nonce);
    assert.match(claims.sub, /^\S+$/);
    assert.equal(claims.openid, claims.sub, "sub is the openid (OIDC_SUBJECT unset)");
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(claims.auth_time - now) < 60, `auth_time ${claims.auth_time}`);
    if (profile) {
      assert.equal(claims.name, profile.name);
      assert.ok(claims.unionid, "unionid (the demo's account is bound to the Open Platform)");
    } else {
      assert.equal(claims.name, undefined, "no profile claims without the profile scope");
      assert.equal(claims.picture, undefined);
    }
    return claims;
  }

  it("discovers the provider: issuer, endpoints, PKCE S256, RS256 ID tokens", () => {
    const metadata = configs.basic.serverMetadata();
    assert.equal(metadata.issuer, provider.issuer);
    assert.equal(metadata.authorization_endpoint, `${provider.issuer}/oauth2/authorize`);
    assert.equal(metadata.token_endpoint, `${provider.issuer}/oauth2/token`);
    assert.equal(metadata.userinfo_endpoint, `${provider.issuer}/oauth2/userinfo`);
    assert.equal(metadata.jwks_uri, `${provider.issuer}/.well-known/jwks.json`);
    assert.ok(configs.basic.serverMetadata().supportsPKCE(), "S256 advertised");
    assert.ok(metadata.id_token_signing_alg_values_supported.includes("RS256"));
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  });

  it("confidential client, client_secret_basic, scope openid: ID token, userinfo", async () => {
    const started = await login(configs.basic, {
      redirectUri: CLIENTS.basic.redirect_uris[0],
      scope: "openid",
      user: "alice",
    });
    assert.equal(started.redirect.searchParams.get("iss"), provider.issuer, "RFC 9207 iss");
    const tokens = await callback(configs.basic, started);
    assert.equal(tokens.token_type.toLowerCase(), "bearer");
    assert.equal(tokens.scope, "openid");
    assert.ok(tokens.expires_in > 0);
    const claims = assertClaims(tokens, { clientId: "rp-basic", nonce: started.checks.expectedNonce });
    const userinfo = await client.fetchUserInfo(configs.basic, tokens.access_token, claims.sub);
    assert.equal(userinfo.sub, claims.sub);
    assert.equal(userinfo.openid, claims.openid);
    assert.equal(userinfo.name, undefined);
  });

  it("confidential client, client_secret_post, scope openid profile: name and picture", async () => {
    const started = await login(configs.post, {
      redirectUri: CLIENTS.post.redirect_uris[0],
      scope: "openid profile",
      user: "张小龙",
    });
    const tokens = await callback(configs.post, started);
    assert.equal(tokens.scope, "openid profile");
    const claims = assertClaims(tokens, {
      clientId: "rp-post",
      nonce: started.checks.expectedNonce,
      profile: { name: "张小龙" },
    });
    const userinfo = await client.fetchUserInfo(configs.post, tokens.access_token, claims.sub);
    assert.equal(userinfo.sub, claims.sub);
    assert.equal(userinfo.name, "张小龙");
    assert.equal(userinfo.unionid, claims.unionid);
    assert.equal(userinfo.picture, claims.picture);
  });

  it("public client (none + PKCE), both scopes; the same user keeps the same sub", async () => {
    const subs = [];
    for (const scope of ["openid", "openid profile"]) {
      const started = await login(configs.public, {
        redirectUri: CLIENTS.public.redirect_uris[0],
        scope,
        user: "bob",
      });
      const tokens = await callback(configs.public, started);
      const claims = assertClaims(tokens, {
        clientId: "rp-public",
        nonce: started.checks.expectedNonce,
        profile: scope === "openid profile" ? { name: "bob" } : undefined,
      });
      const userinfo = await client.fetchUserInfo(configs.public, tokens.access_token, claims.sub);
      assert.equal(userinfo.sub, claims.sub);
      subs.push(claims.sub);
    }
    assert.equal(subs[0], subs[1]);
  });

  it("the demo's own public client (wxauth-demo) works with a standard library", { skip: notLocal }, async () => {
    const started = await login(configs.demo, {
      redirectUri: `${provider.issuer}/demo/oidc/callback`,
      scope: "openid",
      user: "carol",
    });
    const tokens = await callback(configs.demo, started);
    const claims = assertClaims(tokens, { clientId: "wxauth-demo", nonce: started.checks.expectedNonce });
  });

  it("response_mode=form_post: the library takes the POSTed response", async () => {
    const started = await login(configs.basic, {
      redirectUri: CLIENTS.basic.redirect_uris[0],
      scope: "openid profile",
      user: "Zoë",
      responseMode: "form_post",
    });
    assert.ok(started.redirect instanceof Request, "a form_post page, not a redirect");
    assert.equal(started.redirect.url, CLIENTS.basic.redirect_uris[0]);
    const fields = new URLSearchParams(await started.redirect.clone().text());
    assert.equal(fields.get("iss"), provider.issuer);
    assert.equal(fields.get("state"), started.checks.expectedState);
    const tokens = await callback(configs.basic, started);
    assertClaims(tokens, {
      clientId: "rp-basic",
      nonce: started.checks.expectedNonce,
      profile: { name: "Zoë" },
    });
  });

  it("a replayed code is invalid_grant, and revokes the access token issued from it", async () => {
    const started = await login(configs.basic, {
      redirectUri: CLIENTS.basic.redirect_uris[0],
      scope: "openid profile",
      user: "dave",
    });
    const tokens = await callback(configs.basic, started);
    const sub = tokens.claims().sub;
    await client.fetchUserInfo(configs.basic, tokens.access_token, sub);
    await assert.rejects(callback(configs.basic, started), (err) => {
      assert.ok(err instanceof client.ResponseBodyError, `${err.name}: ${err.message}`);
      assert.equal(err.error, "invalid_grant");
      assert.equal(err.status, 400);
      return true;
    });
    await assert.rejects(client.fetchUserInfo(configs.basic, tokens.access_token, sub), (err) => {
      assert.ok(err instanceof client.WWWAuthenticateChallengeError, `${err.name}: ${err.message}`);
      assert.equal(err.status, 401);
      assert.equal(err.cause[0].scheme, "bearer");
      assert.equal(err.cause[0].parameters.error, "invalid_token");
      return true;
    });
  });

  it("a wrong expected state is refused by the library before the code is spent", async () => {
    const started = await login(configs.public, {
      redirectUri: CLIENTS.public.redirect_uris[0],
      scope: "openid",
      user: "erin",
    });
    const forged = { ...started, checks: { ...started.checks, expectedState: client.randomState() } };
    await assert.rejects(callback(configs.public, forged), (err) => {
      assert.equal(err.code, "OAUTH_INVALID_RESPONSE");
      assert.match(reasons(err), /"state"/);
      return true;
    });
    // The library stopped before the token endpoint: with the right state the code works.
    const tokens = await callback(configs.public, started);
    assert.equal(tokens.claims().nonce, started.checks.expectedNonce);
  });

  it("a wrong expected nonce is refused by the library (the ID token carries the one sent)", async () => {
    const started = await login(configs.post, {
      redirectUri: CLIENTS.post.redirect_uris[0],
      scope: "openid",
      user: "frank",
    });
    const other = { ...started, checks: { ...started.checks, expectedNonce: client.randomNonce() } };
    await assert.rejects(callback(configs.post, other), (err) => {
      assert.equal(err.code, "OAUTH_JWT_CLAIM_COMPARISON_FAILED");
      assert.match(reasons(err), /"nonce" claim/);
      return true;
    });
  });

  it("a wrong PKCE verifier is invalid_grant", async () => {
    const started = await login(configs.public, {
      redirectUri: CLIENTS.public.redirect_uris[0],
      scope: "openid",
      user: "grace",
    });
    const other = { ...started, checks: { ...started.checks, pkceCodeVerifier: client.randomPKCECodeVerifier() } };
    await assert.rejects(callback(configs.public, other), (err) => {
      assert.ok(err instanceof client.ResponseBodyError, `${err.name}: ${err.message}`);
      assert.equal(err.error, "invalid_grant");
      return true;
    });
  });

  it("a wrong client secret is a 401 with a Basic challenge and invalid_client", async () => {
    const wrong = await client.discovery(
      new URL(provider.issuer),
      CLIENTS.basic.client_id,
      undefined,
      client.ClientSecretBasic(`${CLIENTS.basic.client_secret}x`),
      { execute: [client.allowInsecureRequests] },
    );
    const started = await login(wrong, {
      redirectUri: CLIENTS.basic.redirect_uris[0],
      scope: "openid",
      user: "heidi",
    });
    // RFC 6749 §5.2: a client that tried Basic gets a 401 with a Basic challenge, which
    // the library surfaces as such; the body still says invalid_client.
    let refused;
    await assert.rejects(callback(wrong, started), (err) => {
      assert.ok(err instanceof client.WWWAuthenticateChallengeError, `${err.name}: ${err.message}`);
      assert.equal(err.status, 401);
      assert.equal(err.cause[0].scheme, "basic");
      refused = err.response;
      return true;
    });
    assert.equal((await refused.json()).error, "invalid_client");
  });

  it("a user declining consent comes back as access_denied, with state and iss", async () => {
    const started = await login(configs.post, {
      redirectUri: CLIENTS.post.redirect_uris[0],
      scope: "openid profile",
      user: "ivan",
      allow: false,
    });
    assert.equal(started.redirect.searchParams.get("code"), null);
    assert.equal(started.redirect.searchParams.get("iss"), provider.issuer);
    await assert.rejects(callback(configs.post, started), (err) => {
      assert.ok(err instanceof client.AuthorizationResponseError, `${err.name}: ${err.message}`);
      assert.equal(err.error, "access_denied");
      return true;
    });
  });
});
