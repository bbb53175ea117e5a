//! Cold start and footprint of each function, and of the Node.js function teams write
//! instead, measured by the same Lambda Runtime API emulator in the same run.
//!
//!   scripts/bench     (builds the release binaries, starts DynamoDB Local, runs this)
//!   coldstart --functions=DIR [--runs=10] [--invocations=20] [--certs=lambda|system]
//!             [--skip-node]
//!
//! Per run: a fresh process; init = spawn → its first `GET /runtime/invocation/next`;
//! first = the first invocation; warm = the median of the next `invocations`; peak RSS =
//! the process's high-water mark (VmHWM) after them. The machine's own architecture is
//! measured (x86_64 here; Lambda runs the arm64 build).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lambda_runtime_emulator::{ExecutionEnvironment, FunctionSpec, InitOutcome, InvocationOutcome};
use wechat_simulator::{RunningSimulator, Scope, SimulatorConfig, WeChatSimulator};
use wxauth_bench::functions::{auth_event, event, node_version, ready, which_node};
use wxauth_bench::{Summary, arg, create_state_table, ms};
use wxauth_lambda::functions::{AUTH, BASE_CALLBACK, USERINFO_CALLBACK};

const RETURN_URL: &str = "https://app.example.com/after";

const APP_ID: &str = "wxc01d500000000000";
const SECRET: &str = "coldstart-app-secret-0123";
const KEY: &str = "coldstart-signing-key-0123456789abcdef";

struct Measured {
    init: Vec<Duration>,
    first: Vec<Duration>,
    warm: Vec<Duration>,
    rss_kib: Vec<u64>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let functions: PathBuf = arg("functions", PathBuf::from("target/release"));
    let runs: usize = arg("runs", 10);
    let invocations: usize = arg("invocations", 20);
    let node_dir: PathBuf = arg("node", PathBuf::from("bench/node-auth"));
    let certs: String = arg("certs", "lambda".to_owned());
    let skip_node = std::env::args().any(|a| a == "--skip-node");
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok(),
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run scripts/bench"
    );
    let sim = WeChatSimulator::new(SimulatorConfig::new(APP_ID, SECRET));
    let wechat = sim.serve_on_loopback().await.unwrap();
    let table = format!("wxauth-coldstart-{}", std::process::id());
    create_state_table(&table).await;
    println!(
        "cold start: {runs} fresh processes per function, {invocations} warm invocations each"
    );

    let mut env = function_env(&wechat, &table);
    // Kept until the end of the run: the functions read the bundle at every start.
    let _cert_dir = match certs.as_str() {
        "lambda" => {
            let (dir, vars) = lambda_like_certs();
            env.extend(vars);
            Some(dir)
        }
        "system" => None,
        other => panic!("--certs={other}: lambda or system"),
    };
    println!("certificates: {certs} layout");
    let auth_bin = functions.join(AUTH.name);
    // A warm auth environment hands out the states the callbacks consume.
    let starter = ready(FunctionSpec::new("starter", &auth_bin).envs(env.clone())).await;
    // DynamoDB Local is a JVM: its first thousands of requests run slower while its JIT
    // warms up, which would land on whatever is measured first.
    for _ in 0..3000 {
        starter
            .invoke(&auth_event(RETURN_URL, "snsapi_base"))
            .await
            .expect("warm-up");
    }

    let mut results = Vec::new();
    let mut auth_login = || auth_event(RETURN_URL, "snsapi_base");
    results.push((
        "auth (Rust)",
        measure(&auth_bin, &env, runs, invocations, &mut auth_login).await,
    ));
    for (name, binary, scope, path) in [
        (
            "base-callback (Rust)",
            BASE_CALLBACK.name,
            Scope::Base,
            "/getOpenId",
        ),
        (
            "userinfo-callback (Rust)",
            USERINFO_CALLBACK.name,
            Scope::UserInfo,
            "/getWxUserInfo",
        ),
    ] {
        let mut pending = Vec::new();
        for _ in 0..runs * (invocations + 1) {
            pending.push(callback_event(&starter, &sim, scope, path).await);
        }
        let mut next = || pending.pop().expect("enough prepared callbacks");
        results.push((
            name,
            measure(&functions.join(binary), &env, runs, invocations, &mut next).await,
        ));
    }

    if skip_node {
        for (name, m) in &results {
            report(name, m);
        }
        return;
    }
    let node = which_node();
    let node_env: Vec<(String, String)> = env
        .iter()
        .cloned()
        .chain([("NODE_BINARY".to_owned(), node.clone())])
        .collect();
    let mut node_event = || auth_event(RETURN_URL, "snsapi_base");
    let node_result = measure(
        &node_dir.join("bootstrap"),
        &node_env,
        runs,
        invocations,
        &mut node_event,
    )
    .await;

    for (name, m) in &results {
        report(name, m);
    }
    report(
        &format!("auth (Node.js {}, AWS SDK v3)", node_version(&node)),
        &node_result,
    );
    let median = |v: &[Duration]| Summary::of(v).p50;
    let rss_median = |v: &[u64]| {
        let mut v = v.to_vec();
        v.sort();
        v[v.len() / 2]
    };
    let rust = &results[0].1;
    println!("\nratios, auth, wxauth / Node.js (medians):");
    println!(
        "  init  {:.3} ms / {:.3} ms = {:.3}",
        ms(median(&rust.init)),
        ms(median(&node_result.init)),
        ms(median(&rust.init)) / ms(median(&node_result.init))
    );
    println!(
        "  warm  {:.3} ms / {:.3} ms = {:.3}",
        ms(median(&rust.warm)),
        ms(median(&node_result.warm)),
        ms(median(&rust.warm)) / ms(median(&node_result.warm))
    );
    println!(
        "  peak RSS  {} KiB / {} KiB = {:.3}",
        rss_median(&rust.rss_kib),
        rss_median(&node_result.rss_kib),
        rss_median(&rust.rss_kib) as f64 / rss_median(&node_result.rss_kib) as f64
    );
}

fn report(name: &str, m: &Measured) {
    println!("\n{name}");
    println!(
        "{}",
        Summary::of(&m.init).line("  init (spawn → first /next)")
    );
    println!("{}", Summary::of(&m.first).line("  first invocation"));
    println!(
        "{}",
        Summary::of(&m.warm).line("  warm invocation (median per run)")
    );
    let mut rss = m.rss_kib.clone();
    rss.sort();
    println!(
        "  peak RSS after the warm invocations       min {} KiB  median {} KiB  max {} KiB",
        rss[0],
        rss[rss.len() / 2],
        rss[rss.len() - 1]
    );
}

/// A folder removed when the run ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The system's root certificates laid out as on Lambda's provided.al2023: one bundle in
/// `/etc/pki/tls/certs`, no hashed folder of single certificates. A Debian host keeps
/// ~290 files in /etc/ssl/certs, and a process that loads the native roots reads them all
/// (about 5 ms at every start here), which Lambda never pays.
fn lambda_like_certs() -> (TempDir, Vec<(String, String)>) {
    let dir = TempDir(
        std::env::temp_dir().join(format!("wxauth-coldstart-certs-{}", std::process::id())),
    );
    std::fs::create_dir_all(&dir.0).expect("a temporary folder");
    let bundle = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("the system's CA bundle");
    let copy = dir.0.join("ca-bundle.crt");
    std::fs::copy(bundle, &copy).expect("copy the CA bundle");
    let vars = vec![
        ("SSL_CERT_FILE".to_owned(), copy.display().to_string()),
        ("SSL_CERT_DIR".to_owned(), dir.0.display().to_string()),
    ];
    (dir, vars)
}

fn function_env(wechat: &RunningSimulator, table: &str) -> Vec<(String, String)> {
    let passthrough = [
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ];
    let mut env: Vec<(String, String)> = passthrough
        .iter()
        .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
        .collect();
    env.extend(
        [
            ("WECHAT_APP_ID", APP_ID),
            ("WECHAT_APP_SECRET", SECRET),
            ("TOKEN_SIGNING_KEY", KEY),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
            ("STATE_TABLE", table),
            ("WECHAT_OPEN_BASE", &wechat.base_url),
            ("WECHAT_API_BASE", &wechat.base_url),
            ("WECHAT_API_FALLBACK_BASES", "none"),
            ("RUST_LOG", "warn"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env
}

async fn measure(
    binary: &Path,
    env: &[(String, String)],
    runs: usize,
    invocations: usize,
    next_event: &mut dyn FnMut() -> serde_json::Value,
) -> Measured {
    let mut m = Measured {
        init: vec![],
        first: vec![],
        warm: vec![],
        rss_kib: vec![],
    };
    for _ in 0..runs {
        let spec = FunctionSpec::new("measured", binary).envs(env.iter().cloned());
        let environment = ExecutionEnvironment::spawn(spec).await.expect("spawn");
        match environment.wait_for_init(Duration::from_secs(30)).await {
            InitOutcome::Ready { init_duration } => m.init.push(init_duration),
            other => panic!(
                "{}: init failed: {other:?}\n{}",
                binary.display(),
                environment.logs().join("\n")
            ),
        }
        m.first.push(invoke(&environment, next_event()).await);
        let mut warm = Vec::new();
        for _ in 0..invocations {
            warm.push(invoke(&environment, next_event()).await);
        }
        m.warm.push(Summary::of(&warm).p50);
        m.rss_kib
            .push(peak_rss_kib(environment.pid().expect("a pid")));
        environment.shutdown();
        environment.wait_exit(Duration::from_secs(5)).await;
    }
    m
}

async fn invoke(environment: &ExecutionEnvironment, event: serde_json::Value) -> Duration {
    let invocation = environment.invoke(&event).await.expect("invoke");
    match &invocation.outcome {
        InvocationOutcome::Response(body) => {
            let response: serde_json::Value = serde_json::from_slice(body).unwrap();
            let status = response["statusCode"].as_i64().unwrap();
            assert!(
                status == 302 || status == 200,
                "unexpected answer {response}"
            );
        }
        InvocationOutcome::Error(e) => panic!("the function failed: {e:?}"),
    }
    invocation.duration
}

/// A callback event for a fresh login: state and cookie from the warm auth function, a
/// code minted by the simulator.
async fn callback_event(
    starter: &ExecutionEnvironment,
    sim: &WeChatSimulator,
    scope: Scope,
    path: &str,
) -> serde_json::Value {
    let started = starter
        .invoke(&auth_event(RETURN_URL, scope.as_str()))
        .await
        .expect("auth");
    let InvocationOutcome::Response(body) = started.outcome else {
        panic!("auth failed");
    };
    let response: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let location = response["headers"]["location"].as_str().unwrap();
    let state = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let cookie = wxauth_bench::cookie_pair(response["cookies"][0].as_str().unwrap());
    let code = sim.issue_code("coldstart-user", scope);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", &state)
        .finish();
    event(path, &query, Some(&cookie))
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}
