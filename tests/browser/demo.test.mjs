// The demo in a real browser (headless Chromium, a phone-sized screen), once per locale and
// in three browsers: WeChat's own on Android (a silent login, a profile login, a form_post
// login, OpenID Connect and a refused consent, all with the Official Account), plain Chrome
// outside WeChat (QR login with the Website App, scope=auto and OpenID Connect reaching the
// QR page, a refused scan), and WeChat 8.0.50 on an iPhone (scope=auto reaching the Official
// Account's consent sheet), asserting what the user sees. Every page is screenshotted into
// .ci/artifacts/screenshots/<locale>/.
// Run with `node --test tests/browser/` (scripts/test does) after scripts/browser.sh.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { findBrowser, historyUrls, launch, phoneContext, settle, startGateway, verifyToken, watch } from "./support.mjs";

/**
 * Per locale: the simulated WeChat user to log in as, the `<html lang>` each kind of page
 * must have, and the texts to look for. Every page follows Accept-Language: the demo's
 * pages and the gateway's own speak Simplified Chinese to zh-CN; the simulated WeChat's
 * consent page is Chinese for everyone, as WeChat's is.
 */
const LOCALES = [
  {
    locale: "zh-CN",
    user: "张小龙",
    lang: { demo: "zh-CN", wechat: "zh-CN", gateway: "zh-CN" },
    text: { verified: /令牌校验通过/, noToken: /没有收到令牌/, idTokenVerified: /ID Token 校验通过/ },
  },
  {
    locale: "en",
    user: "Alice Li",
    lang: { demo: "en", wechat: "zh-CN", gateway: "en" },
    text: { verified: /Token verified/, noToken: /No token came back/, idTokenVerified: /ID token verified/ },
  },
];

/** The landing page's buttons, by where they lead (the same in every language). */
const BUTTON = {
  silent: 'a[href*="scope=snsapi_base"]',
  profile: 'a[href*="scope=snsapi_userinfo"]:not([href*="response_mode"])',
  formPost: 'a[href*="scope=snsapi_userinfo"][href*="response_mode=form_post"]',
  qr: 'a[href*="scope=snsapi_login"][href*="app=web"]',
  auto: 'a[href*="scope=auto"][href*="auto_scope=snsapi_userinfo"]',
  oidcProfile: 'a[href="/demo/oidc/start?profile=1"]',
};

/** The demo's two WeChat apps (local/src/demo.rs): the Official Account and its QR app. */
const APP_ID = { mp: "wxd3m0000000000000", web: "wxd3m0000000000web" };

/** The simulated WeChat's pages: the Official Account's consent sheet, the QR page. */
const CONSENT_PAGE = /\/wechat\/connect\/oauth2\/authorize\?/;
const QR_PAGE = /\/wechat\/connect\/qrconnect\?/;

/**
 * Clicks `button` on the landing page and waits for whichever simulated WeChat page comes
 * next, then asserts it is `expected` (CONSENT_PAGE or QR_PAGE): a wrong turn fails at
 * once, naming the page reached.
 */
async function toWeChat(page, button, expected) {
  await Promise.all([page.waitForURL(/\/wechat\/connect\/(oauth2\/authorize|qrconnect)\?/), page.click(button)]);
  assert.match(page.url(), expected, "the simulated WeChat page for this browser");
}

const found = await findBrowser();

/** The rows of the result page's tables: its "Parameters" table and its "claim" table. */
async function resultTables(page) {
  return page.$$eval("table", (tables) =>
    tables.map((table) =>
      Object.fromEntries(
        [...table.querySelectorAll("tr")]
          .map((row) => [row.querySelector("th")?.textContent, row.querySelector("td")?.textContent])
          .filter(([, value]) => value !== undefined),
      ),
    ),
  );
}

/**
 * Choosing the simulated WeChat user on the landing page: every browser (context) starts
 * with it, its cookie being per browser. `prefix` keeps the screenshots apart.
 */
function chooseUser(prefix = "") {
  return {
    name: "choose the WeChat user on the landing page",
    async run({ page, gateway, l, step }) {
      await page.goto(`${gateway.baseUrl}/`);
      await step(`${prefix}landing`, l.lang.demo);
      await page.fill("#name", l.user);
      await Promise.all([page.waitForURL(`${gateway.baseUrl}/`), page.click('form button[type="submit"]')]);
      assert.equal(await page.inputValue("#name"), l.user, "the landing page remembers the user");
      await step(`${prefix}landing-user-chosen`, l.lang.demo);
    },
  };
}

/**
 * The simulated QR page (`/connect/qrconnect`) a login outside WeChat reaches: the demo's
 * Website App, `snsapi_login`, the QR callback, a QR code drawn, the user known; checked
 * and screenshotted as `step`.
 */
async function atQrPage({ page, gateway, l, step }, name) {
  const at = new URL(page.url());
  assert.equal(at.searchParams.get("appid"), APP_ID.web, "the Website App's QR login");
  assert.equal(at.searchParams.get("scope"), "snsapi_login");
  assert.equal(at.searchParams.get("redirect_uri"), `${gateway.baseUrl}/getQrUserInfo`);
  assert.equal(at.hash, "#wechat_redirect");
  assert.equal(await page.locator(".qrcode svg").count(), 1, "a QR code is shown");
  assert.equal(await page.inputValue('input[name="sim_user"]'), l.user, "the QR page knows the user");
  await step(name, l.lang.wechat);
}

/**
 * The steps a user takes through the demo in WeChat's browser, in order, each ending on a
 * page that is checked and screenshotted. A flow gets `ctx` (page, gateway, locale settings,
 * what earlier flows learnt, `ctx.seen` shared by the locale's browsers) and adds to it.
 */
const FLOWS = [
  chooseUser(),
  {
    name: "silent login (snsapi_base) shows the openid and a verified token",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await Promise.all([page.waitForURL(/\/demo\/result\?/), page.click(BUTTON.silent)]);
      await step("silent-result", l.lang.demo);
      const result = await readResult(ctx, "snsapi_base", APP_ID.mp);
      ctx.openid = result.openid;
      ctx.seen.mpOpenid = result.openid;
    },
  },
  {
    name: "profile login (snsapi_userinfo) through the consent page shows the profile",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await Promise.all([page.waitForURL(/\/wechat\/connect\/oauth2\/authorize\?/), page.click(BUTTON.profile)]);
      assert.equal(await page.inputValue('input[name="sim_user"]'), l.user, "the consent page knows the user");
      await step("profile-consent", l.lang.wechat);
      await Promise.all([page.waitForURL(/\/demo\/result\?/), page.click('button[value="allow"]')]);
      await step("profile-result", l.lang.demo);
      const result = await readResult(ctx, "snsapi_userinfo", APP_ID.mp);
      assert.equal(result.openid, ctx.openid, "one user, one openid for the app, whatever the scope");
      assert.equal(result.params.nickname, l.user, "the nickname is shown");
      assert.equal(result.claims.nickname, l.user, "the token carries the nickname");
      assert.ok(result.params.unionid, "a unionid (the demo's account is bound to an Open Platform account)");
      assert.equal(result.claims.unionid, result.params.unionid);
      ctx.seen.unionid = result.params.unionid;
    },
  },
  {
    name: "form_post login: the result arrives in a POST, never in a URL",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      // Earlier logins' query results are in this tab's history already: only this one counts.
      const earlier = (await historyUrls(page)).length;
      await page.goto(`${gateway.baseUrl}/`);
      await Promise.all([page.waitForURL(/\/wechat\/connect\/oauth2\/authorize\?/), page.click(BUTTON.formPost)]);
      await step("form-post-consent", l.lang.wechat);
      const posted = page.waitForRequest((r) => r.method() === "POST" && r.url() === `${gateway.baseUrl}/demo/result`);
      await Promise.all([
        page.waitForURL(`${gateway.baseUrl}/demo/result`),
        page.click('button[value="allow"]'),
      ]);
      assert.match((await posted).postData(), /(^|&)token=/, "the token came in the POST body");
      await step("form-post-result", l.lang.demo);
      const result = await readResult(ctx, "snsapi_userinfo", APP_ID.mp);
      assert.equal(result.openid, ctx.openid);
      assert.equal(result.params.nickname, l.user);
      for (const url of (await historyUrls(page)).slice(earlier)) {
        assert.doesNotMatch(url, /[?&#](token|openid)=/, `no result in the history: ${url}`);
      }
    },
  },
  {
    name: "Log in with OIDC: the demo's relying party shows ID token claims verified against the JWKS",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await toWeChat(page, BUTTON.oidcProfile, CONSENT_PAGE);
      assert.equal(new URL(page.url()).searchParams.get("appid"), APP_ID.mp, "inside WeChat: the Official Account");
      await step("oidc-consent", l.lang.wechat);
      await Promise.all([page.waitForURL(/\/demo\/oidc\/callback\?/), page.click('button[value="allow"]')]);
      await step("oidc-result", l.lang.demo);
      assert.match(await page.textContent("p.ok"), l.text.idTokenVerified);
      const [claims, userinfo] = await resultTables(page);
      assert.equal(claims.sub, ctx.openid, "the ID token's subject is the user's openid");
      assert.equal(claims.aud, "wxauth-demo");
      assert.equal(claims.name, l.user, "with profile: the nickname as name");
      assert.equal(userinfo.sub, ctx.openid);
    },
  },
  {
    name: "declining at the consent page shows access_denied and no token",
    async run({ page, gateway, l, step }) {
      await page.goto(`${gateway.baseUrl}/`);
      await Promise.all([page.waitForURL(/\/wechat\/connect\/oauth2\/authorize\?/), page.click(BUTTON.profile)]);
      await step("declined-consent", l.lang.wechat);
      await Promise.all([page.waitForURL(/\/demo\/result\?/), page.click('button[value="deny"]')]);
      await step("declined-result", l.lang.demo);
      const shown = await page.textContent("p.bad");
      assert.match(shown, /access_denied/, "the error is shown");
      const [params] = await resultTables(page);
      assert.equal(params.error, "access_denied");
      assert.ok(params.error_description, "with a description");
      assert.equal(params.token, undefined);
      assert.equal(params.openid, undefined);
      assert.match(await page.textContent("body"), l.text.noToken);
      assert.equal(await page.locator("p.ok").count(), 0, "nothing claims success");
    },
  },
];

/**
 * Plain Chrome, outside WeChat: the Official Account cannot log in here, the demo's Website
 * App can, by QR code (the simulated QR page's button stands in for the phone's scan).
 */
const FLOWS_OUTSIDE_WECHAT = [
  chooseUser("chrome-"),
  {
    name: "Log in by QR code (snsapi_login): the QR page, a scan, the Website App's openid and unionid",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await toWeChat(page, BUTTON.qr, QR_PAGE);
      await atQrPage(ctx, "qr-page");
      await Promise.all([page.waitForURL(/\/demo\/result\?/), page.click('button[value="allow"]')]);
      await step("qr-result", l.lang.demo);
      const result = await readResult(ctx, "snsapi_login", APP_ID.web);
      assert.ok(result.params.unionid, "a unionid: the Website App is bound to the same Open Platform account");
      assert.equal(result.claims.unionid, result.params.unionid, "the token carries the unionid");
      const [, shownClaims] = await resultTables(page);
      assert.equal(shownClaims.unionid, result.params.unionid, "the page shows the unionid");
      assert.equal(result.params.nickname, l.user, "a QR login reads the profile");
      if (ctx.seen.mpOpenid) {
        assert.notEqual(result.openid, ctx.seen.mpOpenid, "another app, another openid");
      }
      if (ctx.seen.unionid) {
        assert.equal(result.params.unionid, ctx.seen.unionid, "one person, one unionid for both apps");
      }
      ctx.seen.webOpenid = result.openid;
    },
  },
  {
    name: "scope=auto outside WeChat: the QR page of the Official Account's qr_app",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await toWeChat(page, BUTTON.auto, QR_PAGE);
      await atQrPage(ctx, "auto-qr-page");
      await Promise.all([page.waitForURL(/\/demo\/result\?/), page.click('button[value="allow"]')]);
      await step("auto-qr-result", l.lang.demo);
      const result = await readResult(ctx, "snsapi_login", APP_ID.web);
      assert.equal(result.openid, ctx.seen.webOpenid, "the same Website App openid as by the QR button");
    },
  },
  {
    name: "Log in with OIDC outside WeChat: by QR code, the ID token's subject is the Website App's openid",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await toWeChat(page, BUTTON.oidcProfile, QR_PAGE);
      await atQrPage(ctx, "oidc-qr-page");
      await Promise.all([page.waitForURL(/\/demo\/oidc\/callback\?/), page.click('button[value="allow"]')]);
      await step("oidc-qr-result", l.lang.demo);
      assert.match(await page.textContent("p.ok"), l.text.idTokenVerified);
      const [claims, userinfo] = await resultTables(page);
      assert.equal(claims.sub, ctx.seen.webOpenid, "the subject is the Website App's openid");
      assert.equal(claims.aud, "wxauth-demo");
      assert.equal(claims.name, l.user, "asked for the profile: the nickname as name");
      if (ctx.seen.unionid) assert.equal(claims.unionid, ctx.seen.unionid);
      assert.equal(userinfo.sub, ctx.seen.webOpenid);
    },
  },
  {
    name: "refusing on the QR page shows access_denied and no token",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await toWeChat(page, BUTTON.qr, QR_PAGE);
      await atQrPage(ctx, "qr-declined-page");
      await Promise.all([page.waitForURL(/\/demo\/result\?/), page.click('button[value="deny"]')]);
      await step("qr-declined-result", l.lang.demo);
      const [params] = await resultTables(page);
      assert.equal(params.error, "access_denied");
      assert.equal(params.token, undefined);
      assert.equal(params.openid, undefined);
      assert.match(await page.textContent("body"), l.text.noToken);
      assert.equal(await page.locator("p.ok").count(), 0, "nothing claims success");
    },
  },
];

/** WeChat 8.0.50 on an iPhone: scope=auto stays with the Official Account, no QR code. */
const FLOWS_AUTO_IN_WECHAT = [
  chooseUser("iphone-"),
  {
    name: "scope=auto inside WeChat: the Official Account's consent sheet and its openid",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await toWeChat(page, BUTTON.auto, CONSENT_PAGE);
      const at = new URL(page.url());
      assert.equal(at.searchParams.get("appid"), APP_ID.mp, "the Official Account");
      assert.equal(at.searchParams.get("scope"), "snsapi_userinfo", "auto_scope inside WeChat");
      assert.equal(at.searchParams.get("redirect_uri"), `${gateway.baseUrl}/getWxUserInfo`);
      assert.equal(await page.inputValue('input[name="sim_user"]'), l.user, "the consent sheet knows the user");
      await step("auto-consent", l.lang.wechat);
      await Promise.all([page.waitForURL(/\/demo\/result\?/), page.click('button[value="allow"]')]);
      await step("auto-consent-result", l.lang.demo);
      const result = await readResult(ctx, "snsapi_userinfo", APP_ID.mp);
      assert.equal(result.params.nickname, l.user);
      if (ctx.seen.mpOpenid) assert.equal(result.openid, ctx.seen.mpOpenid, "the Official Account's openid");
      if (ctx.seen.unionid) assert.equal(result.params.unionid, ctx.seen.unionid);
    },
  },
];

/** The browsers each locale is walked in, in order, each a fresh context of its own. */
const BROWSERS = [
  { name: "in WeChat's browser (Android)", agent: "wechatAndroid", flows: FLOWS },
  { name: "in Chrome, outside WeChat", agent: "chromium", flows: FLOWS_OUTSIDE_WECHAT },
  { name: "in WeChat 8.0.50 (iPhone)", agent: "wechatIphone", flows: FLOWS_AUTO_IN_WECHAT },
];

/**
 * What the result page shows after a successful login: "Signed in as openid …", the token
 * verified by the page (for its own origin), the claims; the token is checked here too,
 * down to the AppID it names.
 */
async function readResult({ page, gateway, l }, scope, appid) {
  const [signedIn, verified] = await page.locator("p.ok").allTextContents();
  assert.equal(await page.locator("p.bad").count(), 0, `no error shown: ${await page.textContent("body")}`);
  const openid = await page.textContent("p.ok code");
  assert.ok(openid && signedIn.includes(openid), `the openid is shown: ${signedIn}`);
  assert.match(verified, l.text.verified);
  const [params, shownClaims] = await resultTables(page);
  assert.equal(params.openid, openid);
  assert.equal(shownClaims.sub, openid, "the verified token's subject is the openid shown");
  assert.equal(shownClaims.scope, scope);
  const claims = verifyToken(params.token, gateway.signingKey, { audience: gateway.baseUrl, issuer: gateway.baseUrl });
  assert.equal(claims.sub, openid);
  assert.equal(claims.scope, scope);
  assert.equal(claims.appid, appid, "the token names the app the openid belongs to");
  return { openid, params, claims };
}

describe("the demo in a browser", { skip: found.skip }, () => {
  let gateway;
  let browser;
  before(async () => {
    gateway = await startGateway();
    browser = await launch(found.chromium);
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  for (const l of LOCALES) {
    describe(l.locale, () => {
      // What one browser learnt about the user that another's login must agree with.
      const seen = {};
      for (const b of BROWSERS) {
        describe(b.name, () => {
          const ctx = { l, seen };
          before(async () => {
            ctx.context = await phoneContext(browser, l.locale, { agent: b.agent });
            ctx.page = await ctx.context.newPage();
            ctx.gateway = gateway;
            ctx.watcher = watch(ctx.page);
            ctx.step = (step, lang) => settle(ctx.page, { locale: l.locale, step, lang });
            // The locale reaches the server as Accept-Language.
            const sent = ctx.page.waitForRequest(`${gateway.baseUrl}/`);
            await ctx.page.goto(`${gateway.baseUrl}/`);
            assert.match((await sent).headers()["accept-language"], new RegExp(`^${l.locale}\\b`));
          });
          after(async () => {
            await ctx.context?.close();
          });
          for (const flow of b.flows) {
            it(flow.name, async () => {
              await flow.run(ctx);
              ctx.watcher.check();
            });
          }
        });
      }
    });
  }
});
