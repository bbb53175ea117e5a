//! `GET /getOpenId` and `GET /getWxUserInfo`: consume the state, trade the code with WeChat,
//! and send the user back to the return URL with the result (or the reason it failed).
//!
//! A repeat of the same callback (same state, same code, same browser) within
//! [`REPLAY_WINDOW_SECONDS`] gets the same answer without asking WeChat again: WeChat's
//! in-app browser sometimes loads the callback twice, and the code is spent by then.

use std::time::Duration;

use tokio::time::Instant;

use tracing::warn;

use crate::base_url::BaseUrl;
use crate::browser_binding;
use crate::config::{CallbackSecrets, Config, Subject, TokenAlg};
use crate::deadline::CallbackDeadline;
use crate::error::{RequestError, StateProblem};
use crate::gateway::Gateway;
use crate::login_state::{Consumed, LoginState, OidcRequest, StateId, now_epoch_seconds};
use crate::oidc::authorize::error_fields;
use crate::oidc::grant::{CODE_LIFETIME_SECONDS, Grant, GrantId};
use crate::oidc::jws;
use crate::query::parse_query;
use crate::scope::Scope;
use crate::sealed_answer::{REPLAY_WINDOW_SECONDS, ResultFields, open, seal};
use crate::secret::Secret;
use crate::store::StoreError;
use crate::store::{BrowserCheck, Claim};
use crate::timing::{Wait, waiting_on};
use crate::token::{ResultClaims, TOKEN_LIFETIME_SECONDS, sign};
use crate::wechat::ErrorClass;
use crate::wechat::{AccessTokenReply, UserProfile, WeChatClient, WeChatError};

/// How a callback with a valid state ended; the user is sent back in every case.
#[derive(Debug)]
pub enum Outcome {
    SignedIn {
        openid: String,
    },
    Refused,
    Failed(WeChatError),
    /// A repeat of a callback already answered: the same answer again.
    Repeated,
    /// An OpenID Connect login that signed in at WeChat but got no code: the outcome
    /// names why (`no_unionid`, `unavailable`, `server_error`).
    NotIssued(&'static str),
}

pub struct FinishedLogin {
    pub login: LoginState,
    pub fields: ResultFields,
    pub outcome: Outcome,
}

/// What a callback request carries that matters here.
pub struct CallbackRequest<'a> {
    pub raw_query: Option<&'a str>,
    pub cookie_header: Option<&'a str>,
}

pub async fn finish_login(
    gateway: &Gateway,
    scope: Scope,
    request: CallbackRequest<'_>,
    base_url: &BaseUrl,
) -> Result<FinishedLogin, RequestError> {
    let deadline = CallbackDeadline::starting_now();
    // A process that only starts logins holds no secrets and serves no callback.
    let (clients, secrets) = gateway.finisher().ok_or(RequestError::NotFound)?;
    let params = parse_query(request.raw_query, &["code", "state"])?;
    let state = params.get("state").ok_or(RequestError::Missing("state"))?;
    let state = StateId::parse(state).ok_or(StateProblem::Malformed)?;
    let code = params.get("code").map(String::as_str);
    let cookie_hash = browser_binding::find_cookie(request.cookie_header, &state, base_url)
        .map(browser_binding::hash);
    let config = gateway.config();
    let claim = Claim {
        scope,
        now: now_epoch_seconds(),
        browser: match (&cookie_hash, config.browser_binding) {
            (_, false) => BrowserCheck::Off,
            (Some(hash), true) => BrowserCheck::Hash(hash),
            (None, true) => BrowserCheck::NoCookie,
        },
    };
    let now = claim.now;

    let consumed = deadline
        .store(
            gateway
                .store()
                .consume(&state, &claim, now + REPLAY_WINDOW_SECONDS),
        )
        .await?;
    let login = match consumed {
        Consumed::Unknown => return Err(StateProblem::Unknown.into()),
        // Nothing was consumed: the real browser can still finish this login.
        Consumed::Kept(login) => {
            return Err(restartable(
                config,
                why_not_consumed(&login, &claim),
                &login,
            ));
        }
        Consumed::Used {
            login,
            consumed_at,
            outcome,
        } => {
            let repeat = Repeat {
                login,
                consumed_at,
                outcome,
            };
            return repeat
                .answer(gateway, secrets, &claim, code, &deadline)
                .await;
        }
        Consumed::Fresh(login) => login,
    };
    // The app may have been removed from the configuration since the login started.
    let Some((app, wechat)) = config.apps.get(&login.app).zip(clients.for_app(&login.app)) else {
        record(gateway, &deadline, &state, &[]).await;
        return Err(StateProblem::AppRemoved.into());
    };
    // Checked when the login started, and again now: the allowlist may have been narrowed
    // since, and a stored URL is only as trustworthy as the table it came from.
    if !return_still_allowed(config, &login) {
        // An empty outcome tells a repeat there is nothing to wait for.
        record(gateway, &deadline, &state, &[]).await;
        return Err(StateProblem::ReturnUrlNotAllowed.into());
    }

    let (fields, outcome) = match (code, &login.oidc) {
        (None, None) => (
            fields(&[
                ("error", "access_denied"),
                ("error_description", "the user declined the authorization"),
            ]),
            Outcome::Refused,
        ),
        (None, Some(oidc)) => (
            error_fields(
                "access_denied",
                "the user declined the authorization",
                oidc.state.as_deref(),
                base_url,
            ),
            Outcome::Refused,
        ),
        (Some(code), oidc) => {
            let wechat_deadline = deadline.for_wechat(config.wechat_timeout);
            match (sign_in(wechat, scope, code, wechat_deadline).await, oidc) {
                (Ok((reply, profile)), None) => {
                    let openid = reply.openid.clone();
                    let signed_in = SignedIn { reply, profile };
                    (
                        success_fields(
                            config,
                            secrets,
                            &login,
                            &app.app_id,
                            base_url,
                            now,
                            signed_in,
                        ),
                        Outcome::SignedIn { openid },
                    )
                }
                (Ok((reply, profile)), Some(oidc)) => {
                    let signed_in = SignedIn { reply, profile };
                    issue_code(gateway, &deadline, &login, oidc, signed_in, base_url, now).await
                }
                (Err(err), None) => (failure_fields(&err), Outcome::Failed(err)),
                (Err(err), Some(oidc)) => {
                    let failed = failure_fields(&err);
                    let error = match err.class() {
                        ErrorClass::TemporarilyUnavailable => "temporarily_unavailable",
                        ErrorClass::InvalidGrant | ErrorClass::ServerError => "server_error",
                    };
                    let mut out = error_fields(
                        error,
                        err.class().description(),
                        oidc.state.as_deref(),
                        base_url,
                    );
                    out.extend(failed.into_iter().filter(|(k, _)| k == "wx_errcode"));
                    (out, Outcome::Failed(err))
                }
            }
        }
    };
    let sealed = seal(&fields, &secrets.signing_key, &state, code.unwrap_or(""));
    record(gateway, &deadline, &state, &sealed).await;
    Ok(FinishedLogin {
        login,
        fields,
        outcome,
    })
}

/// Keeps a callback's sealed outcome for a repeat of it, within the callback's deadline.
/// A failure costs only that repeat (it will be refused): this answer is still right.
async fn record(gateway: &Gateway, deadline: &CallbackDeadline, state: &StateId, sealed: &[u8]) {
    let recorded = deadline
        .store(gateway.store().record_outcome(state, sealed))
        .await;
    if let Err(err) = recorded {
        warn!(error = %err, "could not keep the outcome for a repeated callback");
    }
}

/// A refused state, with the way back to the page that started the login when that is a
/// redirect-mode login whose return URL is still allowed (a relying party's redirect URI
/// is no page to start again from).
fn restartable(config: &Config, problem: StateProblem, login: &LoginState) -> RequestError {
    let allowed = origin_still_allowed(config, login);
    if login.oidc.is_none() && allowed && problem != StateProblem::ReturnUrlNotAllowed {
        RequestError::Restartable {
            problem,
            restart: Box::new(login.return_url.clone()),
        }
    } else {
        problem.into()
    }
}

/// Whether the login's return URL may still be used: for the redirect mode its origin is
/// on the allowlist, for an OpenID Connect login the client still registers it.
fn return_still_allowed(config: &Config, login: &LoginState) -> bool {
    match &login.oidc {
        None => origin_still_allowed(config, login),
        Some(oidc) => config
            .oidc
            .clients
            .as_ref()
            .and_then(|clients| clients.get(&oidc.client_id))
            .and_then(|client| client.redirect_uri(&oidc.redirect_uri))
            .is_some_and(|registered| registered == &login.return_url),
    }
}

/// Whether the login's app (still configured) allows its return URL's origin.
fn origin_still_allowed(config: &Config, login: &LoginState) -> bool {
    config
        .apps
        .get(&login.app)
        .is_some_and(|app| app.allowed_origins.allows(login.return_url.url()))
}

/// What WeChat said about a user who signed in.
struct SignedIn {
    reply: AccessTokenReply,
    profile: Option<UserProfile>,
}

/// The end of an OpenID Connect login at WeChat: a grant under a fresh code, and the
/// code for the relying party (or why there is none).
async fn issue_code(
    gateway: &Gateway,
    deadline: &CallbackDeadline,
    login: &LoginState,
    oidc: &OidcRequest,
    signed_in: SignedIn,
    issuer: &BaseUrl,
    now: i64,
) -> (ResultFields, Outcome) {
    let state = oidc.state.as_deref();
    let refuse = |error: &str, description: &str, outcome: &'static str| {
        (
            error_fields(error, description, state, issuer),
            Outcome::NotIssued(outcome),
        )
    };
    let SignedIn { reply, profile } = signed_in;
    let profile = profile.unwrap_or_default();
    let unionid = reply.unionid.clone().or(profile.unionid);
    let sub = match (gateway.config().oidc.subject, &unionid) {
        (Subject::OpenId, _) => reply.openid.clone(),
        (Subject::UnionId, Some(unionid)) => unionid.clone(),
        (Subject::UnionId, None) => {
            return refuse(
                "access_denied",
                "this provider identifies users by unionid, and WeChat gave none for this user (the app is not bound to an Open Platform account, or the user has not authorized one of its apps)",
                "no_unionid",
            );
        }
    };
    // A QR login read the profile whatever the relying party asked for: grant it only when
    // asked (the grant's scope is what the relying party was granted).
    let (scope, name, picture) = match (login.scope, oidc.profile) {
        (Scope::Login, false) => (Scope::Base, None, None),
        (scope, _) => (scope, profile.nickname, profile.headimgurl),
    };
    let grant = Grant {
        client_id: oidc.client_id.clone(),
        redirect_uri: oidc.redirect_uri.clone(),
        code_challenge: oidc.code_challenge.clone(),
        nonce: login.nonce.clone(),
        scope,
        auth_time: now,
        sub,
        openid: reply.openid.clone(),
        unionid,
        name,
        picture,
        code_expires_at: now + CODE_LIFETIME_SECONDS,
    };
    let (code, id) = GrantId::generate();
    match deadline.store(gateway.store().put_grant(&id, &grant)).await {
        Ok(()) => {
            let mut out = fields(&[("code", code.as_str())]);
            if let Some(state) = state {
                out.push(("state".to_owned(), state.to_owned()));
            }
            out.push(("iss".to_owned(), issuer.as_str().to_owned()));
            (
                out,
                Outcome::SignedIn {
                    openid: reply.openid,
                },
            )
        }
        Err(err) => {
            warn!(error = %err, "could not store an authorization code");
            match err {
                StoreError::Unavailable(_) => refuse(
                    "temporarily_unavailable",
                    "the provider's store is unavailable right now; try the login again shortly",
                    "unavailable",
                ),
                _ => refuse(
                    "server_error",
                    "the provider cannot use its store; its operator must fix the deployment",
                    "server_error",
                ),
            }
        }
    }
}

/// Why a login the store kept could not be consumed by this claim.
fn why_not_consumed(login: &LoginState, claim: &Claim<'_>) -> StateProblem {
    if login.is_expired(claim.now) {
        StateProblem::Expired
    } else if login.scope != claim.scope {
        StateProblem::WrongRoute
    } else {
        StateProblem::OtherBrowser
    }
}

/// A callback for a login that was consumed before.
struct Repeat {
    login: LoginState,
    consumed_at: i64,
    outcome: Option<Vec<u8>>,
}

impl Repeat {
    async fn answer(
        self,
        gateway: &Gateway,
        secrets: &CallbackSecrets,
        claim: &Claim<'_>,
        code: Option<&str>,
        deadline: &CallbackDeadline,
    ) -> Result<FinishedLogin, RequestError> {
        let config = gateway.config();
        let refused = || restartable(config, StateProblem::Completed, &self.login);
        let in_window = claim.now < self.consumed_at + REPLAY_WINDOW_SECONDS;
        // Only a browser that proves it started the login gets the answer again. Without
        // binding, anyone holding the callback URL would: that would make the URL (which
        // WeChat, proxies and browser history see) a bearer token for the window.
        let same_browser = claim.browser.proves(self.login.browser_binding.as_deref());
        let still_allowed = return_still_allowed(config, &self.login);
        if !in_window || self.login.scope != claim.scope || !same_browser || !still_allowed {
            return Err(refused());
        }
        let state = &self.login.state;
        let mut sealed = self.outcome;
        // The first request may still be talking to WeChat: wait for its outcome, no
        // longer than it can take, and never past this callback's own deadline.
        let wait_until = deadline.for_repeat(config.wechat_timeout);
        while sealed.is_none() && Instant::now() < wait_until {
            // Booked as a wait on the store: the time is the other request's, not ours.
            waiting_on(Wait::Store, tokio::time::sleep(Duration::from_millis(100))).await;
            // A read still out when the wait is over ends the wait, like any other: the
            // repeat is refused (a real store error is still a 503).
            let Ok(found) = tokio::time::timeout_at(wait_until, gateway.store().find(state)).await
            else {
                break;
            };
            match found? {
                Consumed::Used { outcome, .. } => sealed = outcome,
                _ => break,
            }
        }
        let fields = sealed
            .filter(|s| !s.is_empty())
            .and_then(|s| open(&s, &secrets.signing_key, state, code.unwrap_or("")))
            .ok_or_else(refused)?;
        Ok(FinishedLogin {
            login: self.login,
            fields,
            outcome: Outcome::Repeated,
        })
    }
}

/// The WeChat half of a callback, under one deadline so the callback answers in time
/// whatever WeChat does.
async fn sign_in(
    wechat: &WeChatClient,
    scope: Scope,
    code: &str,
    deadline: Instant,
) -> Result<(AccessTokenReply, Option<UserProfile>), WeChatError> {
    // WeChat's codes are short ASCII tokens; anything else cannot be one, and sending it
    // would only spend quota.
    if code.is_empty() || code.len() > 512 || !code.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WeChatError::MalformedCode);
    }
    let code = Secret::new(code);
    let work = async {
        let reply = wechat.exchange_code(&code, deadline).await?;
        let profile = match scope.has_profile() {
            false => None,
            true => Some(
                wechat
                    .user_info(&reply.access_token, &reply.openid, deadline)
                    .await?,
            ),
        };
        Ok((reply, profile))
    };
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or(Err(WeChatError::Timeout))
}

fn success_fields(
    config: &Config,
    secrets: &CallbackSecrets,
    login: &LoginState,
    app_id: &str,
    base_url: &BaseUrl,
    now: i64,
    signed_in: SignedIn,
) -> ResultFields {
    let SignedIn { reply, profile } = signed_in;
    let profile = profile.unwrap_or_default();
    let unionid = reply.unionid.clone().or(profile.unionid);
    let claims = ResultClaims {
        iss: base_url.as_str().to_owned(),
        aud: login.return_url.origin(),
        sub: reply.openid.clone(),
        iat: now,
        exp: now + TOKEN_LIFETIME_SECONDS,
        scope: login.scope.as_str().to_owned(),
        appid: app_id.to_owned(),
        unionid: unionid.clone(),
        nickname: profile.nickname.clone(),
        headimgurl: profile.headimgurl.clone(),
        is_snapshotuser: reply.is_snapshot_user.then_some(1),
        nonce: login.nonce.clone(),
    };
    let token = match config.token_alg {
        TokenAlg::Hs256 => sign(&claims, &secrets.signing_key),
        TokenAlg::Jws(alg) => {
            let key = config
                .oidc
                .keys
                .as_ref()
                .and_then(|keys| keys.signer(alg))
                .expect("checked at start: TOKEN_SIGNING_ALG has its key");
            jws::sign(key, jws::ID_TOKEN_TYPE, &claims)
        }
    };
    let sex = profile.sex.map(|s| s.to_string());
    let optional = [
        ("unionid", unionid.as_deref()),
        ("is_snapshotuser", reply.is_snapshot_user.then_some("1")),
        ("nickname", profile.nickname.as_deref()),
        ("sex", sex.as_deref()),
        ("province", profile.province.as_deref()),
        ("city", profile.city.as_deref()),
        ("country", profile.country.as_deref()),
        ("headimgurl", profile.headimgurl.as_deref()),
    ];
    let mut out = fields(&[("openid", reply.openid.as_str())]);
    out.extend(
        optional
            .iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_string(), v.to_owned()))),
    );
    out.push(("token".to_owned(), token));
    out
}

fn failure_fields(err: &WeChatError) -> ResultFields {
    let class = err.class();
    let mut out = fields(&[
        ("error", class.as_str()),
        ("error_description", class.description()),
    ]);
    if let Some(errcode) = err.errcode() {
        out.push(("wx_errcode".to_owned(), errcode.to_string()));
    }
    warn!(error = %err, class = class.as_str(), "WeChat sign-in failed");
    out
}

fn fields(pairs: &[(&str, &str)]) -> ResultFields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
