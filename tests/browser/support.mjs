// What the browser tests share: finding Chromium and the driver, starting wxauth-local in
// demo mode, a phone-sized browser context per locale, the checks every page must pass,
// screenshots, and checking a result token independently of the gateway's own code.

import { createHmac, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { startWxauthLocal } from "../node/wxauth-local.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SCREENSHOTS = join(ROOT, ".ci/artifacts/screenshots");
const DRIVER = join(ROOT, ".cache/browser/node_modules/playwright-core/index.mjs");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const INSTALL = "scripts/browser.sh";

/** A phone: iPhone 12-15 sized viewport. */
export const PHONE = { width: 390, height: 844 };

/**
 * The driver and the browser, or a reason to skip. Without them the tests fail when `CI` is
 * set (naming the install script) and are skipped otherwise.
 */
export async function findBrowser() {
  let reason = null;
  if (!existsSync(CHROMIUM)) {
    reason = `no Chromium at ${CHROMIUM} (run ${INSTALL})`;
  } else if (!existsSync(DRIVER)) {
    reason = `playwright-core is not installed in .cache/browser (run ${INSTALL})`;
  }
  if (reason) {
    if (process.env.CI) throw new Error(`browser tests cannot run: ${reason}`);
    console.log(`skipped: ${reason}`);
    return { skip: reason };
  }
  const { chromium } = await import(pathToFileURL(DRIVER).href);
  return { chromium };
}

/** Debian's Chromium, headless, kept off every network but loopback (see docs/browser.md). */
export function launch(chromium) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright passes --headless and a fresh --user-data-dir itself.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * The browsers a phone user may be in, as the gateway tells them apart (by User-Agent: WeChat's
 * in-app browser names itself `MicroMessenger/<version>`), each for a WeChat language
 * (`zh_CN`, `en`). `scope=auto` and the OpenID Provider log in with the Official Account
 * inside WeChat and by QR code (the Website App) anywhere else.
 */
export const AGENTS = {
  /** WeChat's in-app browser on Android (the default). */
  wechatAndroid: (language) =>
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 " +
    "(KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 XWEB/1300289 " +
    `MMWEBSDK/20241103 MicroMessenger/8.0.55.2780(0x28003737) WeChat/arm64 NetType/WIFI Language/${language}`,
  /** WeChat 8.0.50 on an iPhone. */
  wechatIphone: (language) =>
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " +
    `Mobile/15E148 MicroMessenger/8.0.50(0x1800322f) NetType/WIFI Language/${language}`,
  /** Plain Chrome on Android: not WeChat. */
  chromium: () =>
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) " +
    "Chrome/130.0.6723.103 Mobile Safari/537.36",
};

/**
 * A browser context for one locale: Accept-Language, navigator.language and the agent
 * (a key of AGENTS; WeChat's browser on Android unless told).
 */
export function phoneContext(browser, locale, { agent = "wechatAndroid" } = {}) {
  const wechatLanguage = locale.replace("-", "_");
  return browser.newContext({
    locale,
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: AGENTS[agent](wechatLanguage),
  });
}

/**
 * wxauth-local in demo mode on a free port, allowing `extraOrigins` as return origins too.
 * Returns its base URL, the demo signing key from its banner, and `stop()`.
 */
export async function startGateway({ extraOrigins = [] } = {}) {
  return startWxauthLocal(extraOrigins.length ? { ALLOWED_RETURN_ORIGINS: extraOrigins.join(",") } : {});
}

/** A static server on loopback: `routes` maps a path to [content type, body or () => body]. */
export async function startStatic(routes) {
  const server = createServer((request, response) => {
    const path = new URL(request.url, "http://x").pathname;
    const route = routes[path];
    if (request.method !== "GET" || !route) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const [type, body] = route;
    response
      .writeHead(200, { "content-type": type, "cache-control": "no-store" })
      .end(typeof body === "function" ? body() : body);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise((done) => server.close(done)),
  };
}

export function readText(...path) {
  return readFileSync(join(ROOT, ...path), "utf8");
}

/**
 * Records what must never happen on a page: a console error, an uncaught exception, a
 * request that failed, a response with status 400 or more (the browser's own /favicon.ico
 * included). `check()` throws with all of them.
 */
export function watch(page) {
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught exception on ${page.url()}: ${error.message}`));
  page.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on("response", (response) => {
    if (response.status() >= 400) {
      problems.push(`HTTP ${response.status()} for ${response.request().method()} ${response.url()}`);
    }
  });
  return {
    problems,
    check() {
      if (problems.length) throw new Error(`the browser saw problems:\n  ${problems.join("\n  ")}`);
    },
  };
}

/**
 * What every page must be: no wider than the phone (no sideways scrolling), in the
 * language expected for it, with a favicon. Then a full-page screenshot.
 */
export async function settle(page, { locale, step, lang }) {
  await page.waitForLoadState("load");
  // A page without <link rel="icon"> makes the browser ask for /favicon.ico after the load
  // event, where Playwright does not see it: only a 404's console error shows, maybe after
  // this step is over. Asked here too, so that a missing icon fails the step it is on.
  if (!(await page.$('link[rel~="icon"]'))) {
    const icon = new URL("/favicon.ico", page.url()).href;
    const answer = await page.context().request.get(icon, { failOnStatusCode: false });
    if (!answer.ok() || !answer.headers()["content-type"]?.startsWith("image/")) {
      throw new Error(`${step}: ${icon} answers ${answer.status()} ${answer.headers()["content-type"]}`);
    }
  }
  const seen = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    lang: document.documentElement.lang,
  }));
  const shot = join(SCREENSHOTS, locale, `${step}.png`);
  mkdirSync(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  if (seen.scrollWidth > seen.innerWidth || seen.scrollWidth > PHONE.width) {
    throw new Error(
      `${step}: the page is ${seen.scrollWidth}px wide, wider than the ${seen.innerWidth}px viewport (${page.url()})`,
    );
  }
  if (lang !== undefined && seen.lang !== lang) {
    throw new Error(`${step}: <html lang="${seen.lang}">, expected "${lang}" (${page.url()})`);
  }
}

/** Every URL in the page's session history (Back and Forward), through the DevTools protocol. */
export async function historyUrls(page) {
  const session = await page.context().newCDPSession(page);
  const { entries } = await session.send("Page.getNavigationHistory");
  await session.detach();
  return entries.map((entry) => entry.url);
}

/**
 * A result token checked as a relying party's backend must (docs/reference.md#the-token),
 * with Node's own HMAC: HS256 only, the signature, `aud`, `iss` and `exp`. Returns the claims.
 */
export function verifyToken(token, key, { audience, issuer }) {
  const [header, payload, signature] = token.split(".");
  const decode = (part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  if (decode(header).alg !== "HS256") throw new Error(`token: alg ${decode(header).alg}`);
  const expected = createHmac("sha256", key).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Error("token: bad signature");
  }
  const claims = decode(payload);
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== audience) throw new Error(`token: aud ${claims.aud}, expected ${audience}`);
  if (claims.iss !== issuer) throw new Error(`token: iss ${claims.iss}, expected ${issuer}`);
  if (!(claims.exp > now)) throw new Error(`token: expired at ${claims.exp}`);
  return claims;
}
