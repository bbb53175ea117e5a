// wxauth's browser helper: one ES module, no build step, no dependencies.
//
//   import { loginUrl, takeResult } from "./wxauth.mjs";
//   takeResult((result) => { ... });   // on the return page, before a hash router starts
//   location.href = loginUrl("https://login.example.com", { scope: "snsapi_base" });
//
// takeResult reads the result the gateway put in the query (response_mode=query) or the
// fragment (response_mode=fragment), removes those parameters from the address bar and from
// the history entry (history.replaceState: Back and Forward never show the token), and hands
// them to the callback. The openid it gives is a hint for the page; only the token, checked
// by your backend, proves who logged in (docs/reference.md#the-token).
//
// response_mode=form_post is not read here: the gateway POSTs the result to the return URL,
// and a page's script cannot see the body of the request that loaded it. form_post is for a
// return URL your backend answers (docs/browser.md).

/// Every name the gateway may add to the return URL (docs/reference.md, "Callbacks").
export const RESULT_PARAMS = Object.freeze([
  "openid", "unionid", "is_snapshotuser", "token",
  "nickname", "sex", "province", "city", "country", "headimgurl",
  "error", "error_description", "wx_errcode",
]);

const NUMBERS = new Set(["sex", "is_snapshotuser", "wx_errcode"]);

/**
 * The gateway's /auth URL that starts a login and comes back to `returnUrl`.
 * @param {string} gateway the gateway's base URL, e.g. "https://login.example.com"
 * @param {{scope?: "snsapi_base"|"snsapi_userinfo", returnUrl?: string,
 *          responseMode?: "query"|"fragment"|"form_post"}} [options]
 */
export function loginUrl(gateway, { scope = "snsapi_base", returnUrl, responseMode } = {}) {
  const url = new URL("auth", gateway.endsWith("/") ? gateway : `${gateway}/`);
  url.searchParams.set("url", returnUrl ?? globalThis.location.href);
  url.searchParams.set("scope", scope);
  if (responseMode) url.searchParams.set("response_mode", responseMode);
  return url.href;
}

/**
 * Reads the login result from this page's URL, removes it from the URL and the current
 * history entry, and calls `onResult` with it. Returns the result, or null when the URL
 * holds none (then `onResult` is not called and the URL is left alone, unless it held
 * result names without a token or an error: those are removed too, as nobody should
 * trust them).
 *
 * A result is `{ openid, token, unionid?, nickname?, sex?, province?, city?,
 * country?, headimgurl?, is_snapshotuser?, source }` or `{ error, error_description?,
 * wx_errcode?, source }`; `sex`, `is_snapshotuser` and `wx_errcode` are numbers, and
 * `source` is "query" or "fragment".
 * @param {(result: object) => void} [onResult]
 * @param {{location?: Location, history?: History}} [env] for tests
 */
export function takeResult(onResult, { location = globalThis.location, history = globalThis.history } = {}) {
  const href = location.href;
  const hashAt = href.indexOf("#");
  const beforeHash = hashAt < 0 ? href : href.slice(0, hashAt);
  const fragment = hashAt < 0 ? null : href.slice(hashAt + 1);
  const queryAt = beforeHash.indexOf("?");
  const base = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  const query = queryAt < 0 ? "" : beforeHash.slice(queryAt + 1);
  const { route, params: fragmentQuery } = splitFragment(fragment ?? "");

  const fromQuery = pick(query);
  const fromFragment = fragmentQuery === null ? null : pick(fragmentQuery);
  if (!fromQuery && !fromFragment) return null;

  // Only the result's names go; everything else stays byte for byte.
  const restQuery = strip(query);
  const restFragmentQuery = fragmentQuery === null ? "" : strip(fragmentQuery);
  let restFragment = route + (restFragmentQuery ? (route ? "?" : "") + restFragmentQuery : "");
  // WeChat's authorize URL ends in #wechat_redirect, and a browser keeps a fragment across
  // redirects whose Location has none: a return URL without a fragment arrives with it.
  if (restFragment === "wechat_redirect") restFragment = "";
  const clean = base + (restQuery ? `?${restQuery}` : "") + (restFragment ? `#${restFragment}` : "");
  history.replaceState(history.state, "", clean);

  const [found, source] = fromQuery ? [fromQuery, "query"] : [fromFragment, "fragment"];
  const result = build(found);
  if (!result) return null;
  result.source = source;
  if (onResult) onResult(result);
  return result;
}

/** `query` without the pairs whose (decoded) name is a result name. */
function strip(query) {
  return query
    .split("&")
    .filter((pair) => pair && !RESULT_PARAMS.includes(new URLSearchParams(pair).keys().next().value))
    .join("&");
}

/** The result names present in `query` (first value of each), or null when none is. */
function pick(query) {
  const params = new URLSearchParams(query);
  const found = {};
  let any = false;
  for (const name of RESULT_PARAMS) {
    if (params.has(name)) {
      found[name] = params.get(name);
      any = true;
    }
  }
  return any ? found : null;
}

/** A result the gateway could have sent: an error, or a token (with its openid). */
function build(found) {
  const result = {};
  if (found.error !== undefined) {
    for (const name of ["error", "error_description", "wx_errcode"]) {
      if (found[name] !== undefined) result[name] = value(name, found[name]);
    }
    return result;
  }
  if (found.token === undefined) return null;
  for (const [name, raw] of Object.entries(found)) {
    if (!name.startsWith("error") && name !== "wx_errcode") result[name] = value(name, raw);
  }
  return result;
}

function value(name, raw) {
  return NUMBERS.has(name) && /^-?\d+$/.test(raw) ? Number(raw) : raw;
}

/**
 * A fragment as the gateway reads it (shared/src/redirect/result_url.rs): "/home?x=1" is the route
 * "/home" with parameters "x=1"; "x=1&y=2" is parameters only; "/home" or "section" has none.
 */
function splitFragment(fragment) {
  const at = fragment.indexOf("?");
  if (at >= 0) return { route: fragment.slice(0, at), params: fragment.slice(at + 1) };
  if (fragment.includes("=") && !fragment.startsWith("/")) return { route: "", params: fragment };
  return { route: fragment, params: null };
}
