//! `GET`/`POST /oauth2/authorize`: an OpenID Connect authorization request (code flow)
//! becomes a WeChat login like `/auth`'s, with the relying party's client, redirect URI,
//! state, nonce, PKCE challenge and requested claims stored beside it. By POST the
//! parameters come as a form body (OpenID Connect Core §3.1.2.1), read exactly as a query.
//!
//! Until the client and its redirect URI are known to be genuine, nothing may be sent to
//! the redirect URI (it would make the provider an open redirector): those errors are a
//! 400 page. Every later error goes back to the relying party as RFC 6749 §4.1.2.1 says,
//! with `state` and `iss` (RFC 9207).

use crate::base_url::BaseUrl;
use crate::error::RequestError;
use crate::gateway::Gateway;
use crate::handled::Handled;
use crate::login::app_choice::for_provider;
use crate::login::begin::{NewLogin, begin, is_nonce};
use crate::login_state::OidcRequest;
use crate::query::{MAX_QUERY_BYTES, QueryError, is_form, parse_query_and_form};
use crate::scope::{ResponseMode, Scope};

use super::MAX_CLIENT_STATE_LEN;
use super::claims_request;
use super::error_redirect::ErrorRedirect;
use super::pkce;

const PARAMETERS: [&str; 14] = [
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
    "claims",
];

/// What `/oauth2/authorize` reads besides its query.
pub(crate) struct AuthorizeRequest<'a> {
    pub raw_query: Option<&'a str>,
    /// Inside WeChat or not: the Official Account's login or QR login.
    pub user_agent: Option<&'a str>,
    /// The language of a `form_post` error page.
    pub accept_language: Option<&'a str>,
    /// The binding cookies of the browser's pending logins, to keep their number down.
    pub cookie_header: Option<&'a str>,
    /// The body of a request by POST; `None` for GET.
    pub form: Option<PostedForm<'a>>,
}

/// An authorization request's body, by POST.
pub(crate) struct PostedForm<'a> {
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The form body's text: only `application/x-www-form-urlencoded`, UTF-8, and no longer
/// than a query string may be. Refused on the page: the client is not known yet.
fn form_text<'a>(form: Option<&PostedForm<'a>>) -> Result<Option<&'a str>, RequestError> {
    let Some(form) = form else {
        return Ok(None);
    };
    if !is_form(form.content_type) {
        return Err(RequestError::FormBody(
            "an authorization request by POST must have an application/x-www-form-urlencoded body",
        ));
    }
    if form.body.len() > MAX_QUERY_BYTES {
        return Err(RequestError::FormBody(
            "the form body is longer than 16384 bytes",
        ));
    }
    std::str::from_utf8(form.body)
        .map(Some)
        .map_err(|_| RequestError::FormBody("the form body is not UTF-8"))
}

pub(crate) async fn authorize(
    gateway: &Gateway,
    request: AuthorizeRequest<'_>,
    base_url: &BaseUrl,
) -> Result<Handled, RequestError> {
    let raw_query = request.raw_query;
    let form = form_text(request.form.as_ref())?;
    let clients = gateway
        .config()
        .oidc
        .clients
        .as_ref()
        .ok_or(RequestError::NotFound)?;
    // The client and the redirect URI first, on their own: a repeated `scope` must not
    // hide an unknown client behind a redirect, nor may one in both the query and the body.
    let identity = parse_query_and_form(raw_query, form, &["client_id", "redirect_uri"])?;
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
        Ok(ErrorRedirect::new(
            redirect_uri.clone(),
            mode,
            error,
            description,
            state,
            base_url,
        )
        .into_handled(request.accept_language))
    };
    let params = match parse_query_and_form(raw_query, form, &PARAMETERS) {
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
    let claims = match params.get("claims").map(|text| claims_request::parse(text)) {
        None => Default::default(),
        Some(Ok(claims)) => claims,
        Some(Err(err)) => return refuse("invalid_request", &err.to_string()),
    };
    // Other scope values are ignored, as OpenID Connect Core §3.1.2.1 asks. WeChat tells an
    // Official Account the nickname, the picture and the unionid only for
    // `snsapi_userinfo`, so asking for any of them by scope or by `claims` asks for it.
    let profile = scopes.contains(&"profile");
    let unionid = scopes.contains(&"unionid");
    let scope = if profile || unionid || claims.name() || claims.picture() || claims.unionid() {
        Scope::UserInfo
    } else {
        Scope::Base
    };
    let (app, scope) = for_provider(&gateway.config().apps, scope, request.user_agent);
    if !app.kind.allows(scope) {
        // Only Mini Programs or mobile apps are configured: they log in with a client SDK's
        // code, never through a browser.
        return refuse(
            "invalid_request",
            "no official_account or website app is configured to log in with in a browser",
        );
    }
    let nonce = params.get("nonce").cloned();
    if nonce.as_deref().is_some_and(|n| !is_nonce(n)) {
        return refuse(
            "invalid_request",
            "nonce must be 1 to 256 printable ASCII characters",
        );
    }
    let code_challenge = match pkce::challenge_of_request(
        params.get("code_challenge_method").map(String::as_str),
        params.get("code_challenge").map(String::as_str),
        client.requires_pkce(),
    ) {
        Ok(challenge) => challenge,
        Err(description) => return refuse("invalid_request", description),
    };
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
            profile,
            unionid,
            claims,
        }),
        cookie_header: request.cookie_header,
    };
    match begin(gateway, login, base_url).await {
        Ok(started) => Ok(started.into_handled()),
        // The store could not take the login: tell the relying party, which can retry.
        Err(RequestError::Store(err)) => {
            tracing::warn!(error = %err, "could not store an authorization request");
            refuse(err.oauth_error(), err.description())
        }
        Err(other) => Err(other),
    }
}
