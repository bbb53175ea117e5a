//! Where a token redemption's CPU goes inside wxauth: the core's token handler driven
//! in-process (no HTTP), and each of its phases timed alone on the same thread with the
//! same inputs. The `oidc` benchmark's CPU per redemption less the handler's is what the
//! HTTP server around it costs.
//!
//!   token_phases [--iterations=3000] [--alg=RS256|ES256]
//!
//! Every figure is the median of `--rounds` (default 5) rounds' means, in microseconds of
//! this thread's CPU time (wall time on an idle core is the same to within a few %).

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use wxauth_bench::arg;
use wxauth_core::oidc::clients::OidcClients;
use wxauth_core::oidc::grant::{CODE_LIFETIME_SECONDS, Grant, GrantId, Redemption};
use wxauth_core::oidc::jws::{self, ACCESS_TOKEN_TYPE};
use wxauth_core::oidc::keys::{Alg, SigningKeys};
use wxauth_core::oidc::pkce::s256_challenge;
use wxauth_core::store::MemoryStateStore;
use wxauth_core::{BaseUrl, Config, Gateway, GatewayRequest, Route, Scope, StateStore};

const CLIENT_ID: &str = "bench-rp";
const CLIENT_SECRET: &str = "bench-client-secret-0123456789abcdefghij";
const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";
const ISSUER: &str = "http://127.0.0.1:3000";

fn main() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run());
}

async fn run() {
    let iterations: usize = arg("iterations", 3000);
    let rounds: usize = arg("rounds", 5);
    let alg = match arg("alg", String::from("RS256")).as_str() {
        "RS256" => Alg::RS256,
        "ES256" => Alg::ES256,
        other => panic!("--alg is RS256 or ES256, not {other}"),
    };
    let pem = key_pem(alg);
    let clients = json!([{
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [REDIRECT_URI]
    }])
    .to_string();
    let vars = HashMap::from([
        ("WECHAT_APP_ID", "wx0123456789abcdef".to_owned()),
        (
            "WECHAT_APP_SECRET",
            "APPSECRET-benchmark-only-7c1f".to_owned(),
        ),
        (
            "ALLOWED_RETURN_ORIGINS",
            "https://app.example.com".to_owned(),
        ),
        (
            "TOKEN_SIGNING_KEY",
            "SIGNINGKEY-benchmark-only-0123456789abcdef".to_owned(),
        ),
        (
            "SEALING_KEY",
            "SEALINGKEY-benchmark-only-0123456789abcdef".to_owned(),
        ),
        ("PUBLIC_BASE_URL", ISSUER.to_owned()),
        ("OIDC_CLIENTS", clients.clone()),
        ("OIDC_SIGNING_KEYS", pem.clone()),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("a configuration");
    let store = Arc::new(MemoryStateStore::new());
    let gateway = Gateway::new(config, store.clone(), reqwest::Client::new());
    let keys = SigningKeys::from_pem(&pem).expect("the key");
    let signer = keys.first();
    let parsed_clients = OidcClients::parse(&clients).expect("the client");
    let client = parsed_clients.get(CLIENT_ID).expect("the client");

    println!(
        "token_phases: {} with one {} key, {iterations} redemptions per round, median of {rounds} rounds' means (µs of CPU per redemption)",
        alg.as_str(),
        if alg == Alg::RS256 {
            "RSA 2048"
        } else {
            "P-256"
        },
    );
    let mut table: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut record =
        |name: &'static str, value: f64| match table.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => table.push((name, vec![value])),
        };
    for _ in 0..rounds {
        // The whole handler, as `wxauth-local` and the Lambda adapter call it.
        let mut whole = Duration::ZERO;
        for _ in 0..iterations {
            let (code, verifier) = fresh_grant(&store).await;
            let request = token_request(&code, &verifier);
            let started = thread_cpu();
            let answer = gateway.handle(request).await;
            whole += thread_cpu() - started;
            assert_eq!(answer.status(), 200, "{}", answer.body());
        }
        record("whole token handler (in-process)", us(whole, iterations));

        let claims = json!({
            "iss": ISSUER, "sub": "oABCDEFGHIJKLMNOPQRSTUVWXYZ0", "aud": format!("{ISSUER}/oauth2/userinfo"),
            "client_id": CLIENT_ID, "scope": "openid", "iat": 1_800_000_000, "exp": 1_800_000_600,
            "jti": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs","typ":"at+jwt"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        record(
            "  one signature (key.sign)",
            time(iterations, || {
                black_box(signer.sign(black_box(input.as_bytes())));
            }),
        );
        record(
            "  one token (jws::sign: JSON, base64, signature)",
            time(iterations, || {
                black_box(jws::sign(signer, ACCESS_TOKEN_TYPE, black_box(&claims)));
            }),
        );
        record(
            "  client auth (Basic decode, SHA-256, compare)",
            time(iterations, || {
                let header = format!(
                    "Basic {}",
                    STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
                );
                let decoded = STANDARD.decode(&header[6..]).unwrap();
                let text = String::from_utf8(decoded).unwrap();
                let (_, secret) = text.split_once(':').unwrap();
                black_box(client.secret_matches(black_box(secret)));
            }),
        );
        record(
            "  PKCE (S256 of the verifier) and the code's id",
            time(iterations, || {
                black_box(s256_challenge(black_box(
                    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                )));
                black_box(GrantId::of_code(black_box(
                    "SplxlOBeZQQYbYS6WxSbIA0123456789abcdefghijk",
                )));
            }),
        );
        let mut redeem = Duration::ZERO;
        for _ in 0..iterations {
            let (code, verifier) = fresh_grant(&store).await;
            let id = GrantId::of_code(&code).unwrap();
            let challenge = s256_challenge(&verifier).unwrap();
            let redemption = Redemption {
                client_id: CLIENT_ID,
                redirect_uri: REDIRECT_URI,
                code_challenge: Some(&challenge),
                now: now(),
            };
            let started = thread_cpu();
            black_box(
                store
                    .redeem_grant(&id, &redemption, now() + 600)
                    .await
                    .unwrap(),
            );
            redeem += thread_cpu() - started;
        }
        record("  store: redeem_grant (memory)", us(redeem, iterations));
        record(
            "  response JSON (build and serialize)",
            time(iterations, || {
                let body = json!({
                    "access_token": black_box(&input), "token_type": "Bearer", "expires_in": 600,
                    "id_token": black_box(&input), "scope": "openid",
                });
                black_box(body.to_string());
            }),
        );
        record(
            "  at_hash (SHA-256 of the access token)",
            time(iterations, || {
                black_box(Sha256::digest(black_box(input.as_bytes())));
            }),
        );
    }
    for (name, values) in &table {
        println!("{name:<52} {:>9.1} µs", median(values.clone()));
    }
}

fn key_pem(alg: Alg) -> String {
    let both = SigningKeys::generate_pem();
    let marker = "-----BEGIN PRIVATE KEY-----";
    let second = both[marker.len()..].find(marker).expect("two keys") + marker.len();
    let (rsa, ec) = both.split_at(second);
    match alg {
        Alg::RS256 => rsa.to_owned(),
        // wxauth requires an RSA key (OpenID Connect's RS256); the first key signs.
        Alg::ES256 => format!("{ec}{rsa}"),
    }
}

/// A grant as the callback stores it, and the code and verifier that redeem it.
async fn fresh_grant(store: &MemoryStateStore) -> (String, String) {
    let (code, id) = GrantId::generate();
    let (verifier, _) = GrantId::generate();
    let grant = Grant {
        client_id: CLIENT_ID.into(),
        redirect_uri: REDIRECT_URI.into(),
        code_challenge: s256_challenge(&verifier),
        nonce: Some("n-0S6_WzA2Mj".into()),
        scope: Scope::Base,
        auth_time: now(),
        sub: "oABCDEFGHIJKLMNOPQRSTUVWXYZ0".into(),
        openid: "oABCDEFGHIJKLMNOPQRSTUVWXYZ0".into(),
        unionid: None,
        unionid_scope: false,
        name: None,
        picture: None,
        claims: Default::default(),
        code_expires_at: now() + CODE_LIFETIME_SECONDS,
    };
    store.put_grant(&id, &grant).await.expect("a stored grant");
    (code, verifier)
}

fn token_request(code: &str, verifier: &str) -> GatewayRequest {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("code_verifier", verifier)
        .finish();
    GatewayRequest {
        method: Method::POST,
        route: Route::OidcToken,
        derived_base_url: Some(BaseUrl::parse(ISSUER).unwrap()),
        authorization: Some(format!(
            "Basic {}",
            STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        )),
        content_type: Some("application/x-www-form-urlencoded".into()),
        body: body.into_bytes(),
        ..GatewayRequest::default()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn time(iterations: usize, mut work: impl FnMut()) -> f64 {
    let started = thread_cpu();
    for _ in 0..iterations {
        work();
    }
    us(thread_cpu() - started, iterations)
}

fn us(total: Duration, iterations: usize) -> f64 {
    total.as_secs_f64() * 1e6 / iterations as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
