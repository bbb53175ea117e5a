//! How long a function binary takes to init (spawn → first `/next`) with plain secrets and
//! with secret references read from the loopback SSM / Secrets Manager double.
//!
//!   cargo run --release -p lambda-runtime-emulator --example init_time -- PATH/TO/bootstrap [RUNS]
//!
//! The two variants alternate, so drift on the machine affects both alike. Only init is
//! measured: no DynamoDB call happens at init, so none is needed.

use std::time::Duration;

use lambda_runtime_emulator::aws_secrets::SecretsDouble;
use lambda_runtime_emulator::{ExecutionEnvironment, FunctionSpec, InitOutcome};

const APP_SECRET: &str = "init-time-app-secret";
const SIGNING_KEY: &str = "init-time-signing-key-0123456789abcdef";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:wxauth-AbCdEf";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .expect("usage: init_time PATH/TO/bootstrap [RUNS]");
    let runs: usize = args.next().map_or(30, |n| n.parse().expect("RUNS"));

    let double = SecretsDouble::new();
    double.put_parameter("/wxauth/app-secret", APP_SECRET);
    double.put_secret(
        SECRET_ARN,
        &format!("{{\"signing_key\":\"{SIGNING_KEY}\"}}"),
    );
    let server = double.serve_on_loopback().await.expect("serve the double");
    let endpoint = server.endpoint_url();

    let base = [
        ("WECHAT_APP_ID", "wx0123456789abcdef".to_owned()),
        (
            "ALLOWED_RETURN_ORIGINS",
            "https://app.example.com".to_owned(),
        ),
        ("STATE_TABLE", "wxauth-states".to_owned()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_SESSION_TOKEN", "local".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let plain = [
        ("WECHAT_APP_SECRET", APP_SECRET.to_owned()),
        ("TOKEN_SIGNING_KEY", SIGNING_KEY.to_owned()),
    ];
    let references = [
        ("WECHAT_APP_SECRET_REF", "ssm:/wxauth/app-secret".to_owned()),
        (
            "TOKEN_SIGNING_KEY_REF",
            format!("secretsmanager:{SECRET_ARN}#signing_key"),
        ),
        ("AWS_ENDPOINT_URL_SSM", endpoint.clone()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint.clone()),
    ];

    let mut with_plain = Vec::new();
    let mut with_references = Vec::new();
    for _ in 0..runs {
        for (extra, out) in [
            (&plain[..], &mut with_plain),
            (&references[..], &mut with_references),
        ] {
            let spec = FunctionSpec::new("wxauth-init-time", &binary)
                .envs(base.iter().cloned())
                .envs(extra.iter().cloned());
            let environment = ExecutionEnvironment::spawn(spec).await.expect("spawn");
            match environment.wait_for_init(Duration::from_secs(20)).await {
                InitOutcome::Ready { init_duration } => out.push(init_duration),
                other => panic!("init failed: {other:?}\n{}", environment.logs().join("\n")),
            }
        }
    }
    println!("{runs} inits each of {binary}");
    report("plain secrets", &mut with_plain);
    report("secret references", &mut with_references);
    println!("calls served by the double: {}", double.calls().len());
}

fn report(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label:>18}: median {:6.1} ms  p10 {:6.1} ms  p90 {:6.1} ms",
        ms(at(0.5)),
        ms(at(0.1)),
        ms(at(0.9))
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
