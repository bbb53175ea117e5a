//! The latency a login spends in the gateway itself: the time its requests take minus the
//! time spent waiting on WeChat (and, for the Lambda handlers, on DynamoDB), over many
//! sequential logins in one warm process; and how many connections that process opened to
//! WeChat's API. The waits and the gateway's own work come from the gateway's per-request
//! timer (its `handled` log lines, captured in-process); the simulator's own count of the
//! time it spent answering is printed beside them as a cross-check.
//!
//!   cargo run --release -p wxauth-bench --bin latency -- [--logins=500] [--wechat-ms=20]
//!
//! Part B (the Lambda handlers against DynamoDB Local) runs when AWS_ENDPOINT_URL_DYNAMODB
//! is set, as `scripts/bench` does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wechat_simulator::{
    Endpoint, Fault, RunningSimulator, SimulatorConfig, WeChatSimulator, consent_url,
};
use wxauth_bench::{
    HandledLines, HandledTimes, Summary, arg, binding_cookie, browser, create_state_table, location,
};
use wxauth_core::store::DynamoStateStore;
use wxauth_core::{Config, Gateway, WeChatClient};

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
    let handled = HandledLines::install();
    local_server(&sim, &open, &api, &handled, logins).await;
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok() {
        lambda_handlers(&sim, &open, &handled, logins).await;
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
    let response = client
        .get(consent_url(authorize, true))
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
    handled: &HandledLines,
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
    let mut rows = Rows::default();
    let warm_up = 20;
    for i in 0..logins + warm_up {
        handled.take();
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
        let simulator = sim.api_time() - before;
        let lines = handled.take();
        // /auth's line, and the callback's (consent is the simulator's, it logs none).
        assert_eq!(lines.len(), 2, "one handled line per gateway request");
        if i >= warm_up {
            rows.add(t_auth + t_callback, &lines, simulator);
        }
    }
    println!("\nA. wxauth-local (in-memory store), over HTTP on loopback");
    rows.print("the gateway's two requests, client's clock", false);
    println!(
        "TCP connections opened to WeChat's API over {} logins: {}",
        logins + warm_up,
        api.connections_accepted()
    );
}

/// The samples of one part, a login each.
#[derive(Default)]
struct Rows {
    total: Vec<Duration>,
    wechat: Vec<Duration>,
    simulator: Vec<Duration>,
    store: Vec<Duration>,
    own: Vec<Duration>,
    rest: Vec<Duration>,
}

impl Rows {
    fn add(&mut self, total: Duration, lines: &[HandledTimes], simulator: Duration) {
        let sum = |f: fn(&HandledTimes) -> Duration| lines.iter().map(f).sum::<Duration>();
        let (wechat, store, own) = (sum(|l| l.wechat), sum(|l| l.store), sum(|l| l.own));
        self.total.push(total);
        self.wechat.push(wechat);
        self.simulator.push(simulator);
        self.store.push(store);
        self.own.push(own);
        self.rest.push(total.saturating_sub(wechat + store + own));
    }

    fn print(&self, total_label: &str, with_store: bool) {
        println!("{}", Summary::of(&self.total).line(total_label));
        println!("{}", Summary::of(&self.wechat).line("  waiting on WeChat"));
        println!(
            "{}",
            Summary::of(&self.simulator).line("    of which the simulator answering")
        );
        if with_store {
            println!(
                "{}",
                Summary::of(&self.store).line("  waiting on DynamoDB Local")
            );
        }
        println!(
            "{}",
            Summary::of(&self.own).line("  the gateway's own work")
        );
        println!(
            "{}",
            Summary::of(&self.rest).line(if with_store {
                "  event and response conversion (rest)"
            } else {
                "  loopback HTTP, server, scheduling (rest)"
            })
        );
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

/// Part B: the Lambda handlers (payload 2.0 events), state in DynamoDB Local, on a
/// single-threaded runtime of their own as in the functions' `main`; the simulator stays on
/// the benchmark's runtime.
async fn lambda_handlers(
    sim: &WeChatSimulator,
    open: &RunningSimulator,
    handled: &HandledLines,
    logins: usize,
) {
    let api = sim.serve_on_loopback().await.unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(lambda_handlers_on(sim, open, &api, handled, logins))
        });
    });
}

async fn lambda_handlers_on(
    sim: &WeChatSimulator,
    open: &RunningSimulator,
    api: &RunningSimulator,
    handled: &HandledLines,
    logins: usize,
) {
    let table = format!("wxauth-bench-{}", std::process::id());
    let dynamo = create_state_table(&table).await;
    let config = Config::from_lookup(vars(open, api, Some(&table))).unwrap();
    let store = Arc::new(DynamoStateStore::new(dynamo.clone(), &table));
    let gateway = Gateway::new(config, store, WeChatClient::http_client());
    let client = browser();
    let auth_query = form_urlencoded::Serializer::new(String::new())
        .append_pair("url", RETURN_URL)
        .append_pair("scope", "snsapi_userinfo")
        .finish();
    let mut rows = Rows::default();
    let mut overhead = Vec::new();
    let warm_up = 20;
    for i in 0..logins + warm_up {
        handled.take();
        let before = sim.api_time();
        let t0 = Instant::now();
        let started = wxauth_lambda::handle(
            &gateway,
            &wxauth_lambda::functions::AUTH,
            event("/auth", &auth_query, None),
        )
        .await;
        let t_auth = t0.elapsed();
        let authorize = started.headers["location"].to_str().unwrap().to_owned();
        let cookie = wxauth_bench::cookie_pair(&started.cookies[0]);
        let callback = consent(&client, &authorize, &format!("user{i}")).await;
        let query = url::Url::parse(&callback)
            .unwrap()
            .query()
            .unwrap()
            .to_owned();
        let t1 = Instant::now();
        let finished = wxauth_lambda::handle(
            &gateway,
            &wxauth_lambda::functions::USERINFO_CALLBACK,
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
        let lines = handled.take();
        assert_eq!(lines.len(), 2, "one handled line per handler call");
        if i >= warm_up {
            let total = t_auth + t_callback;
            rows.add(total, &lines, sim.api_time() - before);
            let waits: Duration = lines.iter().map(|l| l.wechat + l.store).sum();
            overhead.push(total.saturating_sub(waits));
        }
    }
    println!("\nB. Lambda handlers (payload 2.0 events), state in DynamoDB Local");
    rows.print("time in the two handlers", true);
    println!(
        "{}",
        Summary::of(&overhead).line("overhead: handlers less the waits")
    );
    println!(
        "TCP connections opened to WeChat's API over {} logins: {}",
        logins + warm_up,
        api.connections_accepted()
    );
}
