//! The gateway: one value built at cold start (config, store, WeChat client) that answers
//! every route. Adapters turn their requests into a [`GatewayRequest`] and render the
//! `http::Response` it returns.

use std::sync::Arc;
use std::time::Instant;

use http::{Method, StatusCode};
use tracing::{info, warn};

use crate::accept::prefers_html;
use crate::base_url::BaseUrl;
use crate::callback::{Outcome, finish_login};
use crate::config::Config;
use crate::error::RequestError;
use crate::response::{self, GatewayResponse};
use crate::route::Route;
use crate::start_login::start_login;
use crate::store::{DynamoStateStore, StateStore};
use crate::wechat::WeChatClient;

/// A request as the core sees it, whatever carried it.
#[derive(Clone, Debug)]
pub struct GatewayRequest {
    pub method: Method,
    pub route: Route,
    /// The raw (still percent-encoded) query string.
    pub raw_query: Option<String>,
    pub accept: Option<String>,
    /// The gateway's external base URL as the adapter derived it from the request; the
    /// configured PUBLIC_BASE_URL wins over it.
    pub derived_base_url: Option<BaseUrl>,
}

pub struct Gateway {
    config: Config,
    store: Arc<dyn StateStore>,
    wechat: WeChatClient,
}

impl Gateway {
    pub fn new(config: Config, store: Arc<dyn StateStore>, http: reqwest::Client) -> Self {
        let wechat = WeChatClient::new(
            http,
            config.wechat_api_base.clone(),
            config.app_id.clone(),
            config.app_secret.clone(),
        );
        Self {
            config,
            store,
            wechat,
        }
    }

    /// The production set-up: DynamoDB (STATE_TABLE is required) and a fresh HTTP client.
    pub async fn with_dynamodb(config: Config) -> Result<Self, String> {
        let table = config
            .state_table
            .clone()
            .ok_or("STATE_TABLE: is required but not set")?;
        let store = DynamoStateStore::from_env(table).await;
        Ok(Self::new(
            config,
            Arc::new(store),
            WeChatClient::http_client(),
        ))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &dyn StateStore {
        self.store.as_ref()
    }

    pub fn wechat(&self) -> &WeChatClient {
        &self.wechat
    }

    pub async fn handle(&self, request: GatewayRequest) -> GatewayResponse {
        let started = Instant::now();
        let html = prefers_html(request.accept.as_deref());
        let route = request.route.name();
        let response = match self.dispatch(&request).await {
            Ok(response) => response,
            Err(err) => {
                if err.status().is_server_error() {
                    warn!(route, error = %err, "request failed");
                } else {
                    info!(route, error = err.code(), reason = %err, "request refused");
                }
                response::error(&err, html)
            }
        };
        info!(
            route,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_millis() as u64,
            "handled"
        );
        response
    }

    async fn dispatch(&self, request: &GatewayRequest) -> Result<GatewayResponse, RequestError> {
        if request.method != Method::GET {
            return Err(RequestError::MethodNotAllowed);
        }
        match &request.route {
            Route::Auth => {
                let base_url = self.base_url(request)?;
                let started = start_login(self, request.raw_query.as_deref(), base_url).await?;
                info!(scope = started.login.scope.as_str(), "login started");
                Ok(response::redirect(&started.authorize_url))
            }
            Route::Callback(scope) => {
                let base_url = self.base_url(request)?;
                let finished =
                    finish_login(self, *scope, request.raw_query.as_deref(), base_url).await?;
                match &finished.outcome {
                    Outcome::SignedIn => info!(outcome = "signed_in", "login finished"),
                    Outcome::Refused => info!(outcome = "refused", "login finished"),
                    Outcome::Failed(err) => info!(
                        outcome = err.class().as_str(),
                        wx_errcode = err.errcode(),
                        "login finished"
                    ),
                }
                Ok(response::redirect(&finished.location))
            }
            Route::MpVerify(name) => match &self.config.mp_verify_token {
                Some(token) if token == name => Ok(response::plain(StatusCode::OK, token.clone())),
                _ => Err(RequestError::NotFound),
            },
            Route::NotFound => Err(RequestError::NotFound),
        }
    }

    fn base_url<'a>(&'a self, request: &'a GatewayRequest) -> Result<&'a BaseUrl, RequestError> {
        self.config
            .public_base_url
            .as_ref()
            .or(request.derived_base_url.as_ref())
            .ok_or(RequestError::NoBaseUrl)
    }
}
