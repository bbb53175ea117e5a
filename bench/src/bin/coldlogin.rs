//! The cold login a WeChat user waits for (issue 13), measured with production's TLS and
//! Lambda's CPU model: `auth` cold (init + first invocation), then a callback cold, for
//! wxauth's functions and the Node.js baseline in the same run, at several memory sizes.
//!
//!   scripts/bench     (builds, starts DynamoDB Local, runs this in section 6)
//!   coldlogin --functions=DIR --node=DIR [--runs=10] [--memory=128,256,512,1024]
//!             [--cpu-model=cgroup|estimate] [--cpu-period-ms=100] [--warm-up=3000]
//!             [--rust-env=NAME=VALUE,…]   (e.g. INIT_WARM_UP=off: the run before that lever)
//!             [--warm-invocations=5] [--cold-share=0.05]
//!
//! - TLS: a CA made for this run; rustls terminators (bench/src/tls.rs) in front of DynamoDB
//!   Local and the WeChat simulator, at `https://localhost:PORT`. The functions trust the
//!   CA by configuration only: the AWS SDK through `SSL_CERT_FILE` (the system bundle laid
//!   out as on provided.al2023, plus the CA), the WeChat client through
//!   `WECHAT_API_EXTRA_CA_FILE`, Node.js through `NODE_EXTRA_CA_CERTS`. Before measuring,
//!   each is shown to fail without its setting (verification is on).
//! - CPU: init runs at full speed; when the runtime asks for its first event, the process
//!   is moved into a cgroup whose CFS quota is its memory's share of one CPU (1,769 MB =
//!   1 vCPU) per period (bench/src/cpu.rs). `--cpu-model=estimate`, for machines whose
//!   cgroups are not writable, runs unthrottled and *estimates* the first invocation as
//!   wall + CPU × (1/share − 1), labelled as such; the default refuses to run without
//!   cgroups.
//! - Per fresh process: init wall (spawn → first `/next`), init CPU (the process's CPU clock
//!   then), first-invocation wall and CPU, the TLS handshakes the terminators saw during it
//!   (accept → client's Finished) and the CFS throttling counters. Runs are interleaved
//!   (every run visits every size and function) so drift in the machine's load spreads
//!   evenly. Medians are reported; the modelled cold login is the sum of the medians of
//!   `auth`'s and the callback's init + first invocation (WeChat's own time excluded: the
//!   simulator answers at once).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use lambda_runtime_emulator::{ExecutionEnvironment, FunctionSpec, InitOutcome, InvocationOutcome};
use wechat_simulator::{Scope, SimulatorConfig, WeChatSimulator};
use wxauth_bench::cpu::{CpuLimiter, ThrottleStats, cpu_share, process_cpu_time};
use wxauth_bench::functions::{auth_event, event, node_version, ready, which_node};
use wxauth_bench::tls::{Handshake, Terminator, TestPki};
use wxauth_bench::{Summary, arg, create_state_table, ms};
use wxauth_lambda::functions::{AUTH, BASE_CALLBACK, USERINFO_CALLBACK};

const APP_ID: &str = "wxc01d500000000000";
const SECRET: &str = "coldlogin-app-secret-0123";
const KEY: &str = "coldlogin-signing-key-0123456789abcdef";
const RETURN_URL: &str = "https://app.example.com/after";

/// Published figures the model is compared with (docs/reference.md, "AWS").
/// maxday/lambda-perf, arm64, 2026-07/08 medians of init duration: Rust and Node.js 24.
const PUBLISHED_RUST_INIT_MS: f64 = 13.8;
const PUBLISHED_NODE_INIT_MS: f64 = 120.0;
/// A Rust function's first DynamoDB call at 128 MB: time spent in the TLS handshake.
const PUBLISHED_TLS_128_MS: f64 = 745.0;
/// Lambda's prices, us-east-1 (docs/reference.md, "AWS"): per GB-second on arm64 (init is
/// billed too) and per request.
const PRICE_PER_GB_SECOND_ARM64: f64 = 0.000_013_333_4;
const PRICE_PER_REQUEST: f64 = 0.20 / 1e6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Function {
    Auth,
    BaseCallback,
    UserinfoCallback,
    NodeAuth,
    NodeCallback,
}

const FUNCTIONS: [Function; 5] = [
    Function::Auth,
    Function::BaseCallback,
    Function::UserinfoCallback,
    Function::NodeAuth,
    Function::NodeCallback,
];

impl Function {
    fn label(self) -> &'static str {
        match self {
            Self::Auth => "auth (Rust)",
            Self::BaseCallback => "base-callback (Rust)",
            Self::UserinfoCallback => "userinfo-callback (Rust)",
            Self::NodeAuth => "auth (Node.js)",
            Self::NodeCallback => "base callback (Node.js)",
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Sample {
    init_wall: Duration,
    init_cpu: Duration,
    /// TLS handshakes completed during init (the warm-up's, unthrottled).
    init_handshakes: Vec<Duration>,
    first_wall: Duration,
    first_cpu: Duration,
    /// The first invocation's handshakes.
    handshakes: Vec<Duration>,
    throttle: ThrottleStats,
    /// The median wall time of the invocations after the first (same process, same quota).
    warm_wall: Duration,
    warm_cpu: Duration,
    /// Handshakes during those: 0 when the connections are kept alive.
    warm_handshakes: usize,
}

struct Setup {
    functions: PathBuf,
    node_dir: PathBuf,
    node: String,
    rust_env: Vec<(String, String)>,
    node_env: Vec<(String, String)>,
    sim: WeChatSimulator,
    dynamo_tls: Terminator,
    wechat_tls: Terminator,
    /// Warm environments that hand out the states the callbacks consume.
    rust_starter: ExecutionEnvironment,
    node_starter: ExecutionEnvironment,
    limiter: Option<CpuLimiter>,
    warm_invocations: usize,
    cold_share: f64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let functions: PathBuf = arg("functions", PathBuf::from("target/release"));
    let node_dir: PathBuf = arg("node", PathBuf::from("bench/node-auth"));
    let runs: usize = arg("runs", 10);
    let memory: String = arg("memory", "128,256,512,1024".to_owned());
    let cpu_model: String = arg("cpu-model", "cgroup".to_owned());
    let period_ms: u64 = arg("cpu-period-ms", 100);
    let warm_up: usize = arg("warm-up", 3000);
    let extra_rust_env: String = arg("rust-env", String::new());
    let warm_invocations: usize = arg("warm-invocations", 5);
    let cold_share: f64 = arg("cold-share", 0.05);
    assert!(warm_invocations > 0 && (0.0..=1.0).contains(&cold_share));
    let sizes: Vec<u32> = memory
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("--memory: sizes in MB, comma-separated")
        })
        .collect();
    assert!(runs > 0 && !sizes.is_empty());

    let limiter = match cpu_model.as_str() {
        "cgroup" => Some(
            CpuLimiter::new(Duration::from_millis(period_ms)).unwrap_or_else(|why| {
                eprintln!(
                    "coldlogin: Lambda's CPU share cannot be applied here: {why}.\n\
                     Rerun with --cpu-model=estimate (BENCH_CPU_MODEL=estimate scripts/bench) \
                     for estimated, not measured, first invocations."
                );
                std::process::exit(2);
            }),
        ),
        "estimate" => None,
        other => panic!("--cpu-model={other}: cgroup or estimate"),
    };

    let dynamo_http = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("AWS_ENDPOINT_URL_DYNAMODB is not set: run scripts/bench");
    let dynamo_upstream = plain_http_address(&dynamo_http);
    for binary in [AUTH.name, BASE_CALLBACK.name, USERINFO_CALLBACK.name] {
        let path = functions.join(binary);
        assert!(path.is_file(), "{} is missing: build it", path.display());
    }
    for file in ["bootstrap", "callback-bootstrap", "node_modules"] {
        let path = node_dir.join(file);
        assert!(
            path.exists(),
            "{} is missing (npm ci in it)",
            path.display()
        );
    }
    let node = which_node();

    let work = TempDir::new("wxauth-coldlogin");
    println!("test CA: generating RSA-2048 root, intermediate and leaf for localhost");
    let pki = TestPki::generate(&work.0);
    let certs = lambda_like_certs(&work.0, Some(&pki.ca_pem));
    let certs_without_ca = lambda_like_certs(&work.0.join("without-ca"), None);

    let sim = WeChatSimulator::new(SimulatorConfig::new(APP_ID, SECRET));
    let wechat = sim.serve_on_loopback().await.expect("the WeChat simulator");
    let dynamo_tls = pki.terminate(dynamo_upstream).await;
    let wechat_tls = pki.terminate(plain_http_address(&wechat.base_url)).await;
    let table = format!("wxauth-coldlogin-{}", std::process::id());
    create_state_table(&table).await;

    let mut rust_env = base_env(&table, &dynamo_tls, &wechat_tls);
    rust_env.extend(certs.clone());
    for pair in extra_rust_env.split(',').filter(|p| !p.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .expect("--rust-env: NAME=VALUE, comma-separated");
        println!("Rust functions: {name}={value}");
        rust_env.push((name.to_owned(), value.to_owned()));
    }
    rust_env.push((
        "WECHAT_API_EXTRA_CA_FILE".into(),
        pki.ca_pem_path.display().to_string(),
    ));
    let mut node_env = base_env(&table, &dynamo_tls, &wechat_tls);
    node_env.extend(certs.clone());
    node_env.push(("NODE_BINARY".into(), node.clone()));
    node_env.push((
        "NODE_EXTRA_CA_CERTS".into(),
        pki.ca_pem_path.display().to_string(),
    ));

    let rust_starter =
        ready(FunctionSpec::new("starter", functions.join(AUTH.name)).envs(rust_env.clone())).await;
    let node_starter =
        ready(FunctionSpec::new("node-starter", node_dir.join("bootstrap")).envs(node_env.clone()))
            .await;
    let setup = Setup {
        functions,
        node_dir,
        node,
        rust_env,
        node_env,
        sim,
        dynamo_tls,
        wechat_tls,
        rust_starter,
        node_starter,
        limiter,
        warm_invocations,
        cold_share,
    };

    println!("controls: each function refuses the endpoints without its trust setting");
    controls(&setup, &certs_without_ca).await;

    // DynamoDB Local is a JVM whose first thousands of requests run slower (coldstart.rs).
    for _ in 0..warm_up {
        invoke_ok(&setup.rust_starter, &auth_event(RETURN_URL, "snsapi_base")).await;
    }
    setup.dynamo_tls.take_handshakes();
    setup.wechat_tls.take_handshakes();

    println!(
        "cold login: {runs} fresh processes per function and memory size, interleaved; \
         memory sizes {sizes:?} MB"
    );
    match &setup.limiter {
        Some(limiter) => println!(
            "CPU model: measured; init unthrottled, then {} with a {} ms period",
            limiter.describe(),
            limiter.period().as_millis()
        ),
        None => println!(
            "CPU model: ESTIMATED (--cpu-model=estimate): every process ran at full CPU; \
             first invocations below are wall + CPU x (1/share - 1), not measurements"
        ),
    }

    let mut samples: Vec<Vec<Vec<Sample>>> = vec![vec![Vec::new(); FUNCTIONS.len()]; sizes.len()];
    for run in 0..runs {
        for (s, &mb) in sizes.iter().enumerate() {
            for (f, &function) in FUNCTIONS.iter().enumerate() {
                samples[s][f].push(measure(&setup, function, mb).await);
            }
        }
        eprintln!("  run {}/{runs} done", run + 1);
    }

    println!("\nnode {}", node_version(&setup.node));
    report(&setup, &sizes, &samples);
    drop(setup);
}

/// A fresh login step for `function`.
async fn event_for(setup: &Setup, function: Function) -> serde_json::Value {
    match function {
        Function::Auth | Function::NodeAuth => auth_event(RETURN_URL, "snsapi_base"),
        Function::BaseCallback => callback_event(setup, false, Scope::Base).await,
        Function::UserinfoCallback => callback_event(setup, false, Scope::UserInfo).await,
        Function::NodeCallback => callback_event(setup, true, Scope::Base).await,
    }
}

/// One fresh process of `function` at `memory_mb`: init, the first invocation, then
/// `warm_invocations` more under the same quota.
async fn measure(setup: &Setup, function: Function, memory_mb: u32) -> Sample {
    let event = event_for(setup, function).await;
    let (binary, env) = spec_of(setup, function);
    let mut spec =
        FunctionSpec::new(format!("measured-{memory_mb}"), binary).envs(env.iter().cloned());
    spec.memory_mb = memory_mb;
    setup.dynamo_tls.take_handshakes();
    setup.wechat_tls.take_handshakes();

    let environment = ExecutionEnvironment::spawn(spec).await.expect("spawn");
    let init_wall = match environment.wait_for_init(Duration::from_secs(30)).await {
        InitOutcome::Ready { init_duration } => init_duration,
        other => panic!(
            "{}: init failed: {other:?}\n{}",
            function.label(),
            environment.logs().join("\n")
        ),
    };
    let pid = environment.pid().expect("a pid");
    // The runtime now waits on /next: its CPU clock is init's.
    let init_cpu = process_cpu_time(pid).expect("the function's CPU clock");
    let init_handshakes: Vec<Duration> = setup
        .dynamo_tls
        .take_handshakes()
        .into_iter()
        .chain(setup.wechat_tls.take_handshakes())
        .map(|h| h.duration)
        .collect();
    let throttled = setup.limiter.as_ref().map(|limiter| {
        limiter
            .throttle(pid, memory_mb)
            .unwrap_or_else(|e| panic!("cannot throttle {pid}: {e}"))
    });
    let invocation = environment.invoke(&event).await.expect("invoke");
    check_answer(function, &invocation.outcome, &environment);
    let first_cpu = process_cpu_time(pid).expect("the function's CPU clock") - init_cpu;
    let throttle = throttled
        .as_ref()
        .map(|t| t.stats().expect("cpu.stat"))
        .unwrap_or_default();
    let mut handshakes = Vec::new();
    for h in setup
        .dynamo_tls
        .take_handshakes()
        .into_iter()
        .chain(setup.wechat_tls.take_handshakes())
    {
        let Handshake { duration, result } = h;
        if let Err(e) = result {
            panic!("{}: a TLS handshake failed: {e}", function.label());
        }
        handshakes.push(duration);
    }
    // Warm invocations: each needs its own started login (the starter makes it, outside
    // the measured process, whose CPU clock is read around its invocations only).
    let mut warm_walls = Vec::new();
    let mut warm_cpu = Duration::ZERO;
    for _ in 0..setup.warm_invocations {
        let event = event_for(setup, function).await;
        let before = process_cpu_time(pid).expect("the function's CPU clock");
        let invocation = environment.invoke(&event).await.expect("invoke");
        let cpu = process_cpu_time(pid).expect("the function's CPU clock") - before;
        warm_cpu += cpu;
        check_answer(function, &invocation.outcome, &environment);
        warm_walls.push(match setup.limiter {
            Some(_) => invocation.duration,
            None => invocation.duration + cpu.mul_f64(1.0 / cpu_share(memory_mb).min(1.0) - 1.0),
        });
    }
    let warm_handshakes =
        setup.dynamo_tls.take_handshakes().len() + setup.wechat_tls.take_handshakes().len();
    environment.shutdown();
    environment.wait_exit(Duration::from_secs(5)).await;
    if let Some(t) = throttled {
        t.remove().expect("remove the function's cgroup");
    }
    let first_wall = match setup.limiter {
        Some(_) => invocation.duration,
        None => invocation.duration + first_cpu.mul_f64(1.0 / cpu_share(memory_mb).min(1.0) - 1.0),
    };
    Sample {
        init_wall,
        init_cpu,
        init_handshakes,
        first_wall,
        first_cpu,
        handshakes,
        throttle,
        warm_wall: Summary::of(&warm_walls).p50,
        warm_cpu: warm_cpu / setup.warm_invocations as u32,
        warm_handshakes,
    }
}

fn spec_of(setup: &Setup, function: Function) -> (PathBuf, &[(String, String)]) {
    match function {
        Function::Auth => (setup.functions.join(AUTH.name), &setup.rust_env),
        Function::BaseCallback => (setup.functions.join(BASE_CALLBACK.name), &setup.rust_env),
        Function::UserinfoCallback => (
            setup.functions.join(USERINFO_CALLBACK.name),
            &setup.rust_env,
        ),
        Function::NodeAuth => (setup.node_dir.join("bootstrap"), &setup.node_env),
        Function::NodeCallback => (setup.node_dir.join("callback-bootstrap"), &setup.node_env),
    }
}

fn check_answer(function: Function, outcome: &InvocationOutcome, env: &ExecutionEnvironment) {
    assert!(
        succeeded(outcome),
        "{}: expected a successful login step, got {}\n{}",
        function.label(),
        describe(outcome),
        env.logs().join("\n")
    );
}

/// A 302 whose location carries no `error` (a callback that could not reach WeChat or
/// DynamoDB also redirects, to the return URL with `error=temporarily_unavailable`).
fn succeeded(outcome: &InvocationOutcome) -> bool {
    let InvocationOutcome::Response(body) = outcome else {
        return false;
    };
    let Ok(response) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let location = response["headers"]["location"].as_str().unwrap_or_default();
    response["statusCode"] == 302
        && url::Url::parse(location).is_ok_and(|u| !u.query_pairs().any(|(k, _)| k == "error"))
}

fn describe(outcome: &InvocationOutcome) -> String {
    match outcome {
        InvocationOutcome::Response(body) => String::from_utf8_lossy(body).into_owned(),
        InvocationOutcome::Error(e) => format!("{e:?}"),
    }
}

/// Each trust setting is what makes its handshakes succeed: without it the first
/// invocation fails and the terminator saw a refused handshake.
async fn controls(setup: &Setup, certs_without_ca: &[(String, String)]) {
    let without = |env: &[(String, String)], drop: &[&str], extra: &[(String, String)]| {
        env.iter()
            .filter(|(k, _)| !drop.contains(&k.as_str()))
            .cloned()
            .chain(extra.iter().cloned())
            .collect::<Vec<_>>()
    };
    let cases = [
        (
            Function::Auth,
            "AWS SDK (DynamoDB) without the CA in SSL_CERT_FILE",
            without(
                &setup.rust_env,
                &["SSL_CERT_FILE", "SSL_CERT_DIR"],
                certs_without_ca,
            ),
        ),
        (
            Function::BaseCallback,
            "WeChat client without WECHAT_API_EXTRA_CA_FILE",
            without(&setup.rust_env, &["WECHAT_API_EXTRA_CA_FILE"], &[]),
        ),
        (
            Function::NodeAuth,
            "Node.js AWS SDK v3 without NODE_EXTRA_CA_CERTS",
            without(&setup.node_env, &["NODE_EXTRA_CA_CERTS"], &[]),
        ),
    ];
    for (function, what, env) in cases {
        let event = match function {
            Function::BaseCallback => callback_event(setup, false, Scope::Base).await,
            _ => auth_event(RETURN_URL, "snsapi_base"),
        };
        let binary = spec_of(setup, function).0;
        setup.dynamo_tls.take_handshakes();
        setup.wechat_tls.take_handshakes();
        let environment = ready(FunctionSpec::new("control", binary).envs(env)).await;
        let outcome = environment.invoke(&event).await.map(|i| i.outcome);
        let refused: Vec<Handshake> = setup
            .dynamo_tls
            .take_handshakes()
            .into_iter()
            .chain(setup.wechat_tls.take_handshakes())
            .filter(|h| h.result.is_err())
            .collect();
        let failed = match &outcome {
            Ok(o) => !succeeded(o),
            Err(_) => true,
        };
        assert!(
            failed && !refused.is_empty(),
            "control failed: {what} still worked ({}, {} refused handshakes): the \
             endpoints are not verified as the benchmark assumes",
            outcome
                .as_ref()
                .map(describe)
                .unwrap_or_else(|e| e.to_string()),
            refused.len()
        );
        println!(
            "  {what}: refused ({})",
            refused[0].result.as_ref().unwrap_err()
        );
    }
    // And with every setting in place, the same functions succeed (checked per process
    // while measuring).
}

fn report(setup: &Setup, sizes: &[u32], samples: &[Vec<Vec<Sample>>]) {
    let p50 = |v: Vec<Duration>| Summary::of(&v).p50;
    let estimated = setup.limiter.is_none();
    let mut cold_rows = Vec::new();
    for (s, &mb) in sizes.iter().enumerate() {
        let share = cpu_share(mb);
        match &setup.limiter {
            Some(limiter) => println!(
                "\n== {mb} MB: {:.1} % of a CPU (quota {:.2} ms per {} ms period)",
                share * 100.0,
                ms(limiter.quota(mb)),
                limiter.period().as_millis()
            ),
            None => println!(
                "\n== {mb} MB: {:.1} % of a CPU (ESTIMATED, not throttled)",
                share * 100.0
            ),
        }
        println!(
            "{:<26} {:>9} {:>9} {:>10} {:>10} {:>10} {:>13} {:>9}",
            "medians (ms)",
            "init",
            "init CPU",
            if estimated { "first(est)" } else { "first" },
            "first CPU",
            "TLS hs",
            "throttled",
            "cold"
        );
        let mut cold = Vec::new();
        let mut first_cpu = Vec::new();
        for (f, &function) in FUNCTIONS.iter().enumerate() {
            let m = &samples[s][f];
            let init = p50(m.iter().map(|x| x.init_wall).collect());
            let first = p50(m.iter().map(|x| x.first_wall).collect());
            let fcpu = p50(m.iter().map(|x| x.first_cpu).collect());
            let handshakes: Vec<Duration> = m.iter().flat_map(|x| x.handshakes.clone()).collect();
            let hs_per_process = handshakes.len() as f64 / m.len() as f64;
            let hs = if handshakes.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.1} ({hs_per_process:.0}x)", ms(p50(handshakes)))
            };
            let mut throttled: Vec<u64> = m.iter().map(|x| x.throttle.throttled_periods).collect();
            throttled.sort();
            let throttled_time = p50(m.iter().map(|x| x.throttle.throttled_time).collect());
            println!(
                "{:<26} {:>9.2} {:>9.2} {:>10.2} {:>10.2} {:>10} {:>13} {:>9.2}",
                function.label(),
                ms(init),
                ms(p50(m.iter().map(|x| x.init_cpu).collect())),
                ms(first),
                ms(fcpu),
                hs,
                format!(
                    "{} / {:.0} ms",
                    throttled[throttled.len() / 2],
                    ms(throttled_time)
                ),
                ms(init + first)
            );
            let firsts: Vec<Duration> = m.iter().map(|x| x.first_wall).collect();
            let spread = Summary::of(&firsts);
            let init_hs: usize = m.iter().map(|x| x.init_handshakes.len()).sum();
            let warm_hs: usize = m.iter().map(|x| x.warm_handshakes).sum();
            println!(
                "{:<26} first invocation min {:.2} max {:.2} (n={}); handshakes in init {:.1}/process; \
                 warm {:.2} ms ({:.2} ms CPU), handshakes when warm {warm_hs}",
                "",
                ms(spread.min),
                ms(spread.max),
                spread.count,
                init_hs as f64 / m.len() as f64,
                ms(p50(m.iter().map(|x| x.warm_wall).collect())),
                ms(p50(m.iter().map(|x| x.warm_cpu).collect())),
            );
            cold.push(init + first);
            first_cpu.push(fcpu);
        }
        let rust_base = cold[0] + cold[1];
        let rust_userinfo = cold[0] + cold[2];
        let node = cold[3] + cold[4];
        let rust_cpu = first_cpu[0] + first_cpu[1];
        let node_cpu = first_cpu[3] + first_cpu[4];
        println!("modelled cold login (auth cold + callback cold, medians):");
        println!(
            "  Rust snsapi_base {:.1} ms, snsapi_userinfo {:.1} ms; Node.js snsapi_base {:.1} ms; \
             ratio (base) {:.3}",
            ms(rust_base),
            ms(rust_userinfo),
            ms(node),
            ms(rust_base) / ms(node)
        );
        println!(
            "  first-invocation CPU, both functions: Rust {:.2} ms, Node.js {:.2} ms; ratio {:.3}",
            ms(rust_cpu),
            ms(node_cpu),
            ms(rust_cpu) / ms(node_cpu)
        );
        cold_rows.push((mb, rust_base, rust_userinfo, node, rust_cpu, node_cpu));
    }

    println!(
        "\nsummary (medians, ms){}",
        if estimated {
            ", ESTIMATED first invocations"
        } else {
            ""
        }
    );
    println!(
        "{:>6} {:>14} {:>18} {:>14} {:>7} {:>18} {:>7}",
        "MB", "cold login Rust", "(userinfo)", "Node.js", "ratio", "1st-inv CPU R/N", "ratio"
    );
    for (mb, rb, ru, n, rc, nc) in &cold_rows {
        println!(
            "{:>6} {:>14.1} {:>18.1} {:>14.1} {:>7.3} {:>10.2} / {:<6.2} {:>7.3}",
            mb,
            ms(*rb),
            ms(*ru),
            ms(*n),
            ms(*rb) / ms(*n),
            ms(*rc),
            ms(*nc),
            ms(*rc) / ms(*nc)
        );
    }

    cost_model(setup, sizes, samples);

    // Against published figures.
    let smallest = 0;
    let auth = &samples[smallest][0];
    let node_auth = &samples[smallest][3];
    let rust_init = p50(auth.iter().map(|x| x.init_wall).collect());
    let node_init = p50(node_auth.iter().map(|x| x.init_wall).collect());
    println!("\nagainst published figures (docs/reference.md):");
    println!(
        "  init, Rust / Node.js: model {:.2} / {:.1} ms = {:.3}; lambda-perf (arm64, hello world, \
         Node.js 24) {PUBLISHED_RUST_INIT_MS} / {PUBLISHED_NODE_INIT_MS} ms = {:.3}; the model's \
         Rust init is {:.2}x, its Node.js init {:.2}x the published",
        ms(rust_init),
        ms(node_init),
        ms(rust_init) / ms(node_init),
        PUBLISHED_RUST_INIT_MS / PUBLISHED_NODE_INIT_MS,
        ms(rust_init) / PUBLISHED_RUST_INIT_MS,
        ms(node_init) / PUBLISHED_NODE_INIT_MS
    );
    if sizes[smallest] == 128 {
        // With init-time warm-up the first DynamoDB handshake happens in init, unthrottled.
        let in_first: Vec<Duration> = auth.iter().flat_map(|x| x.handshakes.clone()).collect();
        let (handshake, when) = if in_first.is_empty() {
            let in_init = auth
                .iter()
                .flat_map(|x| x.init_handshakes.clone())
                .collect();
            (p50(in_init), " (made during init, unthrottled)")
        } else {
            (p50(in_first), "")
        };
        let first = p50(auth.iter().map(|x| x.first_wall).collect());
        println!(
            "  first DynamoDB call at 128 MB: the model's handshake {:.1} ms{when}, whole first \
             invocation {:.1} ms{}; published handshake {PUBLISHED_TLS_128_MS} ms: the model is \
             {:.3}x (handshake) / {:.3}x (invocation) of it",
            ms(handshake),
            ms(first),
            if estimated { " (estimated)" } else { "" },
            ms(handshake) / PUBLISHED_TLS_128_MS,
            ms(first) / PUBLISHED_TLS_128_MS
        );
    } else {
        println!("  (the 128 MB TLS figure is compared only when 128 MB is the first size)");
    }
}

/// Lambda's bill for a million logins (`auth` + `base-callback`) at each size: requests
/// plus GB-seconds at arm64 prices, each invocation billed by the millisecond (rounded
/// up), warm ones at their measured median and a `cold_share` of them cold (init, which is
/// billed, plus the first invocation). Beside it the cold login a visitor waits for. API
/// Gateway ($1.00 per million requests) and DynamoDB do not depend on the size.
fn cost_model(setup: &Setup, sizes: &[u32], samples: &[Vec<Vec<Sample>>]) {
    let p50 = |v: Vec<Duration>| Summary::of(&v).p50;
    let billed = |d: Duration| (d.as_secs_f64() * 1000.0).ceil() / 1000.0;
    let c = setup.cold_share;
    println!(
        "\ncost model: Lambda's bill per million logins (auth + base-callback), arm64, \
         {:.0} % of invocations cold{}",
        c * 100.0,
        if setup.limiter.is_none() {
            " (ESTIMATED durations)"
        } else {
            ""
        }
    );
    println!(
        "{:>6} {:>12} {:>12} {:>14} {:>14} {:>16}",
        "MB", "warm auth", "warm cb", "cold login", "$ / M logins", "of which GB-s"
    );
    for (s, &mb) in sizes.iter().enumerate() {
        let gb = f64::from(mb) / 1024.0;
        let mut seconds = 0.0;
        let mut cold_login = Duration::ZERO;
        for f in [0, 1] {
            let m = &samples[s][f];
            let warm = billed(p50(m.iter().map(|x| x.warm_wall).collect()));
            let init = p50(m.iter().map(|x| x.init_wall).collect());
            let first = p50(m.iter().map(|x| x.first_wall).collect());
            cold_login += init + first;
            seconds += (1.0 - c) * warm + c * (billed(init) + billed(first));
        }
        let gb_s_cost = gb * seconds * PRICE_PER_GB_SECOND_ARM64 * 1e6;
        let total = gb_s_cost + 2.0 * PRICE_PER_REQUEST * 1e6;
        println!(
            "{:>6} {:>9.2} ms {:>9.2} ms {:>11.1} ms {:>14.4} {:>16.4}",
            mb,
            ms(p50(samples[s][0].iter().map(|x| x.warm_wall).collect())),
            ms(p50(samples[s][1].iter().map(|x| x.warm_wall).collect())),
            ms(cold_login),
            total,
            gb_s_cost
        );
    }
}

fn base_env(table: &str, dynamo: &Terminator, wechat: &Terminator) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> =
        ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
            .iter()
            .map(|name| {
                let value = std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
                (name.to_string(), value)
            })
            .collect();
    env.extend(
        [
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamo.base_url()),
            ("WECHAT_APP_ID", APP_ID.into()),
            ("WECHAT_APP_SECRET", SECRET.into()),
            ("TOKEN_SIGNING_KEY", KEY.into()),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com".into()),
            ("STATE_TABLE", table.into()),
            ("WECHAT_OPEN_BASE", wechat.base_url()),
            ("WECHAT_API_BASE", wechat.base_url()),
            ("WECHAT_API_FALLBACK_BASES", "none".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    env
}

/// `host:port` of a plain `http://` URL.
fn plain_http_address(url: &str) -> SocketAddr {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(
        parsed.scheme(),
        "http",
        "{url}: expected plain HTTP upstream"
    );
    let host = parsed.host_str().expect("a host");
    let port = parsed.port_or_known_default().expect("a port");
    (host, port)
        .to_socket_addrs()
        .expect("resolve the upstream")
        .next()
        .expect("an address")
}

/// A folder removed when the run ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The system's CA bundle laid out as on provided.al2023 (one file, no hashed folder; see
/// coldstart.rs), with `extra` (the test CA) appended: `SSL_CERT_FILE` and `SSL_CERT_DIR`.
fn lambda_like_certs(dir: &Path, extra: Option<&str>) -> Vec<(String, String)> {
    let dir = dir.join("certs");
    std::fs::create_dir_all(&dir).expect("a certificate folder");
    let bundle = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("the system's CA bundle");
    let mut text = std::fs::read_to_string(bundle).expect("read the CA bundle");
    if let Some(extra) = extra {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(extra);
    }
    let copy = dir.join("ca-bundle.crt");
    std::fs::write(&copy, text).expect("write the CA bundle");
    vec![
        ("SSL_CERT_FILE".to_owned(), copy.display().to_string()),
        ("SSL_CERT_DIR".to_owned(), dir.display().to_string()),
    ]
}

async fn invoke_ok(
    environment: &ExecutionEnvironment,
    event: &serde_json::Value,
) -> serde_json::Value {
    let invocation = environment.invoke(event).await.expect("invoke");
    match invocation.outcome {
        InvocationOutcome::Response(body) => {
            let response: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(response["statusCode"], 302, "unexpected answer {response}");
            response
        }
        InvocationOutcome::Error(e) => panic!(
            "the starter failed: {e:?}\n{}",
            environment.logs().join("\n")
        ),
    }
}

/// A callback event for a fresh login: state (and, for wxauth, the binding cookie) from a
/// warm auth environment of the same implementation, a code minted by the simulator.
async fn callback_event(setup: &Setup, node: bool, scope: Scope) -> serde_json::Value {
    let starter = if node {
        &setup.node_starter
    } else {
        &setup.rust_starter
    };
    let response = invoke_ok(starter, &auth_event(RETURN_URL, scope.as_str())).await;
    let location = response["headers"]["location"]
        .as_str()
        .expect("a location");
    let state = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("a state")
        .1
        .into_owned();
    let cookie = response["cookies"][0]
        .as_str()
        .map(wxauth_bench::cookie_pair);
    let code = setup.sim.issue_code("coldlogin-user", scope);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", &state)
        .finish();
    let path = match scope {
        Scope::Base => "/getOpenId",
        Scope::UserInfo => "/getWxUserInfo",
        Scope::Login => "/getQrUserInfo",
    };
    event(path, &query, cookie.as_deref())
}
