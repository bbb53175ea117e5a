//! Shared set-up for the integration tests: a fresh DynamoDB Local table, a WeChat
//! simulator on its own loopback port, and the real Lambda handlers driven with API Gateway
//! HTTP API (payload 2.0) events. The browser's part (following WeChat's redirects) is
//! played over real HTTP against the simulator.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use wechat_simulator::{RunningSimulator, SimulatorConfig, WeChatSimulator};
use wxauth_core::store::DynamoStateStore;
use wxauth_core::{Config, Gateway, Scope};

pub const APP_ID: &str = "wx0123456789abcdef";
/// Distinctive so that a leak anywhere is easy to find.
pub const APP_SECRET: &str = "APPSECRET-must-never-leak-7c1f";
pub const SIGNING_KEY: &str = "SIGNINGKEY-must-never-leak-0123456789abcdef";
pub const DOMAIN: &str = "abc123.execute-api.us-east-1.amazonaws.com";
pub const ALLOWED_ORIGINS: &str =
    "https://app.example.com,https://*.shop.example.com,http://127.0.0.1:8080";

/// A Website App (QR login) beside the Official Account, for the tests of several apps.
pub const WEB_APP_ID: &str = "wx00000000000000bb";
pub const WEB_SECRET: &str = "WEBSECRET-must-never-leak-91ab";

/// Configures WECHAT_APPS alone (its first app is the default): the Official Account (the
/// simulator's primary app) as `mp`, paired with the Website App `web`, whose site is
/// www.example.com; both bound to one Open Platform account in the simulator.
pub fn two_apps(s: &mut Settings) {
    s.simulator.bound_to_open_platform = true;
    s.simulator = s
        .simulator
        .clone()
        .with_app(wechat_simulator::SimApp::website(WEB_APP_ID, WEB_SECRET).bound());
    s.vars.insert("WECHAT_APP_ID", String::new());
    s.vars.insert("WECHAT_APP_SECRET", String::new());
    let apps = serde_json::json!([
        {"name": "mp", "kind": "official_account", "app_id": APP_ID,
         "app_secret": APP_SECRET, "qr_app": "web"},
        {"name": "web", "kind": "website", "app_id": WEB_APP_ID, "app_secret": WEB_SECRET,
         "allowed_return_origins": "https://www.example.com"},
    ]);
    s.vars.insert("WECHAT_APPS", apps.to_string());
}

/// What a test may change before the environment starts.
pub struct Settings {
    pub vars: HashMap<&'static str, String>,
    pub simulator: SimulatorConfig,
    /// API Gateway stage of the events (`$default` has no path prefix).
    pub stage: String,
}

/// One test's world: its own table, its own simulator, one gateway (one execution
/// environment; build more with [`TestEnv::another_gateway`]).
pub struct TestEnv {
    pub sim: WeChatSimulator,
    pub sim_server: RunningSimulator,
    pub gateway: Gateway,
    pub table: String,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub stage: String,
    vars: HashMap<&'static str, String>,
    transcript: Mutex<Vec<String>>,
    /// The browser's cookies: name → (value, path).
    jar: Mutex<HashMap<String, (String, String)>>,
}

/// The SDK client the gateway itself would build, from the environment scripts/test sets.
pub async fn dynamo_client() -> aws_sdk_dynamodb::Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok(),
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with scripts/test, which starts DynamoDB Local"
    );
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&sdk)
}

/// An SDK client for the DynamoDB at `endpoint` (one a test started or stands in for), with
/// the gateway's own timeouts.
pub async fn dynamo_client_at(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(wxauth_core::store::dynamo_timeouts())
        .load()
        .await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A new table shaped as template.yaml declares it: key `state` (S), TTL on `expires_at`.
pub async fn create_state_table(client: &aws_sdk_dynamodb::Client) -> String {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).unwrap();
    let table = format!(
        "wxauth-test-{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    create_state_table_named(client, &table).await;
    table
}

/// The state table under a given name.
pub async fn create_state_table_named(client: &aws_sdk_dynamodb::Client, table: &str) {
    DynamoStateStore::create_table(client, table)
        .await
        .expect("create the state table in DynamoDB Local");
}

/// The configuration of a gateway in front of the simulator at `wechat_base`, keeping
/// logins in `table`.
pub fn test_vars(wechat_base: &str, table: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("WECHAT_APP_ID", APP_ID.to_owned()),
        ("WECHAT_APP_SECRET", APP_SECRET.to_owned()),
        ("ALLOWED_RETURN_ORIGINS", ALLOWED_ORIGINS.to_owned()),
        ("TOKEN_SIGNING_KEY", SIGNING_KEY.to_owned()),
        ("STATE_TABLE", table.to_owned()),
        ("WECHAT_OPEN_BASE", wechat_base.to_owned()),
        ("WECHAT_API_BASE", wechat_base.to_owned()),
        // There is no internet here to fail over to.
        ("WECHAT_API_FALLBACK_BASES", "none".to_owned()),
    ])
}

/// The query string of a URL (a callback WeChat redirected to).
pub fn query_of(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query()
        .unwrap_or_default()
        .to_owned()
}

impl TestEnv {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(customize: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings {
            vars: HashMap::new(),
            simulator: SimulatorConfig::new(APP_ID, APP_SECRET),
            stage: "$default".into(),
        };
        customize(&mut settings);
        let sim = WeChatSimulator::new(settings.simulator);
        let sim_server = sim.serve_on_loopback().await.expect("start the simulator");
        let dynamo = dynamo_client().await;
        let table = create_state_table(&dynamo).await;
        let mut vars = test_vars(&sim_server.base_url, &table);
        vars.extend(settings.vars);
        let gateway = gateway_from(&vars).await;
        Self {
            sim,
            sim_server,
            gateway,
            table,
            dynamo,
            stage: settings.stage,
            vars,
            transcript: Mutex::new(Vec::new()),
            jar: Mutex::new(HashMap::new()),
        }
    }

    /// A second execution environment: same configuration, its own clients.
    pub async fn another_gateway(&self) -> Gateway {
        gateway_from(&self.vars).await
    }

    pub fn vars(&self) -> &HashMap<&'static str, String> {
        &self.vars
    }

    /// The same world (table, simulator) with a gateway built from other variables.
    pub async fn with_gateway_vars(self, vars: HashMap<&'static str, String>) -> Self {
        let gateway = gateway_from(&vars).await;
        Self {
            gateway,
            vars,
            ..self
        }
    }

    /// The same world (table, simulator, browser) served by another gateway, e.g. one
    /// over the in-memory store.
    pub fn with_gateway(self, gateway: Gateway) -> Self {
        Self { gateway, ..self }
    }

    /// The same world with a gateway that records its metric lines.
    pub fn with_metrics(self, sink: wxauth_core::metrics::MetricsSink) -> Self {
        Self {
            gateway: self.gateway.with_metrics(sink),
            ..self
        }
    }

    /// The values of the browser's cookies (secrets, like codes).
    /// The `name=value` pairs this browser sends to `path`.
    pub fn cookies_for(&self, path: &str) -> Vec<String> {
        let raw_path = self.raw_path(path);
        self.jar
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, (_, cookie_path))| raw_path.starts_with(cookie_path.as_str()))
            .map(|(name, (value, _))| format!("{name}={value}"))
            .collect()
    }

    pub fn cookie_values(&self) -> Vec<String> {
        self.jar
            .lock()
            .unwrap()
            .values()
            .map(|(value, _)| value.clone())
            .collect()
    }

    pub fn config_var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The gateway's base URL as derived from the events' request context.
    pub fn base_url(&self) -> String {
        if self.stage == "$default" {
            format!("https://{DOMAIN}")
        } else {
            format!("https://{DOMAIN}/{}", self.stage)
        }
    }

    /// `GET /auth?{query}` through the auth function's handler.
    pub async fn auth(&self, query: &str) -> ApiGatewayV2httpResponse {
        self.invoke_on(&self.gateway, "/auth", query, None).await
    }

    /// `GET /auth?{query}` from a browser that names itself `user_agent` (the events'
    /// default is WeChat's in-app browser on an iPhone).
    pub async fn auth_from(&self, query: &str, user_agent: &str) -> ApiGatewayV2httpResponse {
        self.get_from("/auth", query, user_agent).await
    }

    /// `GET {path}?{query}` from a browser that names itself `user_agent`, keeping the
    /// cookies it sets.
    pub async fn get_from(
        &self,
        path: &str,
        query: &str,
        user_agent: &str,
    ) -> ApiGatewayV2httpResponse {
        let mut event = api_gateway_event(&self.stage, path, query, None);
        event.headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_str(user_agent).expect("a header value"),
        );
        let response = self.invoke_event(&self.gateway, path, event).await;
        let mut jar = self.jar.lock().unwrap();
        for set_cookie in &response.cookies {
            let cookie = parse_set_cookie(set_cookie);
            let path = cookie.path().unwrap_or("/").to_owned();
            jar.insert(cookie.name().to_owned(), (cookie.value().to_owned(), path));
        }
        response
    }

    pub async fn auth_accepting(&self, query: &str, accept: &str) -> ApiGatewayV2httpResponse {
        self.invoke_on(&self.gateway, "/auth", query, Some(accept))
            .await
    }

    /// A callback through the matching function's handler.
    pub async fn callback(&self, scope: Scope, query: &str) -> ApiGatewayV2httpResponse {
        self.callback_on(&self.gateway, scope, query).await
    }

    pub async fn callback_on(
        &self,
        gateway: &Gateway,
        scope: Scope,
        query: &str,
    ) -> ApiGatewayV2httpResponse {
        self.invoke_on(gateway, scope.callback_path(), query, None)
            .await
    }

    /// Invokes the function that API Gateway routes `path` to, with a payload 2.0 event
    /// carrying the browser's cookies for that path, and keeps the cookies it sets.
    pub async fn invoke_on(
        &self,
        gateway: &Gateway,
        path: &str,
        query: &str,
        accept: Option<&str>,
    ) -> ApiGatewayV2httpResponse {
        let cookies = self.cookies_for(path);
        let response = self
            .invoke_with_cookies(gateway, path, query, accept, cookies)
            .await;
        let mut jar = self.jar.lock().unwrap();
        for set_cookie in &response.cookies {
            let cookie = parse_set_cookie(set_cookie);
            let name = cookie.name().to_owned();
            if cookie.max_age() == Some(cookie::time::Duration::ZERO) {
                jar.remove(&name);
            } else {
                let path = cookie.path().unwrap_or("/").to_owned();
                jar.insert(name, (cookie.value().to_owned(), path));
            }
        }
        response
    }

    /// Invokes with exactly these cookies (another browser, a stolen URL …).
    pub async fn invoke_with_cookies(
        &self,
        gateway: &Gateway,
        path: &str,
        query: &str,
        accept: Option<&str>,
        cookies: Vec<String>,
    ) -> ApiGatewayV2httpResponse {
        let mut event = api_gateway_event(&self.stage, path, query, accept);
        event.cookies = (!cookies.is_empty()).then_some(cookies);
        self.invoke_event(gateway, path, event).await
    }

    /// Hands `event` to the function API Gateway routes `path` to.
    pub async fn invoke_event(
        &self,
        gateway: &Gateway,
        path: &str,
        event: ApiGatewayV2httpRequest,
    ) -> ApiGatewayV2httpResponse {
        let response = wxauth_lambda::handle(gateway, function_for(path), event).await;
        self.record(&response);
        response
    }

    /// Any request to the OpenID Provider's routes: method, headers and body as given,
    /// no cookies (relying parties call these server to server).
    pub async fn oidc_request(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> ApiGatewayV2httpResponse {
        let mut event = api_gateway_event(&self.stage, path, query, None);
        event.request_context.http.method = method.parse().expect("a method");
        event.route_key = Some(format!("{method} {path}"));
        for (name, value) in headers {
            event.headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                http::HeaderValue::from_str(value).expect("a header value"),
            );
        }
        event.body = body.map(str::to_owned);
        self.invoke_event(&self.gateway, path, event).await
    }

    /// `POST /oauth2/token` with a form body and optional extra headers.
    pub async fn token_request(
        &self,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> ApiGatewayV2httpResponse {
        let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.oidc_request("POST", "/oauth2/token", "", &all, Some(&encode(form)))
            .await
    }

    /// The issuer (the gateway's base URL as the events present it).
    pub fn issuer(&self) -> String {
        self.base_url()
    }

    /// The browser forgets every cookie (as another browser would have none).
    pub fn clear_cookies(&self) {
        self.jar.lock().unwrap().clear();
    }

    fn raw_path(&self, path: &str) -> String {
        if self.stage == "$default" {
            path.to_owned()
        } else {
            format!("/{}{path}", self.stage)
        }
    }

    fn record(&self, response: &ApiGatewayV2httpResponse) {
        let mut text = format!("{}\n", response.status_code);
        for (name, value) in &response.headers {
            text.push_str(&format!(
                "{name}: {}\n",
                value.to_str().unwrap_or("<bytes>")
            ));
        }
        text.push_str(&body_text(response));
        self.transcript.lock().unwrap().push(text);
    }

    /// Fails if a secret appears in any response this environment produced.
    pub fn assert_no_secret_leaked(&self) {
        let transcript = self.transcript.lock().unwrap();
        assert!(!transcript.is_empty(), "no responses were recorded");
        for response in transcript.iter() {
            for secret in [APP_SECRET, WEB_SECRET, SIGNING_KEY] {
                assert!(
                    !response.contains(secret),
                    "a secret leaked in:\n{response}"
                );
            }
        }
    }

    /// Starts a login and returns WeChat's authorize URL from the 302.
    pub async fn start_login(&self, return_url: &str, scope: Scope, mode: Option<&str>) -> String {
        let mut query = vec![("url", return_url), ("scope", scope.as_str())];
        if let Some(mode) = mode {
            query.push(("response_mode", mode));
        }
        let response = self.auth(&encode(&query)).await;
        assert_eq!(response.status(), 302, "{}", body_text(&response));
        location(&response).expect("a Location to WeChat")
    }

    /// Plays the user's phone: opens WeChat's authorize URL as `user` and, for
    /// snsapi_userinfo, answers the consent sheet. Returns the callback URL WeChat sends
    /// the browser to.
    pub async fn wechat_authorize(&self, authorize_url: &str, user: &str, allow: bool) -> String {
        let url = authorize_url
            .split_once('#')
            .map_or(authorize_url, |(u, _)| u);
        assert!(url.starts_with(&self.sim_server.base_url), "{url}");
        let browser = browser();
        let response = browser
            .get(url)
            .header("x-wechat-sim-user", user)
            .send()
            .await
            .expect("WeChat's authorize page");
        let response = if response.status() == 200 {
            // The consent sheet (or the QR page: scan and confirm on the phone); submit it
            // as the user would.
            let answer = if url.contains("/connect/qrconnect?") {
                wechat_simulator::qr_scan_url(url, allow)
            } else {
                wechat_simulator::consent_url(url, allow)
            };
            browser
                .get(answer)
                .header("x-wechat-sim-user", user)
                .send()
                .await
                .expect("consent")
        } else {
            response
        };
        assert_eq!(response.status(), 302, "WeChat did not redirect back");
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Delivers WeChat's redirect to the callback function; returns its response.
    pub async fn follow_callback(&self, callback_url: &str) -> ApiGatewayV2httpResponse {
        self.follow_callback_on(&self.gateway, callback_url).await
    }

    pub async fn follow_callback_on(
        &self,
        gateway: &Gateway,
        callback_url: &str,
    ) -> ApiGatewayV2httpResponse {
        let url = url::Url::parse(callback_url).unwrap();
        assert_eq!(
            url.host_str(),
            Some(DOMAIN),
            "redirect_uri points elsewhere"
        );
        let path = url.path();
        let path = path
            .strip_prefix(&format!("/{}", self.stage))
            .unwrap_or(path);
        let scope = match path {
            "/getOpenId" => Scope::Base,
            "/getWxUserInfo" | "/getUserInfo" => Scope::UserInfo,
            "/getQrUserInfo" => Scope::Login,
            other => panic!("unexpected callback path {other}"),
        };
        self.callback_on(gateway, scope, url.query().unwrap_or(""))
            .await
    }

    /// A whole login as `user` from an `/auth` query of the caller's making; returns where
    /// the user lands.
    pub async fn login_with_query(&self, user: &str, query: &str) -> String {
        let response = self.auth(query).await;
        assert_eq!(response.status(), 302, "{}", body_text(&response));
        let callback = self
            .wechat_authorize(&location(&response).unwrap(), user, true)
            .await;
        let back = self.follow_callback(&callback).await;
        assert_eq!(back.status(), 302, "{}", body_text(&back));
        location(&back).unwrap()
    }

    /// A whole login as `user`; returns where the user finally lands.
    pub async fn login(
        &self,
        user: &str,
        return_url: &str,
        scope: Scope,
        mode: Option<&str>,
    ) -> String {
        let authorize = self.start_login(return_url, scope, mode).await;
        let callback = self.wechat_authorize(&authorize, user, true).await;
        let response = self.follow_callback(&callback).await;
        assert_eq!(response.status(), 302, "{}", body_text(&response));
        location(&response).unwrap()
    }
}

/// The function API Gateway routes a path to (template.yaml's events).
pub fn function_for(path: &str) -> &'static wxauth_lambda::functions::Function {
    wxauth_lambda::functions::Function::for_path(path).unwrap_or(&wxauth_lambda::functions::AUTH)
}

async fn gateway_from(vars: &HashMap<&'static str, String>) -> Gateway {
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test configuration");
    Gateway::with_dynamodb(config).await.expect("gateway")
}

static REQUEST_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A real API Gateway HTTP API (payload format 2.0) event for a GET.
pub fn api_gateway_event(
    stage: &str,
    path: &str,
    query: &str,
    accept: Option<&str>,
) -> ApiGatewayV2httpRequest {
    let raw_path = if stage == "$default" {
        path.to_owned()
    } else {
        format!("/{stage}{path}")
    };
    let request_id = format!(
        "req-{}",
        REQUEST_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut headers = serde_json::json!({
        "host": DOMAIN,
        "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.50",
        "x-forwarded-proto": "https",
        "x-forwarded-for": "203.0.113.7",
    });
    if let Some(accept) = accept {
        headers["accept"] = accept.into();
    }
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": format!("GET {path}"),
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": DOMAIN,
            "domainPrefix": "abc123",
            "http": {
                "method": "GET",
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "MicroMessenger"
            },
            "requestId": request_id,
            "routeKey": format!("GET {path}"),
            "stage": stage,
            "time": "25/Nov/2026:13:00:00 +0000",
            "timeEpoch": 1_795_000_000_000u64
        },
        "isBase64Encoded": false
    });
    serde_json::from_value(event).expect("a valid API Gateway event")
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub fn location(response: &ApiGatewayV2httpResponse) -> Option<String> {
    response
        .headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
}

pub fn body_text(response: &ApiGatewayV2httpResponse) -> String {
    match &response.body {
        Some(Body::Text(text)) => text.clone(),
        Some(Body::Binary(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    }
}

pub fn json_body(response: &ApiGatewayV2httpResponse) -> serde_json::Value {
    serde_json::from_str(&body_text(response)).expect("a JSON body")
}

/// A refusal as the gateway answers one: 400, no redirect to follow, a JSON body with the
/// OAuth `error` and an `error_description` that says why (and mentions `because`).
pub fn assert_refused(response: &ApiGatewayV2httpResponse, error: &str, because: &str) {
    assert_eq!(response.status(), 400, "{}", body_text(response));
    assert!(location(response).is_none(), "a refusal must not redirect");
    let body = json_body(response);
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        !description.is_empty() && description.contains(because),
        "{description:?} does not mention {because:?}"
    );
}

/// The result parameters of a final redirect, from its query or (fragment mode) from the
/// fragment's query part.
pub fn result_params(location: &str, fragment: bool) -> HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    let source = if fragment {
        let f = url.fragment().unwrap_or("");
        f.split_once('?').map_or(f, |(_, q)| q).to_owned()
    } else {
        url.query().unwrap_or("").to_owned()
    };
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(source.as_bytes()) {
        assert!(
            out.insert(k.to_string(), v.to_string()).is_none(),
            "parameter {k} appears twice in {location}"
        );
    }
    out
}

/// The state parameter of an authorize URL.
pub fn state_of(authorize_url: &str) -> String {
    let url = url::Url::parse(authorize_url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state")
}

/// `status()` and `headers()` on a payload 2.0 response, as on an `http::Response`.
pub trait ResponseExt {
    fn status(&self) -> u16;
    fn headers(&self) -> &http::HeaderMap;
}

impl ResponseExt for ApiGatewayV2httpResponse {
    fn status(&self) -> u16 {
        u16::try_from(self.status_code).expect("an HTTP status")
    }

    fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }
}

/// Every kind of request once or twice; returns the values that must never be logged.
pub async fn a_busy_day(env: &TestEnv) -> Vec<String> {
    let mut secrets = vec![APP_SECRET.to_owned(), SIGNING_KEY.to_owned()];
    let base = env
        .login("ann", "https://app.example.com/a", Scope::Base, None)
        .await;
    let profile = env
        .login(
            "bob",
            "https://app.example.com/b",
            Scope::UserInfo,
            Some("fragment"),
        )
        .await;
    secrets.push(result_params(&base, false)["token"].clone());
    secrets.push(result_params(&profile, true)["token"].clone());

    // A repeated callback, a refusal, WeChat errors, a timeout, garbage.
    let authorize = env
        .start_login("https://app.example.com/c", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "cid", true).await;
    env.follow_callback(&callback).await;
    let repeat = location(&env.follow_callback(&callback).await).unwrap();
    secrets.push(result_params(&repeat, false)["token"].clone());
    let authorize = env
        .start_login("https://app.example.com/d", Scope::UserInfo, None)
        .await;
    let refusal = env.wechat_authorize(&authorize, "dee", false).await;
    env.follow_callback(&refusal).await;
    env.sim.inject(
        wechat_simulator::Endpoint::AccessToken,
        wechat_simulator::Fault::Errcode(40125, "invalid appsecret".into()),
        1,
    );
    env.login("eve", "https://app.example.com/e", Scope::Base, None)
        .await;
    env.sim.inject(
        wechat_simulator::Endpoint::UserInfo,
        wechat_simulator::Fault::Body("{\"openid\":".into()),
        1,
    );
    env.login("fay", "https://app.example.com/f", Scope::UserInfo, None)
        .await;
    env.auth(&encode(&[
        ("url", "https://evil.com/"),
        ("scope", "snsapi_base"),
    ]))
    .await;
    env.callback(Scope::Base, "code=stolen&state=Unknown0123456789")
        .await;

    secrets.extend(env.sim.issued_secrets());
    secrets.extend(env.cookie_values());
    for user in ["ann", "bob", "cid", "dee", "eve", "fay"] {
        secrets.push(env.sim.openid_for(user));
    }
    secrets
}

/// The log lines of the current thread, in the functions' JSON format, from `start` until
/// the guard is dropped. Thread-local, so tests running beside it neither add to it nor
/// lose their own lines to it.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Captures at `filter` (a RUST_LOG-style directive).
    pub fn start(filter: &str) -> (Self, tracing::subscriber::DefaultGuard) {
        // tracing caches, per callsite, whether any subscriber wants its events. While
        // at most one dispatcher exists, tracing-core (0.1.36) asks only the default of
        // the thread that reaches a callsite first: another test's thread, with no
        // subscriber, would cache "never" and this capture would miss that callsite's
        // events for good (seen: every event lost in 3 of 4 runs beside other tests). A
        // second dispatcher that lives for the whole process makes tracing ask every
        // live dispatcher instead; it wants nothing itself.
        static SECOND_DISPATCHER: std::sync::OnceLock<tracing::Dispatch> =
            std::sync::OnceLock::new();
        SECOND_DISPATCHER
            .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        let captured = Self::default();
        let writer = captured.clone();
        let guard = tracing::subscriber::set_default(wxauth_lambda::json_logs(
            move || writer.clone(),
            filter,
        ));
        (captured, guard)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// Every line, parsed (each must be JSON).
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    }
}

/// Taken by the tests that load the machine (a hundred logins at once, starting DynamoDB
/// Local or function processes) or hold the gateway to a time limit, so that no two of
/// them overlap in the one test process: on two cores one starves the other into the
/// SDK's timeouts. Lighter tests still run beside them.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// A `Set-Cookie` header as a browser reads it (the `cookie` crate's parser).
pub fn parse_set_cookie(header: &str) -> cookie::Cookie<'static> {
    cookie::Cookie::parse(header.to_owned())
        .unwrap_or_else(|e| panic!("a malformed Set-Cookie {header:?}: {e}"))
}

/// `name=value` of a `Set-Cookie` header, as a browser sends it back.
pub fn cookie_pair(set_cookie: &str) -> String {
    parse_set_cookie(set_cookie).stripped().to_string()
}

/// One HTTP/1.1 message (a request or an answer) read whole from `stream`: the head and
/// the body its Content-Length declares. `None` when the peer closes first. For the test
/// servers that stand in for or sit in front of DynamoDB (which sends Content-Length).
pub async fn read_http_message(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut message = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        message.extend_from_slice(&buf[..n]);
        if let Some(head_end) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&message[..head_end]);
            let length = http_header(&head, "content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if message.len() >= head_end + 4 + length {
                return Some(message);
            }
        }
    }
}

/// A header's value in an HTTP message's head (names compared case-insensitively).
pub fn http_header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// What a function binary serves, as its entry of `wxauth_lambda::functions` says.
pub fn serves_of_binary(binary: &str) -> wxauth_core::config::Serves {
    wxauth_lambda::functions::Function::named(binary)
        .unwrap_or_else(|| panic!("no function binary {binary}"))
        .serves
}
