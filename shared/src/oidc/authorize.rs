//! `GET /oauth2/authorize`: an OpenID Connect authorization request (code flow) becomes a
//! WeChat login like `/auth`'s, with the relying party's client, redirect URI, state,
//! nonce and PKCE challenge stored beside it.
//!
//! Until the client and its redirect URI are known to be genuine, nothing may be sent to
//! the redirect URI (it would make the provider an open redirector): those errors are a
//! 400 page. Every later error goes back to the relying party as RFC 6749 §4.1.2.1 says,
//! with `state` and `iss` (RFC 9207).

use crate::app_choice::is_wechat_browser;
use crate::apps::{AppKind, WeChatApp, WeChatApps};
use crate::base_url::BaseUrl;
use crate::error::RequestError;
use crate::gateway::Gateway;
use crate::login_state::OidcRequest;
use crate::query::{QueryError, parse_query};
use crate::return_url::ReturnUrl;
use crate::scope::{ResponseMode, Scope};
use crate::start_login::{NewLogin, StartedLogin, begin, is_nonce};

use super::MAX_CLIENT_STATE_LEN;
use super::grant::is_pkce_value;

const PARAMETERS: [&str; 13] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "request",
    "request_uri",
    "registration",
    "prompt",
];

pub(crate) enum Authorized {
    /// The user goes to WeChat.
    Started(StartedLogin),
    /// The user goes back to the relying party with an error.
    Refused(ErrorRedirect),
}

/// An error sent to a verified redirect URI.
pub(crate) struct ErrorRedirect {
    pub redirect_uri: ReturnUrl,
    pub response_mode: ResponseMode,
    pub fields: Vec<(String, String)>,
    pub error: &'static str,
}

impl ErrorRedirect {
    pub(crate) fn new(
        redirect_uri: ReturnUrl,
        response_mode: ResponseMode,
        error: &'static str,
        description: &str,
        state: Option<&str>,
        issuer: &BaseUrl,
    ) -> Self {
        Self {
            redirect_uri,
            response_mode,
            fields: error_fields(error, description, state, issuer),
            error,
        }
    }
}

/// The parameters an error goes back with.
pub(crate) fn error_fields(
    error: &str,
    description: &str,
    state: Option<&str>,
    issuer: &BaseUrl,
) -> Vec<(String, String)> {
    let mut fields = vec![
        ("error".to_owned(), error.to_owned()),
        ("error_description".to_owned(), description.to_owned()),
    ];
    if let Some(state) = state {
        fields.push(("state".to_owned(), state.to_owned()));
    }
    fields.push(("iss".to_owned(), issuer.as_str().to_owned()));
    fields
}

/// The default app's login: its Official Account flow inside WeChat, and outside WeChat
/// the QR login of its `qr_app` when it has one (a Website App logs in by QR anywhere).
/// Relying parties cannot tell WeChat's browser from another, so the provider chooses.
fn wechat_login<'a>(
    apps: &'a WeChatApps,
    scope: Scope,
    user_agent: Option<&str>,
) -> (&'a WeChatApp, Scope) {
    let default = apps.default_app();
    if default.kind == AppKind::Website {
        return (default, Scope::Login);
    }
    match default.qr_app.as_deref().and_then(|name| apps.get(name)) {
        Some(qr) if !is_wechat_browser(user_agent) => (qr, Scope::Login),
        _ => (default, scope),
    }
}

pub(crate) async fn authorize(
    gateway: &Gateway,
    raw_query: Option<&str>,
    user_agent: Option<&str>,
    base_url: &BaseUrl,
) -> Result<Authorized, RequestError> {
    let clients = gateway
        .config()
        .oidc
        .clients
        .as_ref()
        .ok_or(RequestError::NotFound)?;
    // The client and the redirect URI first, on their own: a repeated `scope` must not
    // hide an unknown client behind a redirect.
    let identity = parse_query(raw_query, &["client_id", "redirect_uri"])?;
    let client_id = identity
        .get("client_id")
        .ok_or(RequestError::Missing("client_id"))?;
    let client = clients.get(client_id).ok_or(RequestError::UnknownClient)?;
    let redirect_text = identity
        .get("redirect_uri")
        .ok_or(RequestError::Missing("redirect_uri"))?;
    let redirect_uri = client
        .redirect_uri(redirect_text)
        .ok_or(RequestError::RedirectUriNotRegistered)?
        .clone();

    // From here on the relying party hears about every problem.
    let refuse = |mode, error, description: &str, state: Option<&str>| {
        Ok(Authorized::Refused(ErrorRedirect::new(
            redirect_uri.clone(),
            mode,
            error,
            description,
            state,
            base_url,
        )))
    };
    let params = match parse_query(raw_query, &PARAMETERS) {
        Ok(params) => params,
        Err(QueryError::Repeated(name)) => {
            let description = format!("the parameter `{name}` appears more than once");
            return refuse(ResponseMode::Query, "invalid_request", &description, None);
        }
        Err(err) => {
            return refuse(
                ResponseMode::Query,
                "invalid_request",
                &err.to_string(),
                None,
            );
        }
    };
    let state = params.get("state").map(String::as_str);
    if state.is_some_and(|s| s.len() > MAX_CLIENT_STATE_LEN) {
        let description = format!("state must be at most {MAX_CLIENT_STATE_LEN} characters");
        return refuse(ResponseMode::Query, "invalid_request", &description, None);
    }
    let response_mode = match params.get("response_mode").map(String::as_str) {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => {
            let description = "response_mode must be query or form_post";
            return refuse(ResponseMode::Query, "invalid_request", description, state);
        }
    };
    let refuse = |error, description: &str| refuse(response_mode, error, description, state);
    if params.contains_key("request") {
        return refuse("request_not_supported", "request objects are not supported");
    }
    if params.contains_key("request_uri") {
        return refuse("request_uri_not_supported", "request_uri is not supported");
    }
    if params.contains_key("registration") {
        return refuse(
            "registration_not_supported",
            "registration is not supported",
        );
    }
    match params.get("response_type").map(String::as_str) {
        Some("code") => {}
        None => {
            return refuse(
                "invalid_request",
                "the `response_type` parameter is required",
            );
        }
        Some(_) => {
            return refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    let scopes: Vec<&str> = params
        .get("scope")
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if !scopes.contains(&"openid") {
        return refuse("invalid_scope", "scope must include openid");
    }
    // Other scope values are ignored, as OpenID Connect Core §3.1.2.1 asks.
    let scope = if scopes.contains(&"profile") {
        Scope::UserInfo
    } else {
        Scope::Base
    };
    let (app, scope) = wechat_login(&gateway.config().apps, scope, user_agent);
    let nonce = params.get("nonce").cloned();
    if nonce.as_deref().is_some_and(|n| !is_nonce(n)) {
        return refuse(
            "invalid_request",
            "nonce must be 1 to 256 printable ASCII characters",
        );
    }
    let code_challenge = params.get("code_challenge").cloned();
    match (
        params.get("code_challenge_method").map(String::as_str),
        &code_challenge,
    ) {
        (Some("S256"), Some(_)) | (None, None) => {}
        (None | Some("plain"), Some(_)) => {
            return refuse("invalid_request", "code_challenge_method must be S256");
        }
        (Some(_), Some(_)) => {
            return refuse("invalid_request", "code_challenge_method must be S256");
        }
        (Some(_), None) => {
            return refuse(
                "invalid_request",
                "code_challenge_method without code_challenge",
            );
        }
    }
    if code_challenge
        .as_deref()
        .is_some_and(|c| !is_pkce_value(c) || c.len() != 43)
    {
        return refuse(
            "invalid_request",
            "code_challenge must be the 43-character base64url SHA-256 of the verifier",
        );
    }
    if client.is_public() && code_challenge.is_none() {
        return refuse(
            "invalid_request",
            "a public client must send a PKCE code_challenge (S256)",
        );
    }
    // `prompt`, `max_age`, `login_hint`, `ui_locales`... change nothing: every login asks
    // WeChat afresh, so `auth_time` is always now.
    let login = NewLogin {
        app,
        scope,
        return_url: redirect_uri.clone(),
        response_mode,
        nonce,
        oidc: Some(OidcRequest {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_text.clone(),
            state: state.map(str::to_owned),
            code_challenge,
            profile: scopes.contains(&"profile"),
        }),
    };
    match begin(gateway, login, base_url).await {
        Ok(started) => Ok(Authorized::Started(started)),
        // The store could not take the login: tell the relying party, which can retry.
        Err(RequestError::Store(err)) => {
            let (error, description) = match err {
                crate::store::StoreError::Unavailable(_) => (
                    "temporarily_unavailable",
                    "the login store is unavailable right now; try again shortly",
                ),
                _ => (
                    "server_error",
                    "the provider cannot use its login store; its operator must fix the deployment",
                ),
            };
            tracing::warn!(error = %err, "could not store an authorization request");
            refuse(error, description)
        }
        Err(other) => Err(other),
    }
}
