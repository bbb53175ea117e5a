// What the relying-party tests share: finding the installed openid-client, starting
// wxauth-local in demo mode with the test clients registered, and the user's side of a
// login (the browser and the phone) played with plain fetch, redirects not followed and
// cookies carried by hand.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { startWxauthLocal } from "../node/wxauth-local.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const LIBRARY = join(ROOT, ".cache/oidc-clients/node_modules/openid-client/build/index.js");
const INSTALL = "scripts/oidc-clients.sh";

/**
 * openid-client, or a reason to skip. Without it the tests fail when `CI` is set (naming
 * the install script) and are skipped otherwise.
 */
export async function findOpenidClient() {
  if (!existsSync(LIBRARY)) {
    const reason = `openid-client is not installed in .cache/oidc-clients (run ${INSTALL})`;
    if (process.env.CI) throw new Error(`relying-party tests cannot run: ${reason}`);
    console.log(`skipped: ${reason}`);
    return { skip: reason };
  }
  return { client: await import(pathToFileURL(LIBRARY).href) };
}

/**
 * The clients the tests register through OIDC_CLIENTS (the demo adds its own public one),
 * from clients.json, which the function binaries' run (tests/it/lambda_runtime/)
 * registers too:
 *   - basic: a secret with the characters RFC 6749 §2.3.1 makes Basic form-urlencode first;
 *   - post: a redirect URI with no query: openid-client sends the callback URL less its
 *     whole query as the token request's redirect_uri (docs/oidc-clients.md);
 *   - public: no secret (PKCE).
 */
export const CLIENTS = JSON.parse(readFileSync(join(ROOT, "tests/oidc-clients/clients.json"), "utf8"))[
  "openid-client"
];

/**
 * An already running provider to test instead of starting wxauth-local: its issuer in
 * WXAUTH_OIDC_ISSUER, with CLIENTS registered (tests/it/lambda_runtime/ runs the function
 * binaries under the runtime emulator so). Only wxauth-local has the demo's own client.
 */
export const EXTERNAL_ISSUER = process.env.WXAUTH_OIDC_ISSUER || undefined;

/**
 * wxauth-local in demo mode on a free port with CLIENTS registered (or the provider at
 * WXAUTH_OIDC_ISSUER). Returns its issuer (the base URL), its stderr so far and `stop()`.
 */
export async function startProvider() {
  if (EXTERNAL_ISSUER) {
    return { issuer: EXTERNAL_ISSUER.replace(/\/$/, ""), stderr: () => "", stop: async () => {} };
  }
  const local = await startWxauthLocal({ OIDC_CLIENTS: JSON.stringify(Object.values(CLIENTS)) });
  return { issuer: local.baseUrl, stderr: local.stderr, stop: local.stop };
}

/** A GET that does not follow redirects; `cookies` is a `Cookie` header value or "". */
async function get(url, cookies = "") {
  const headers = cookies ? { cookie: cookies } : {};
  return fetch(url, { redirect: "manual", headers });
}

function location(response, step) {
  if (response.status !== 302) throw new Error(`${step}: expected a 302, got ${response.status}`);
  return response.headers.get("location");
}

/**
 * The user's side of a login, from the relying party's authorization URL to where the
 * provider sends the user back (the relying party's redirect URI with code or error,
 * state and iss), as a browser and the WeChat app would do it:
 *   1. the provider's /oauth2/authorize: a 302 to WeChat and a cookie binding this browser
 *      to the login;
 *   2. WeChat's authorize page (the simulated WeChat, nested in wxauth-local or on a port
 *      of its own, knows the user from the `wechat_sim_user` cookie, as in the demo): a
 *      302 back for `snsapi_base`, a consent
 *      page for `snsapi_userinfo`, answered with `allow`;
 *   3. the provider's callback, with the binding cookie: a 302 to the relying party.
 * Returns that last Location as a URL (with `response_mode=form_post`, the POST the
 * provider's page makes, as a `Request`).
 */
export async function userLogsIn(authorizationUrl, { user, allow = true }) {
  const start = await get(authorizationUrl);
  const wechatUrl = location(start, "authorize").split("#")[0];
  // name=value of each cookie the provider set (only its callback path reads them).
  const binding = start.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  if (!binding) throw new Error("authorize: no browser-binding cookie");
  const userCookie = `wechat_sim_user=${encodeURIComponent(user)}`;
  let wechat = await get(wechatUrl, userCookie);
  if (wechat.status === 200) {
    // The consent sheet: submit the user's answer as its buttons do.
    const [page, query] = wechatUrl.split("?");
    wechat = await get(`${page}/confirm?${query}&decision=${allow ? "allow" : "deny"}`, userCookie);
  }
  const callbackUrl = location(wechat, "WeChat");
  const callback = await get(callbackUrl, binding);
  if (callback.status === 200 && callback.headers.get("content-type")?.startsWith("text/html")) {
    return formPost(await callback.text());
  }
  return new URL(location(callback, "callback"));
}

/**
 * `response_mode=form_post`: the provider's page POSTs the response to the redirect URI by
 * script. Returns that POST as a `Request`, as the relying party's server receives it.
 */
function formPost(page) {
  const unescape = (text) =>
    text.replace(/&(amp|lt|gt|quot|#x27);/g, (_, e) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#x27": "'" })[e]);
  const action = page.match(/<form method="post" action="([^"]*)">/)?.[1];
  if (!action) throw new Error(`callback: neither a redirect nor a form_post page: ${page.slice(0, 200)}`);
  const body = new URLSearchParams();
  for (const [, name, value] of page.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    body.append(unescape(name), unescape(value));
  }
  return new Request(unescape(action), { method: "POST", body });
}
