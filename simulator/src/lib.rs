//! A test double of WeChat's web authorization, served over real HTTP: the
//! official-account OAuth 2.0 pages (`snsapi_base` / `snsapi_userinfo`) and the
//! Open Platform Website App QR login (`snsapi_login`).
//!
//! It reproduces the behaviour clients have to cope with: the silent base
//! redirect and the userinfo consent sheet, the desktop QR page, single-use
//! five-minute codes bound to the app they were issued to, errors as HTTP 200
//! `text/plain` JSON with an `errcode`, per-app openids and a `unionid` only for
//! apps bound to the Open Platform, snapshot-mode visitors, `sex` sent as a
//! string, and injectable faults (errcodes, delays, gateway pages, garbage
//! bodies, dropped connections).
//!
//! Apps: the primary Official Account (`SimulatorConfig::new`) plus any registered with
//! `SimulatorConfig::with_app` (`SimApp::website`, `SimApp::official_account`,
//! `SimApp::miniprogram`, `SimApp::mobile_app`). Mini Programs and mobile apps have no
//! login page: a test mints their codes (`wx_login_code`, `issue_code_for_app`) as the
//! client SDK would hand them to the app.
//!
//! Routes (at the router's root, nestable under any prefix):
//! `GET /connect/oauth2/authorize`, `GET /connect/oauth2/authorize/confirm`
//! (Official Accounts), `GET /connect/qrconnect`, `GET /connect/qrconnect/confirm`
//! (Website Apps; the confirm step plays the phone that scans and confirms),
//! `GET /sns/oauth2/access_token`, `GET /sns/userinfo` (every app but Mini Programs),
//! `GET /sns/jscode2session` (Mini Programs: openid, `session_key`, unionid when bound),
//! `POST /cgi-bin/stable_token` (an app's own access token, fetches counted per app:
//! `stable_token_fetches`), `POST /wxa/business/getuserphonenumber` (a Mini Program's
//! phone codes, minted by `phone_code`).
//!
//! The user "holding the phone" is taken from the `wechat_sim_user` cookie,
//! else the `x-wechat-sim-user` header, else the `sim_user` query parameter,
//! else `demo-user`. Login-page errors are HTML pages served with HTTP 200
//! (as WeChat does) that name the error code in the page and in the
//! `x-wechat-sim-error` response header.

mod app_tokens;
mod apps;
mod codes;
mod config;
mod faults;
mod html;
mod identity;
mod ids;
mod params;
mod qr_art;
mod qr_page;
mod reply;
mod retention;
mod routes;
mod scope;
mod severed;
mod tokens;
mod users;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::response::Response;
use tokio::task::JoinHandle;

pub use apps::{SimApp, SimAppKind};
pub use config::SimulatorConfig;
pub use faults::{Endpoint, Fault};
pub use scope::Scope;
pub use users::SimUser;

use codes::{CodeStore, Redemption};
use faults::FaultBook;
use tokens::{TokenLookup, TokenStore};

/// Where the consent sheet for `authorize_url` (a WeChat authorize URL, `#wechat_redirect`
/// and all) submits the user's answer: what a test or benchmark opens to play the user's
/// phone without parsing the sheet. The sheet itself is the authorize URL's page.
pub fn consent_url(authorize_url: &str, allow: bool) -> String {
    confirm_url(authorize_url, allow)
}

/// Where the QR login page for `authorize_url` (a `/connect/qrconnect` URL, `#wechat_redirect`
/// and all) submits: opening it plays "scan with WeChat and confirm" (`allow`) or "refuse on
/// the phone" without parsing the page.
pub fn qr_scan_url(authorize_url: &str, allow: bool) -> String {
    confirm_url(authorize_url, allow)
}

/// Both browser pages submit to `<page>/confirm` with the page's own query plus `decision`.
fn confirm_url(page_url: &str, allow: bool) -> String {
    let url = page_url.split('#').next().unwrap_or(page_url);
    let (page, query) = url.split_once('?').unwrap_or((url, ""));
    let decision = if allow { "allow" } else { "deny" };
    format!("{page}/confirm?{query}&decision={decision}")
}

/// Header that names the error on a login-page (authorize or QR) error page.
pub const ERROR_PAGE_HEADER: &str = html::ERROR_HEADER;
/// Cookie naming the simulated WeChat user in a browser.
pub const USER_COOKIE: &str = identity::COOKIE_NAME;
/// Request header naming the simulated WeChat user (highest priority after the cookie).
pub const USER_HEADER: &str = identity::HEADER_NAME;
/// Query/form parameter naming the simulated WeChat user on the browser pages.
pub const USER_QUERY_PARAM: &str = identity::QUERY_NAME;
/// The user assumed when a browser request names none.
pub const DEFAULT_USER: &str = identity::DEFAULT_USER;

/// A simulated WeChat; clones share the same state.
#[derive(Clone)]
pub struct WeChatSimulator {
    inner: Arc<Inner>,
}

struct Inner {
    config: SimulatorConfig,
    state: Mutex<State>,
}

struct State {
    users: HashMap<String, SimUser>,
    codes: CodeStore,
    tokens: TokenStore,
    app_tokens: app_tokens::AppTokenBook,
    phone_codes: CodeStore,
    faults: FaultBook,
    calls: HashMap<Endpoint, usize>,
    api_time: std::time::Duration,
    /// The latest `session_key`s handed out, for `issued_secrets`.
    session_keys: std::collections::VecDeque<String>,
}

/// How many `session_key`s are remembered for `issued_secrets`: enough for any test, a
/// bound for a long demo.
const SESSION_KEYS_KEPT: usize = 10_000;

impl WeChatSimulator {
    pub fn new(config: SimulatorConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                // Used codes answer 40163 and expired tokens 42001 for as long again as
                // they lived; after that they are forgotten (40029, 40001).
                state: Mutex::new(State {
                    users: HashMap::new(),
                    codes: CodeStore::new(config.code_ttl.saturating_mul(2)),
                    tokens: TokenStore::new(config.access_token_ttl.saturating_mul(2)),
                    app_tokens: app_tokens::AppTokenBook::default(),
                    phone_codes: CodeStore::new(config.code_ttl.saturating_mul(2)),
                    faults: FaultBook::default(),
                    calls: HashMap::new(),
                    api_time: std::time::Duration::ZERO,
                    session_keys: std::collections::VecDeque::new(),
                }),
                config,
            }),
        }
    }

    pub fn config(&self) -> &SimulatorConfig {
        &self.inner.config
    }

    /// The WeChat paths at the router's root. Pages only use relative links,
    /// so `Router::nest("/prefix", sim.router())` works.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    /// Serves `router()` on `127.0.0.1:<ephemeral>` until the returned handle is dropped.
    pub async fn serve_on_loopback(&self) -> std::io::Result<RunningSimulator> {
        use axum::serve::ListenerExt;

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let router = self.router();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let listener = listener.tap_io(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let task = tokio::spawn(async move {
            // Only fails if accepting itself fails for good; a test double has nobody to report to.
            let _ = axum::serve(listener, router).await;
        });
        Ok(RunningSimulator {
            base_url,
            connections,
            task,
        })
    }

    /// Registers or replaces the profile of `user.name`.
    pub fn put_user(&self, user: SimUser) {
        self.lock().users.insert(user.name.clone(), user);
    }

    /// The user's openid in the primary Official Account.
    pub fn openid_for(&self, user_name: &str) -> String {
        self.openid_for_app(&self.inner.config.app_id, user_name)
    }

    /// The user's openid in the app `app_id` (openids differ per app).
    pub fn openid_for_app(&self, app_id: &str, user_name: &str) -> String {
        ids::openid(app_id, user_name)
    }

    pub fn unionid_for(&self, user_name: &str) -> String {
        ids::unionid(user_name)
    }

    /// Mints a code for the primary Official Account as if `user_name` had just approved
    /// `scope` in the browser.
    pub fn issue_code(&self, user_name: &str, scope: Scope) -> String {
        self.issue_code_for_app(&self.inner.config.app_id, user_name, scope)
    }

    /// Mints a code bound to the app `app_id`, as if `user_name` had just approved `scope`
    /// (for a Website App: scanned and confirmed with `Scope::Login`). Only that app's
    /// credentials can redeem it; the scope is not checked against the app's kind, so
    /// tests can also hand a client a grant WeChat would never issue.
    pub fn issue_code_for_app(&self, app_id: &str, user_name: &str, scope: Scope) -> String {
        self.lock()
            .codes
            .issue(app_id, user_name, scope, Instant::now())
    }

    /// Mints a `wx.login()` code for the Mini Program `app_id`, as the Mini Program running
    /// in `user_name`'s WeChat would get it: single use, `code_ttl` (five minutes), only
    /// that Mini Program's credentials redeem it at `/sns/jscode2session`.
    pub fn wx_login_code(&self, app_id: &str, user_name: &str) -> String {
        self.issue_code_for_app(app_id, user_name, Scope::Base)
    }

    /// Mints a phone code for the Mini Program `app_id`, as `<button
    /// open-type="getPhoneNumber">` hands it over when `user_name` agrees: single use,
    /// `code_ttl`, only with that Mini Program's access token.
    pub fn phone_code(&self, app_id: &str, user_name: &str) -> String {
        self.lock()
            .phone_codes
            .issue(app_id, user_name, Scope::Base, Instant::now())
    }

    /// The number `getuserphonenumber` gives for `user_name`, in E.164.
    pub fn phone_number_for(&self, user_name: &str) -> String {
        format!("+86{}", ids::phone_number(user_name))
    }

    /// `stable_token` answers for the app `app_id` so far (forced ones included).
    pub fn stable_token_fetches(&self, app_id: &str) -> usize {
        self.lock().app_tokens.fetches(app_id)
    }

    /// `stable_token` answers with `force_refresh` for the app `app_id` so far.
    pub fn forced_refreshes(&self, app_id: &str) -> usize {
        self.lock().app_tokens.forced(app_id)
    }

    /// Retires the app's current access token early, as a fetch elsewhere would: WeChat
    /// answers 40001 to it, and only `force_refresh` gets a new one before it expires.
    pub fn expire_app_token(&self, app_id: &str) {
        self.lock().app_tokens.retire_current(app_id);
    }

    pub(crate) fn fetch_app_token(&self, app_id: &str, force: bool) -> (String, u64) {
        let ttl = self.inner.config.app_token_ttl;
        self.lock()
            .app_tokens
            .fetch(app_id, force, Instant::now(), ttl)
    }

    pub(crate) fn app_of_token(&self, token: &str) -> Option<String> {
        let ttl = self.inner.config.app_token_ttl;
        self.lock()
            .app_tokens
            .app_of(token, Instant::now(), ttl)
            .map(str::to_owned)
    }

    pub(crate) fn redeem_phone_code(&self, code: &str, app_id: &str) -> Redemption {
        self.lock()
            .phone_codes
            .redeem(code, app_id, Instant::now(), self.inner.config.code_ttl)
    }

    pub(crate) fn phone_number_of(&self, user_name: &str) -> String {
        ids::phone_number(user_name)
    }

    /// Makes the next `times` requests to `endpoint` suffer `fault`
    /// (`usize::MAX`: until `clear_faults`). Faults queue up in injection order.
    pub fn inject(&self, endpoint: Endpoint, fault: Fault, times: usize) {
        self.lock().faults.push(endpoint, fault, times);
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Every authorization code, access token and `session_key` handed out and still
    /// remembered (see `retention`): values a client must never log (tests search logs for
    /// them).
    pub fn issued_secrets(&self) -> Vec<String> {
        let state = self.lock();
        state
            .codes
            .all()
            .chain(state.tokens.all())
            .chain(state.session_keys.iter())
            .chain(state.app_tokens.all())
            .chain(state.phone_codes.all())
            .cloned()
            .collect()
    }

    /// The `session_key`s handed out (the latest [`SESSION_KEYS_KEPT`]).
    pub fn issued_session_keys(&self) -> Vec<String> {
        self.lock().session_keys.iter().cloned().collect()
    }

    /// A fresh `session_key`: 16 random bytes in standard base64, as WeChat's.
    pub(crate) fn issue_session_key(&self) -> String {
        let key = ids::session_key();
        let mut state = self.lock();
        if state.session_keys.len() == SESSION_KEYS_KEPT {
            state.session_keys.pop_front();
        }
        state.session_keys.push_back(key.clone());
        key
    }

    /// The total time spent answering API calls (injected delays included): what a client
    /// spent waiting on "WeChat", less the network.
    pub fn api_time(&self) -> std::time::Duration {
        self.lock().api_time
    }

    pub(crate) fn add_api_time(&self, spent: std::time::Duration) {
        self.lock().api_time += spent;
    }

    /// Requests received by an API endpoint so far, faulted ones included.
    pub fn calls(&self, endpoint: Endpoint) -> usize {
        self.lock().calls.get(&endpoint).copied().unwrap_or(0)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panicking test thread (every
        // mutation is a single insert), so a poisoned lock is still usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts the call and applies any pending fault; `Some` replaces the real answer.
    pub(crate) async fn begin_api_call(&self, endpoint: Endpoint) -> Option<Response> {
        let fault = {
            let mut state = self.lock();
            *state.calls.entry(endpoint).or_default() += 1;
            state.faults.take(endpoint)
        }?;
        if let Fault::Delay(delay) = fault {
            tokio::time::sleep(delay).await;
        }
        faults::response_for(fault)
    }

    pub(crate) fn profile(&self, user_name: &str) -> SimUser {
        self.lock()
            .users
            .get(user_name)
            .cloned()
            .unwrap_or_else(|| SimUser::named(user_name))
    }

    pub(crate) fn redeem_code(&self, code: &str, app_id: &str) -> Redemption {
        self.lock()
            .codes
            .redeem(code, app_id, Instant::now(), self.inner.config.code_ttl)
    }

    pub(crate) fn issue_access_token(
        &self,
        app_id: &str,
        user_name: &str,
        openid: &str,
        scope: Scope,
    ) -> String {
        self.lock()
            .tokens
            .issue(app_id, user_name, openid, scope, Instant::now())
    }

    pub(crate) fn lookup_access_token(&self, token: &str) -> TokenLookup {
        self.lock()
            .tokens
            .lookup(token, Instant::now(), self.inner.config.access_token_ttl)
    }
}

/// A simulator being served on loopback; the server stops when this is dropped.
pub struct RunningSimulator {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl RunningSimulator {
    /// TCP connections accepted so far: a client that reuses connections opens few.
    pub fn connections_accepted(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// `base_url` joined with an absolute path such as `/sns/userinfo`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base_url, path_and_query)
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
