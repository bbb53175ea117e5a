//! The gateway: one value built at cold start (config, store, WeChat client) that answers
//! every route. Adapters turn their requests into a [`GatewayRequest`] and render the
//! `http::Response` it returns.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use sha2::{Digest, Sha256};
use tracing::{Instrument, error, info, info_span, warn};

use crate::accept::prefers_html;
use crate::base_url::BaseUrl;
use crate::browser_binding;
use crate::callback::{CallbackRequest, Outcome, finish_login};
use crate::config::{CallbackSecrets, Config};
use crate::error::RequestError;
use crate::lang::Lang;
use crate::metrics::MetricsSink;
use crate::response::{self, GatewayResponse};
use crate::route::Route;
use crate::sealed_answer::REPLAY_WINDOW_SECONDS;
use crate::start_login::{StartRequest, start_login};
use crate::store::{DynamoStateStore, StateStore, TimedStore};
use crate::timing::measure;
use crate::wechat::WeChatClients;

/// A request as the core sees it, whatever carried it.
#[derive(Clone, Debug, Default)]
pub struct GatewayRequest {
    pub method: Method,
    pub route: Route,
    /// The raw (still percent-encoded) query string.
    pub raw_query: Option<String>,
    pub accept: Option<String>,
    /// `Accept-Language`: the language of any page the visitor sees.
    pub accept_language: Option<String>,
    /// `User-Agent`: WeChat's in-app browser or another (`scope=auto`).
    pub user_agent: Option<String>,
    /// The `Cookie` header (or API Gateway's `cookies`, joined with `; `).
    pub cookie_header: Option<String>,
    /// The gateway's external base URL as the adapter derived it from the request; the
    /// configured PUBLIC_BASE_URL wins over it.
    pub derived_base_url: Option<BaseUrl>,
    /// For log correlation (API Gateway's request id on Lambda).
    pub request_id: Option<String>,
    /// The `Authorization` header (the token endpoint's client credentials, userinfo's
    /// bearer token). Never logged.
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The body, decoded (API Gateway may deliver it base64-encoded).
    pub body: Vec<u8>,
}

pub struct Gateway {
    config: Config,
    store: Arc<dyn StateStore>,
    /// Only where the configuration holds the callbacks' secrets (see `config::Serves`).
    wechat: Option<WeChatClients>,
    metrics: MetricsSink,
}

impl Gateway {
    pub fn new(config: Config, store: Arc<dyn StateStore>, http: reqwest::Client) -> Self {
        Self::build(config, store, Some(http))
    }

    /// The production set-up: DynamoDB (STATE_TABLE is required) and, where the callbacks
    /// are served, an HTTP client for WeChat. The auth function builds none: parsing the
    /// compiled-in roots would only cost its cold start.
    pub async fn with_dynamodb(config: Config) -> Result<Self, String> {
        let table = config
            .state_table
            .clone()
            .ok_or("STATE_TABLE: is required but not set")?;
        let store = DynamoStateStore::from_env(table).await;
        let http = config.callback.is_some().then(|| {
            crate::wechat::WeChatClient::http_client_with(config.wechat_extra_roots.as_ref())
        });
        Ok(Self::build(config, Arc::new(store), http))
    }

    fn build(config: Config, store: Arc<dyn StateStore>, http: Option<reqwest::Client>) -> Self {
        let wechat = config
            .callback
            .as_ref()
            .zip(http)
            .map(|(_, http)| WeChatClients::new(&config, &http));
        Self {
            config,
            store: Arc::new(TimedStore(store)),
            wechat,
            metrics: MetricsSink::Off,
        }
    }

    pub fn with_metrics(mut self, metrics: MetricsSink) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &dyn StateStore {
        self.store.as_ref()
    }

    /// What finishing a login takes: `None` in a process configured only to start them,
    /// which therefore does not serve the callbacks.
    pub fn finisher(&self) -> Option<(&WeChatClients, &CallbackSecrets)> {
        self.wechat.as_ref().zip(self.config.callback.as_ref())
    }

    pub async fn handle(&self, request: GatewayRequest) -> GatewayResponse {
        let route = request.route.name();
        let span = info_span!(
            "request",
            request_id = request.request_id.as_deref().unwrap_or("-"),
            route
        );
        async {
            let html = prefers_html(request.accept.as_deref())
                .then(|| Lang::from_accept_language(request.accept_language.as_deref()));
            let (answer, times) = measure(self.dispatch(&request)).await;
            let (response, outcome) = match answer {
                Ok(answer) => answer,
                Err(err) => {
                    // 503: the store is down or throttling and will recover; 500: our own
                    // configuration or data is wrong, which needs an operator (and an
                    // alarm on the `server_error` metric), so it logs at error level.
                    let outcome = match err.status() {
                        StatusCode::SERVICE_UNAVAILABLE => {
                            warn!(error = %err, "request failed");
                            "unavailable"
                        }
                        status if status.is_server_error() => {
                            error!(error = %err, "request failed");
                            "server_error"
                        }
                        _ => {
                            info!(error = err.code(), reason = %err, "request refused");
                            "rejected"
                        }
                    };
                    (response::error(&err, html), Log::plain(outcome))
                }
            };
            let latency_ms = times.total.as_millis() as u64;
            info!(
                status = response.status().as_u16(),
                outcome = outcome.outcome,
                wx_errcode = outcome.wx_errcode,
                user = outcome.user.as_deref(),
                app = outcome.app.as_deref(),
                latency_ms,
                wechat_us = micros(times.wechat),
                store_us = micros(times.store),
                own_us = micros(times.own()),
                "handled"
            );
            self.metrics.record(route, outcome.outcome, latency_ms);
            response
        }
        .instrument(span)
        .await
    }

    async fn dispatch(
        &self,
        request: &GatewayRequest,
    ) -> Result<(GatewayResponse, Log), RequestError> {
        if request.route.is_oidc() {
            let base_url = self.base_url(request)?;
            return crate::oidc::routes::respond(self, request, base_url).await;
        }
        if request.method != Method::GET {
            return Err(RequestError::MethodNotAllowed("GET"));
        }
        match &request.route {
            Route::Auth => {
                let base_url = self.base_url(request)?;
                let start = StartRequest {
                    raw_query: request.raw_query.as_deref(),
                    user_agent: request.user_agent.as_deref(),
                };
                let started = start_login(self, start, base_url).await?;
                let response = response::redirect(&started.authorize_url);
                let log = Log::plain("login_started").with_app(&started.app);
                let cookies: Vec<String> = started.set_cookie.into_iter().collect();
                Ok((response::with_cookies(response, &cookies), log))
            }
            Route::Callback(scope) => {
                let base_url = self.base_url(request)?;
                let callback = CallbackRequest {
                    raw_query: request.raw_query.as_deref(),
                    cookie_header: request.cookie_header.as_deref(),
                };
                let finished = finish_login(self, *scope, callback, base_url).await?;
                let login = &finished.login;
                let lang = Lang::from_accept_language(request.accept_language.as_deref());
                let mut response = response::result(
                    &login.return_url,
                    login.response_mode,
                    &finished.fields,
                    lang,
                );
                if let (
                    Outcome::SignedIn { .. } | Outcome::Refused | Outcome::Failed(_),
                    Some(cookie),
                ) = (
                    &finished.outcome,
                    browser_binding::find_cookie(
                        request.cookie_header.as_deref(),
                        &finished.login.state,
                        base_url,
                    ),
                ) {
                    // Keep the binding cookie only as long as a repeat may still come.
                    let refreshed = browser_binding::refresh_cookie(
                        &finished.login.state,
                        cookie,
                        base_url,
                        *scope,
                        REPLAY_WINDOW_SECONDS as u64,
                    );
                    response = response::with_cookies(response, &[refreshed]);
                }
                Ok((
                    response,
                    Log::from(&finished.outcome).with_app(&finished.login.app),
                ))
            }
            Route::MpVerify(name) => match &self.config.mp_verify_token {
                Some(token) if token == name => Ok((
                    response::plain(StatusCode::OK, token.clone()),
                    Log::plain("mp_verify"),
                )),
                _ => Err(RequestError::NotFound),
            },
            Route::NotFound => Err(RequestError::NotFound),
            // Answered above.
            Route::OidcDiscovery
            | Route::OidcJwks
            | Route::OidcAuthorize
            | Route::OidcToken
            | Route::OidcUserInfo => Err(RequestError::NotFound),
        }
    }

    pub(crate) fn base_url<'a>(
        &'a self,
        request: &'a GatewayRequest,
    ) -> Result<&'a BaseUrl, RequestError> {
        self.config
            .public_base_url
            .as_ref()
            .or(request.derived_base_url.as_ref())
            .ok_or(RequestError::NoBaseUrl)
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().try_into().unwrap_or(u64::MAX)
}

/// What one request's log line and metric say about its outcome.
pub(crate) struct Log {
    outcome: &'static str,
    wx_errcode: Option<i64>,
    /// A hash of the openid: enough to follow one user through the logs, not to name them.
    user: Option<String>,
    /// The app of the login the request started or finished: with several apps in one
    /// deployment, an operator follows each apart.
    app: Option<String>,
}

impl Log {
    pub(crate) fn for_user(outcome: &'static str, openid: &str) -> Self {
        Self {
            user: Some(openid_hash(openid)),
            ..Self::plain(outcome)
        }
    }

    pub(crate) fn plain(outcome: &'static str) -> Self {
        Self {
            outcome,
            wx_errcode: None,
            user: None,
            app: None,
        }
    }

    pub(crate) fn with_app(self, app: &str) -> Self {
        Self {
            app: Some(app.to_owned()),
            ..self
        }
    }
}

impl From<&Outcome> for Log {
    fn from(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::SignedIn { openid } => Self {
                user: Some(openid_hash(openid)),
                ..Self::plain("signed_in")
            },
            Outcome::Refused => Self::plain("refused"),
            Outcome::Repeated => Self::plain("repeated"),
            Outcome::NotIssued(why) => Self::plain(why),
            Outcome::Failed(err) => Self {
                wx_errcode: err.errcode(),
                ..Self::plain(err.class().as_str())
            },
        }
    }
}

/// The first 16 hex digits of SHA-256 over the openid.
pub fn openid_hash(openid: &str) -> String {
    Sha256::digest(openid.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
