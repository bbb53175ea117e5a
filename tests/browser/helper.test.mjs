// clients/browser/wxauth.mjs in a real browser: a relying party's page on its own origin
// (a static server on loopback) logs in through the demo gateway, and the helper must hand
// the result to its callback and leave no trace of it in the address bar or the history.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  findBrowser, historyUrls, launch, phoneContext, readText, settle, startGateway, startStatic, verifyToken, watch,
} from "./support.mjs";

const found = await findBrowser();
const USER = "王小明";
/** A result name in a URL, as a query or fragment parameter. */
const RESULT_IN_URL = /[?&#](token|openid|nickname|error)=/;

describe("the browser helper (clients/browser/wxauth.mjs)", { skip: found.skip }, () => {
  let app;
  let gateway;
  let browser;
  let context;
  let page;
  let watcher;
  before(async () => {
    // The page's origin must be known before the gateway starts (its allowlist), and the
    // gateway's before the page is served: config.mjs is read on each request.
    const config = { gateway: "" };
    app = await startStatic({
      "/app/": ["text/html; charset=utf-8", readText("tests/browser/helper-page.html")],
      "/wxauth.mjs": ["text/javascript; charset=utf-8", readText("clients/browser/wxauth.mjs")],
      "/config.mjs": ["text/javascript; charset=utf-8", () => `export const gateway = ${JSON.stringify(config.gateway)};\n`],
    });
    gateway = await startGateway({ extraOrigins: [app.origin] });
    config.gateway = gateway.baseUrl;
    browser = await launch(found.chromium);
    context = await phoneContext(browser, "zh-CN");
    page = await context.newPage();
    watcher = watch(page);
    // Who is holding the phone, chosen as on the demo's landing page.
    await page.goto(`${gateway.baseUrl}/demo/user?name=${encodeURIComponent(USER)}`);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await gateway?.stop();
    await app?.stop();
  });

  /** Opens the page at `start`, presses `button`, lets `consent` answer WeChat if asked. */
  async function logIn(start, button, consent) {
    await page.goto(`${app.origin}${start}`);
    await page.waitForFunction(() => window.ready === true);
    const earlier = (await historyUrls(page)).length;
    const navigated = [];
    const onNavigated = (frame) => frame === page.mainFrame() && navigated.push(frame.url());
    page.on("framenavigated", onNavigated);
    if (consent) {
      await Promise.all([page.waitForURL(/\/wechat\/connect\/oauth2\/authorize\?/), page.click(button)]);
      await Promise.all([page.waitForURL((url) => url.origin === app.origin), page.click(`button[value="${consent}"]`)]);
    } else {
      await Promise.all([page.waitForURL((url) => url.origin === app.origin), page.click(button)]);
    }
    await page.waitForFunction(() => window.ready === true && window.seen.length > 0);
    page.off("framenavigated", onNavigated);
    const seen = await page.evaluate(() => window.seen);
    assert.equal(seen.length, 1, "the callback ran once");
    // The address the page was loaded at, before the helper cleaned it.
    const arrived = navigated.find((url) => url.startsWith(`${app.origin}/app/`) && url !== `${app.origin}${start}`);
    return { ...seen[0], arrived, history: (await historyUrls(page)).slice(earlier) };
  }

  /** Nothing of the result in the address bar or the history, before or after Back/Forward. */
  async function assertNoTrace(history, clean) {
    assert.equal(page.url(), clean);
    for (const url of history) assert.doesNotMatch(url, RESULT_IN_URL, `in the history: ${url}`);
    await page.goBack();
    assert.doesNotMatch(page.url(), RESULT_IN_URL, "Back shows no result");
    await page.goForward();
    assert.equal(page.url(), clean, "Forward comes back to the cleaned address");
    await page.waitForFunction(() => window.ready === true);
  }

  it("query mode, silent login: the callback gets openid and token, the URL keeps only its own parts", async () => {
    const start = "/app/?from=menu#/home";
    const { result, href, history, arrived } = await logIn(start, "#base-query");
    assert.match(arrived, /^[^#]*\?from=menu&openid=[^#&]+&token=[^#&]+#\/home$/, "as it arrived");
    assert.equal(result.source, "query");
    assert.ok(result.openid);
    const claims = verifyToken(result.token, gateway.signingKey, { audience: app.origin, issuer: gateway.baseUrl });
    assert.equal(claims.sub, result.openid);
    assert.equal(claims.scope, "snsapi_base");
    assert.equal(href, `${app.origin}${start}`, "already clean when the callback runs");
    assert.match(await page.textContent("#status"), new RegExp(result.openid));
    await settle(page, { locale: "helper", step: "query-result", lang: "en" });
    await assertNoTrace(history, `${app.origin}${start}`);
    watcher.check();
  });

  it("fragment mode, profile login: hash-router parameters are kept, the result's are removed", async () => {
    const start = "/app/#/profile?tab=1";
    const { result, href, history, arrived } = await logIn(start, "#userinfo-fragment", "allow");
    assert.match(arrived, /#\/profile\?tab=1&openid=[^&]+&.*&token=[^&]+$/, "as it arrived");
    assert.equal(result.source, "fragment");
    assert.equal(result.nickname, USER);
    assert.equal(typeof result.sex, "number");
    assert.ok(result.unionid);
    const claims = verifyToken(result.token, gateway.signingKey, { audience: app.origin, issuer: gateway.baseUrl });
    assert.equal(claims.sub, result.openid);
    assert.equal(claims.nickname, USER);
    assert.equal(href, `${app.origin}${start}`);
    await settle(page, { locale: "helper", step: "fragment-result", lang: "en" });
    await assertNoTrace(history, `${app.origin}${start}`);
    watcher.check();
  });

  it("a refusal reaches the callback as an error, and its parameters are removed too", async () => {
    const start = "/app/?from=menu";
    const { result, href, history } = await logIn(start, "#userinfo-query", "deny");
    assert.equal(result.error, "access_denied");
    assert.ok(result.error_description);
    assert.equal(result.token, undefined);
    assert.equal(result.openid, undefined);
    assert.equal(href, `${app.origin}${start}`);
    assert.match(await page.textContent("#status"), /access_denied/);
    await settle(page, { locale: "helper", step: "refusal-result", lang: "en" });
    await assertNoTrace(history, `${app.origin}${start}`);
    watcher.check();
  });

  it("a return URL without a fragment: WeChat's #wechat_redirect, kept by the browser across the redirects, goes too", async () => {
    const start = "/app/?from=menu";
    const { result, href, history, arrived } = await logIn(start, "#base-query");
    assert.ok(result.token);
    assert.match(arrived, /^[^#]*\?from=menu&openid=[^#]*&token=[^#]*#wechat_redirect$/, "as it arrived");
    assert.equal(href, `${app.origin}${start}`);
    await assertNoTrace(history, `${app.origin}${start}`);
    watcher.check();
  });
});
