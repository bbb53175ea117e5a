// The demo in a real browser (headless Chromium, a phone-sized screen), once per locale:
// a silent login, a profile login, a form_post login and a refused consent, asserting what
// the user sees. Every page is screenshotted into .ci/artifacts/screenshots/<locale>/.
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
};

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
 * The steps a user takes through the demo, in order, each ending on a page that is checked
 * and screenshotted. A flow gets `ctx` (page, gateway, locale settings, what earlier flows
 * learnt) and adds to it. A QR-code login would be one more entry here.
 */
const FLOWS = [
  {
    name: "choose the WeChat user on the landing page",
    async run({ page, gateway, l, step }) {
      await page.goto(`${gateway.baseUrl}/`);
      await step("landing", l.lang.demo);
      await page.fill("#name", l.user);
      await Promise.all([page.waitForURL(`${gateway.baseUrl}/`), page.click('form button[type="submit"]')]);
      assert.equal(await page.inputValue("#name"), l.user, "the landing page remembers the user");
      await step("landing-user-chosen", l.lang.demo);
    },
  },
  {
    name: "silent login (snsapi_base) shows the openid and a verified token",
    async run(ctx) {
      const { page, gateway, l, step } = ctx;
      await page.goto(`${gateway.baseUrl}/`);
      await Promise.all([page.waitForURL(/\/demo\/result\?/), page.click(BUTTON.silent)]);
      await step("silent-result", l.lang.demo);
      const result = await readResult(ctx, "snsapi_base");
      ctx.openid = result.openid;
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
      const result = await readResult(ctx, "snsapi_userinfo");
      assert.equal(result.openid, ctx.openid, "one user, one openid for the app, whatever the scope");
      assert.equal(result.params.nickname, l.user, "the nickname is shown");
      assert.equal(result.claims.nickname, l.user, "the token carries the nickname");
      assert.ok(result.params.unionid, "a unionid (the demo's account is bound to an Open Platform account)");
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
      const result = await readResult(ctx, "snsapi_userinfo");
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
      await Promise.all([
        page.waitForURL(/\/wechat\/connect\/oauth2\/authorize\?/),
        page.click('a[href="/demo/oidc/start?profile=1"]'),
      ]);
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
 * What the result page shows after a successful login: "Signed in as openid …", the token
 * verified by the page (for its own origin), the claims; the token is checked here too.
 */
async function readResult({ page, gateway, l }, scope) {
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
      const ctx = { l };
      before(async () => {
        ctx.context = await phoneContext(browser, l.locale);
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
      for (const flow of FLOWS) {
        it(flow.name, async () => {
          await flow.run(ctx);
          ctx.watcher.check();
        });
      }
    });
  }
});
