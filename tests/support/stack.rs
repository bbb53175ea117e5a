//! One test's world: a fresh DynamoDB Local table, a WeChat simulator on its own loopback
//! port and a gateway over both ([`TestEnv`]), with the flows a browser walks through the
//! real Lambda handlers (start a login, answer WeChat, follow the callback).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use wechat_simulator::{RunningSimulator, SimulatorConfig, WeChatSimulator};
use wxauth_core::store::DynamoStateStore;
use wxauth_core::{Config, Gateway, Scope};

use crate::events::{ResponseExt, api_gateway_event, body_text, location, result_params};
use crate::functions::function_for;
use crate::http::{browser, encode};
use crate::jar::Jar;
use crate::{
    ALLOWED_ORIGINS, APP_ID, APP_SECRET, DOMAIN, SEALING_KEY, SIGNING_KEY, WEB_APP_ID, WEB_SECRET,
};

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
    /// The browser's cookies.
    jar: Mutex<Jar>,
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
        ("SEALING_KEY", SEALING_KEY.to_owned()),
        ("STATE_TABLE", table.to_owned()),
        ("WECHAT_OPEN_BASE", wechat_base.to_owned()),
        ("WECHAT_API_BASE", wechat_base.to_owned()),
        // There is no internet here to fail over to.
        ("WECHAT_API_FALLBACK_BASES", "none".to_owned()),
    ])
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
            jar: Mutex::new(Jar::default()),
        }
    }

    /// A second execution environment: same configuration, its own clients.
    pub async fn another_gateway(&self) -> Gateway {
        gateway_from(&self.vars).await
    }

    /// How many items the state table holds (logins and grants).
    pub async fn stored_items(&self) -> i32 {
        let scan = self.dynamo.scan().table_name(&self.table).send().await;
        scan.expect("a scan of the state table").count()
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

    /// The `name=value` pairs this browser sends to `path`, oldest first.
    pub fn cookies_for(&self, path: &str) -> Vec<String> {
        self.jar.lock().unwrap().for_path(&self.raw_path(path))
    }

    /// The values of the browser's cookies (secrets, like codes).
    pub fn cookie_values(&self) -> Vec<String> {
        self.jar.lock().unwrap().values()
    }

    /// The names of the browser's cookies, oldest first.
    pub fn cookie_names(&self) -> Vec<String> {
        self.jar.lock().unwrap().names()
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
        self.keep_cookies(&response);
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
        self.keep_cookies(&response);
        response
    }

    /// A browser's POST of `body` to `path` (a relying party's page posting an
    /// authorization request): its cookies sent and kept, as `invoke_on` does for a GET.
    /// The body goes base64-encoded, as API Gateway delivers bytes it does not take for text.
    pub async fn post_from_browser(
        &self,
        path: &str,
        query: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> ApiGatewayV2httpResponse {
        use base64::Engine;
        let mut event = api_gateway_event(&self.stage, path, query, None);
        event.request_context.http.method = http::Method::POST;
        event.route_key = Some(format!("POST {path}"));
        if let Some(content_type) = content_type {
            event.headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_str(content_type).expect("a header value"),
            );
        }
        let cookies = self.cookies_for(path);
        event.cookies = (!cookies.is_empty()).then_some(cookies);
        event.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
        event.is_base64_encoded = true;
        let response = self.invoke_event(&self.gateway, path, event).await;
        self.keep_cookies(&response);
        response
    }

    /// What the browser does with an answer's `Set-Cookie` headers.
    fn keep_cookies(&self, response: &ApiGatewayV2httpResponse) {
        let mut jar = self.jar.lock().unwrap();
        for set_cookie in &response.cookies {
            jar.store(set_cookie);
        }
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
            for secret in [APP_SECRET, WEB_SECRET, SIGNING_KEY, SEALING_KEY] {
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

async fn gateway_from(vars: &HashMap<&'static str, String>) -> Gateway {
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test configuration");
    Gateway::with_dynamodb(config).await.expect("gateway")
}

/// Lets the default app's logins use every response mode, fragment included (off by
/// default).
pub fn all_response_modes(s: &mut Settings) {
    s.vars
        .insert("RESPONSE_MODES", "query,fragment,form_post".to_owned());
}

/// Every kind of request once or twice (a fragment-mode login among them: start the
/// environment with [`all_response_modes`]); returns the values that must never be logged.
pub async fn a_busy_day(env: &TestEnv) -> Vec<String> {
    let mut secrets = vec![
        APP_SECRET.to_owned(),
        SIGNING_KEY.to_owned(),
        SEALING_KEY.to_owned(),
    ];
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
