//! wxauth's OpenID Provider against Node.js's certified `oidc-provider`, same machine, same
//! run, same load: token redemptions per second at a fixed concurrency and CPU time per
//! redemption, discovery and userinfo requests per second; medians over several runs.
//!
//!   scripts/bench                      # section 7 runs this
//!   oidc --server=PATH/wxauth-local --node=bench/node-oidc [--runs=5] [--batches=10]
//!        [--batch=100] [--concurrency=16] [--seconds=2] [--algs=RS256,ES256]
//!        [--auth=basic|post] [--pin=on|off]
//!
//! With `--pin=on` (the default on two or more CPUs) each provider runs on CPU 1 alone and
//! this load generator on CPU 0, so both providers get one core, whatever their threads.
//! Codes are minted before each batch is timed (`bench/src/oidc/mint.rs`); a batch is
//! small because oidc-provider's in-memory adapter is an LRU of about 1,000 entries
//! (several per login), which would forget older codes. Every redemption is a real one:
//! client authentication, the code's single use, PKCE S256, two tokens signed.

use std::path::PathBuf;
use std::time::Duration;

use wxauth_bench::arg;
use wxauth_bench::oidc::load::{Phase, redeem, repeat};
use wxauth_bench::oidc::mint::mint;
use wxauth_bench::oidc::pin_current_process;
use wxauth_bench::oidc::provider::{AuthMethod, Kind, Provider, start};
use wxauth_core::oidc::keys::SigningKeys;

struct Settings {
    runs: usize,
    batches: usize,
    batch: usize,
    concurrency: usize,
    seconds: f64,
    auth: AuthMethod,
}

/// One run's figures for one provider.
#[derive(Clone, Copy)]
struct Round {
    token: Phase,
    discovery: Phase,
    userinfo: Phase,
}

fn main() {
    let pin = arg("pin", String::from("on")) == "on"
        && std::thread::available_parallelism().map_or(1, usize::from) >= 2;
    if pin {
        pin_current_process(0);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run(pin));
}

async fn run(pin: bool) {
    let server = PathBuf::from(arg("server", String::from("target/release/wxauth-local")));
    let node = PathBuf::from(arg("node", String::from("bench/node-oidc")));
    let settings = Settings {
        runs: arg("runs", 5),
        batches: arg("batches", 10),
        batch: arg("batch", 100),
        concurrency: arg("concurrency", 16),
        seconds: arg("seconds", 2.0),
        auth: AuthMethod::parse(&arg("auth", String::from("basic"))),
    };
    let algs: String = arg("algs", String::from("RS256,ES256"));
    let keys = KeyPems::generate();
    let cpu = pin.then_some(1);
    let mut providers = Vec::new();
    for alg in algs.split(',') {
        for kind in [Kind::Wxauth, Kind::Node] {
            let (alg, pem) = keys.of(alg, kind);
            providers.push(start(kind, alg, &pem, settings.auth, &server, &node, cpu).await);
        }
    }
    println!(
        "oidc: {} runs; token: {} batches of {} codes each, {} requests in flight, {}; discovery and userinfo: {} s each at the same concurrency; {}",
        settings.runs,
        settings.batches,
        settings.batch,
        settings.concurrency,
        settings.auth.name(),
        settings.seconds,
        if pin {
            "each provider on CPU 1 alone, this load generator on CPU 0"
        } else {
            "not pinned"
        }
    );
    let client = wxauth_bench::browser();
    // Warm-up: connections, the simulator, Node's JIT.
    let warm_up = Settings {
        runs: 1,
        batches: 3,
        seconds: 0.5,
        ..settings
    };
    for provider in &providers {
        round(provider, &client, &warm_up).await;
    }
    let mut rounds: Vec<Vec<Round>> = vec![Vec::new(); providers.len()];
    for run in 0..settings.runs {
        // Alternate the order, so a change in the machine's load spreads over all.
        for step in 0..providers.len() {
            let index = (step + run) % providers.len();
            let figures = round(&providers[index], &client, &settings).await;
            println!(
                "run {} {:<20} token {:>7.0}/s {:>6.0} µs CPU (busy {:.2}, load {:.2})  discovery {:>7.0}/s {:>5.0} µs  userinfo {:>7.0}/s {:>5.0} µs",
                run + 1,
                providers[index].label(),
                figures.token.per_second(),
                figures.token.server_cpu_us(),
                figures.token.server_busy(),
                figures.token.load_busy(),
                figures.discovery.per_second(),
                figures.discovery.server_cpu_us(),
                figures.userinfo.per_second(),
                figures.userinfo.server_cpu_us(),
            );
            rounds[index].push(figures);
        }
    }
    report(&providers, &rounds);
}

/// Token batches, then discovery, then userinfo with the last batch's access tokens.
async fn round(provider: &Provider, client: &reqwest::Client, settings: &Settings) -> Round {
    let mut token = Phase::default();
    let mut access_tokens = Vec::new();
    for _ in 0..settings.batches {
        let codes = mint(provider, client, settings.batch, settings.concurrency).await;
        let (phase, tokens) =
            redeem(provider, client, codes, settings.concurrency, settings.auth).await;
        token.add(phase);
        access_tokens = tokens;
    }
    let duration = Duration::from_secs_f64(settings.seconds);
    let url = provider.discovery_url();
    let discovery = repeat(
        provider,
        client,
        settings.concurrency,
        duration,
        move |c, _| c.get(&url),
    )
    .await;
    let url = provider.userinfo_url();
    let userinfo = repeat(
        provider,
        client,
        settings.concurrency,
        duration,
        move |c, n| {
            c.get(&url)
                .bearer_auth(&access_tokens[n % access_tokens.len()])
        },
    )
    .await;
    Round {
        token,
        discovery,
        userinfo,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The medians of one provider's runs.
struct Medians {
    token_per_s: f64,
    token_cpu_us: f64,
    discovery_per_s: f64,
    discovery_cpu_us: f64,
    userinfo_per_s: f64,
    userinfo_cpu_us: f64,
}

impl Medians {
    fn of(rounds: &[Round]) -> Self {
        let m = |f: fn(&Round) -> f64| median(rounds.iter().map(f).collect());
        Self {
            token_per_s: m(|r| r.token.per_second()),
            token_cpu_us: m(|r| r.token.server_cpu_us()),
            discovery_per_s: m(|r| r.discovery.per_second()),
            discovery_cpu_us: m(|r| r.discovery.server_cpu_us()),
            userinfo_per_s: m(|r| r.userinfo.per_second()),
            userinfo_cpu_us: m(|r| r.userinfo.server_cpu_us()),
        }
    }
}

fn report(providers: &[Provider], rounds: &[Vec<Round>]) {
    let medians: Vec<Medians> = rounds.iter().map(|r| Medians::of(r)).collect();
    println!();
    println!("== medians over {} runs", rounds[0].len());
    println!(
        "{:<22} {:>10} {:>14} {:>12} {:>10} {:>12} {:>10}",
        "provider", "token/s", "CPU/redeem µs", "discovery/s", "CPU µs", "userinfo/s", "CPU µs"
    );
    for (provider, m) in providers.iter().zip(&medians) {
        println!(
            "{:<22} {:>10.0} {:>14.0} {:>12.0} {:>10.1} {:>12.0} {:>10.1}",
            provider.label(),
            m.token_per_s,
            m.token_cpu_us,
            m.discovery_per_s,
            m.discovery_cpu_us,
            m.userinfo_per_s,
            m.userinfo_cpu_us
        );
    }
    println!();
    println!(
        "== ratios, wxauth / oidc-provider (target: token/s >= 3, CPU per redemption <= 0.333 with RS256)"
    );
    let find = |kind: Kind, alg: &str| {
        providers
            .iter()
            .position(|p| p.kind == kind && p.alg == alg)
            .map(|i| &medians[i])
    };
    let pairs = [("RS256", "RS256"), ("ES256", "ES256"), ("ES256", "RS256")];
    for (ours, theirs) in pairs {
        let (Some(w), Some(n)) = (find(Kind::Wxauth, ours), find(Kind::Node, theirs)) else {
            continue;
        };
        println!(
            "wxauth {ours} / oidc-provider {theirs}: token/s {:.2}x, CPU per redemption {:.3}x, discovery/s {:.2}x (CPU {:.3}x), userinfo/s {:.2}x (CPU {:.3}x)",
            w.token_per_s / n.token_per_s,
            w.token_cpu_us / n.token_cpu_us,
            w.discovery_per_s / n.discovery_per_s,
            w.discovery_cpu_us / n.discovery_cpu_us,
            w.userinfo_per_s / n.userinfo_per_s,
            w.userinfo_cpu_us / n.userinfo_cpu_us,
        );
    }
}

/// One fresh RSA 2048 key and one EC P-256 key, as PKCS#8 PEM each, shared by both
/// providers so they sign with the same key.
struct KeyPems {
    rsa: String,
    ec: String,
}

impl KeyPems {
    fn generate() -> Self {
        let both = SigningKeys::generate_pem();
        let marker = "-----BEGIN PRIVATE KEY-----";
        let second = both[marker.len()..]
            .find(marker)
            .map(|at| at + marker.len())
            .expect("two keys");
        let (rsa, ec) = both.split_at(second);
        Self {
            rsa: rsa.to_owned(),
            ec: ec.to_owned(),
        }
    }

    /// The key text `kind` signs `alg` tokens with. wxauth requires an RSA key beside an
    /// EC one (OpenID Connect's RS256) and signs with the first; oidc-provider is given
    /// the one key it signs with.
    fn of(&self, alg: &str, kind: Kind) -> (&'static str, String) {
        match (alg, kind) {
            ("RS256", _) => ("RS256", self.rsa.clone()),
            ("ES256", Kind::Wxauth) => ("ES256", format!("{}{}", self.ec, self.rsa)),
            ("ES256", Kind::Node) => ("ES256", self.ec.clone()),
            (other, _) => panic!("--algs lists RS256 and/or ES256, not {other}"),
        }
    }
}
