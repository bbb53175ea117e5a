//! The latency a login spends in the gateway itself: the time its requests take minus the
//! time spent waiting on WeChat (and, for the Lambda handlers, on DynamoDB), over many
//! sequential logins in one warm process; and how many connections that process opened to
//! WeChat's API.
//!
//!   cargo run --release -p wxauth-bench --bin latency -- [--logins=500] [--wechat-ms=20]
//!
//! Part B (the Lambda handlers against DynamoDB Local) runs when AWS_ENDPOINT_URL_DYNAMODB
//! is set, as `scripts/bench` does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wechat_simulator::{Endpoint, Fault, RunningSimulator, SimulatorConfig, WeChatSimulator};
use wxauth_bench::{Summary, arg, binding_cookie, browser, create_state_table, location};
use wxauth_core::login_state::{Consumed, LoginState, StateId};
use wxauth_core::store::DynamoStateStore;
use wxauth_core::{Config, Gateway, StateStore, StoreError, WeChatClient};

const APP_ID: &str = "wxbe4c400000000000";
const SECRET: &str = "bench-app-secret-0123456789";
const KEY: &str = "bench-signing-key-0123456789abcdef0123";
const RETURN_URL: &str = "https://app.example.com/after";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let logins: usize = arg("logins", 500);
    let wechat_ms: u64 = arg("wechat-ms", 20);
    println!(
        "latency: {logins} sequential snsapi_userinfo logins, WeChat answering each API call after {wechat_ms} ms"
    );
    let sim = WeChatSimulator::new(SimulatorConfig::new(APP_ID, SECRET));
    let open = sim.serve_on_loopback().await.unwrap();
    let api = sim.serve_on_loopback().await.unwrap();
    for endpoint in [Endpoint::AccessToken, Endpoint::UserInfo] {
        sim.inject(
            endpoint,
            Fault::Delay(Duration::from_millis(wechat_ms)),
            usize::MAX,
        );
    }
    local_server(&sim, &open, &api, logins).await;
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok() {
        lambda_handlers(&sim, &open, logins).await;
    } else {
        println!(
            "(set AWS_ENDPOINT_URL_DYNAMODB, or use scripts/bench, for the Lambda handlers against DynamoDB Local)"
        );
    }
}

fn vars(
    open: &RunningSimulator,
    api: &RunningSimulator,
    table: Option<&str>,
) -> impl Fn(&str) -> Option<String> + use<> {
    let mut map = std::collections::HashMap::from([
        ("WECHAT_APP_ID", APP_ID.to_owned()),
        ("WECHAT_APP_SECRET", SECRET.to_owned()),
        ("TOKEN_SIGNING_KEY", KEY.to_owned()),
        (
            "ALLOWED_RETURN_ORIGINS",
            "https://app.example.com".to_owned(),
        ),
        ("WECHAT_OPEN_BASE", open.base_url.clone()),
        ("WECHAT_API_BASE", api.base_url.clone()),
        ("WECHAT_API_FALLBACK_BASES", "none".to_owned()),
    ]);
    if let Some(table) = table {
        map.insert("STATE_TABLE", table.to_owned());
    }
    move |name: &str| map.get(name).cloned()
}

/// WeChat's part of a login as the phone plays it: consent, then the callback URL.
async fn consent(client: &reqwest::Client, authorize: &str, user: &str) -> String {
    let query = authorize
        .split_once('?')
        .unwrap()
        .1
        .split('#')
        .next()
        .unwrap();
    let base = authorize.split("/connect/").next().unwrap();
    let response = client
        .get(format!(
            "{base}/connect/oauth2/authorize/confirm?{query}&decision=allow"
        ))
        .header("x-wechat-sim-user", user)
        .send()
        .await
        .unwrap();
    location(&response)
}

/// Part A: `wxauth-local` (in-memory store) over HTTP.
async fn local_server(
    sim: &WeChatSimulator,
    open: &RunningSimulator,
    api: &RunningSimulator,
    logins: usize,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = wxauth_local::start(vars(open, api, None), listener)
        .await
        .unwrap();
    let client = browser();
    let auth_url = format!(
        "{}/auth?{}",
        server.base_url,
        form_urlencoded::Serializer::new(String::new())
            .append_pair("url", RETURN_URL)
            .append_pair("scope", "snsapi_userinfo")
            .finish()
    );
    let (mut gateway, mut waiting, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
    let warm_up = 20;
    for i in 0..logins + warm_up {
        let t0 = Instant::now();
        let started = client.get(&auth_url).send().await.unwrap();
        let t_auth = t0.elapsed();
        let cookie = binding_cookie(&started).unwrap();
        let callback = consent(&client, &location(&started), &format!("user{i}")).await;
        let before = sim.api_time();
        let t1 = Instant::now();
        let finished = client
            .get(&callback)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let t_callback = t1.elapsed();
        assert!(location(&finished).contains("openid="));
        let wait = sim.api_time() - before;
        if i >= warm_up {
            gateway.push(t_auth + t_callback);
            waiting.push(wait);
            overhead.push((t_auth + t_callback).saturating_sub(wait));
        }
    }
    println!("\nA. wxauth-local (in-memory store), over HTTP on loopback");
    println!(
        "{}",
        Summary::of(&gateway).line("time in the gateway's two requests")
    );
    println!(
        "{}",
        Summary::of(&waiting).line("  of which waiting on WeChat")
    );
    println!(
        "{}",
        Summary::of(&overhead).line("  gateway overhead (the rest)")
    );
    println!(
        "TCP connections opened to WeChat's API over {} logins: {}",
        logins + warm_up,
        api.connections_accepted()
    );
}

/// A store that times every call it forwards.
struct TimedStore {
    inner: DynamoStateStore,
    nanos: AtomicU64,
}

impl TimedStore {
    fn spent(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    fn add(&self, started: Instant) {
        self.nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}

#[async_trait::async_trait]
impl StateStore for TimedStore {
    async fn put_new(&self, login: &LoginState) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.put_new(login).await;
        self.add(started);
        result
    }

    async fn consume(
        &self,
        state: &StateId,
        now: i64,
        keep_until: i64,
    ) -> Result<Consumed, StoreError> {
        let started = Instant::now();
        let result = self.inner.consume(state, now, keep_until).await;
        self.add(started);
        result
    }

    async fn record_outcome(&self, state: &StateId, sealed: &[u8]) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.record_outcome(state, sealed).await;
        self.add(started);
        result
    }

    async fn find(&self, state: &StateId) -> Result<Consumed, StoreError> {
        let started = Instant::now();
        let result = self.inner.find(state).await;
        self.add(started);
        result
    }
}

fn event(path: &str, query: &str, cookie: Option<String>) -> ApiGatewayV2httpRequest {
    let mut event: ApiGatewayV2httpRequest = serde_json::from_value(serde_json::json!({
        "version": "2.0",
        "routeKey": format!("GET {path}"),
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "bench.execute-api.us-east-1.amazonaws.com"},
        "requestContext": {
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "bench"},
            "requestId": "bench",
            "routeKey": format!("GET {path}"),
            "stage": "$default",
            "time": "25/Nov/2026:13:00:00 +0000",
            "timeEpoch": 0
        },
        "isBase64Encoded": false
    }))
    .unwrap();
    event.cookies = cookie.map(|c| vec![c]);
    event
}

/// Part B: the Lambda handlers (payload 2.0 events), state in DynamoDB Local.
async fn lambda_handlers(sim: &WeChatSimulator, open: &RunningSimulator, logins: usize) {
    let api = sim.serve_on_loopback().await.unwrap();
    let table = format!("wxauth-bench-{}", std::process::id());
    let dynamo = create_state_table(&table).await;
    let config = Config::from_lookup(vars(open, &api, Some(&table))).unwrap();
    let store = Arc::new(TimedStore {
        inner: DynamoStateStore::new(dynamo.clone(), &table),
        nanos: AtomicU64::new(0),
    });
    let gateway = Gateway::new(config, store.clone(), WeChatClient::http_client());
    let client = browser();
    let auth_query = form_urlencoded::Serializer::new(String::new())
        .append_pair("url", RETURN_URL)
        .append_pair("scope", "snsapi_userinfo")
        .finish();
    let (mut handler, mut store_wait, mut wechat_wait, mut overhead) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let warm_up = 20;
    for i in 0..logins + warm_up {
        let (store_before, wechat_before) = (store.spent(), sim.api_time());
        let t0 = Instant::now();
        let started =
            wxauth_lambda::handle(&gateway, auth::route, event("/auth", &auth_query, None)).await;
        let t_auth = t0.elapsed();
        let authorize = started.headers["location"].to_str().unwrap().to_owned();
        let cookie = started.cookies[0].split(';').next().unwrap().to_owned();
        let callback = consent(&client, &authorize, &format!("user{i}")).await;
        let query = url::Url::parse(&callback)
            .unwrap()
            .query()
            .unwrap()
            .to_owned();
        let t1 = Instant::now();
        let finished = wxauth_lambda::handle(
            &gateway,
            userinfo_callback::route,
            event("/getWxUserInfo", &query, Some(cookie)),
        )
        .await;
        let t_callback = t1.elapsed();
        assert!(
            finished.headers["location"]
                .to_str()
                .unwrap()
                .contains("openid=")
        );
        let s = store.spent() - store_before;
        let w = sim.api_time() - wechat_before;
        if i >= warm_up {
            handler.push(t_auth + t_callback);
            store_wait.push(s);
            wechat_wait.push(w);
            overhead.push((t_auth + t_callback).saturating_sub(s + w));
        }
    }
    println!("\nB. Lambda handlers (payload 2.0 events), state in DynamoDB Local");
    println!("{}", Summary::of(&handler).line("time in the two handlers"));
    println!(
        "{}",
        Summary::of(&store_wait).line("  of which waiting on DynamoDB Local")
    );
    println!(
        "{}",
        Summary::of(&wechat_wait).line("  of which waiting on WeChat")
    );
    println!(
        "{}",
        Summary::of(&overhead).line("  gateway overhead (the rest)")
    );
    println!(
        "TCP connections opened to WeChat's API over {} logins: {}",
        logins + warm_up,
        api.connections_accepted()
    );
}
