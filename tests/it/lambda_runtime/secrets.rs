//! Secret references read at cold start from SSM and Secrets Manager (doubles), each
//! function reading only its own; an invalid configuration stops a function at init.

use std::collections::HashMap;
use std::time::Duration;

use lambda_runtime_emulator::InitOutcome;
use lambda_runtime_emulator::aws_secrets::{RunningSecretsDouble, SecretsDouble};
use wxauth_core::config::LOGIN_FINISHING_SECRETS;
use wxauth_core::config::REFERENCE_VARIABLES;
use wxauth_tests::{
    APP_SECRET, DOMAIN, SEALING_KEY, SIGNING_KEY, exclusive, result_params, serves_of_binary,
    test_vars,
};

use super::{
    Browser, CLIENT_SECRET, FUNCTIONS, INIT_LIMIT, Stack, oidc_clients, oidc_jwks,
    oidc_signing_keys, spawn, template_variables, verify,
};

/// Every secret, as the references of [`use_references`] name them.
fn fill_secrets(double: &SecretsDouble) {
    double.put_parameter("/wxauth/app-secret", APP_SECRET);
    double.put_secret(
        SECRET_ARN,
        &serde_json::json!({ "signing_key": SIGNING_KEY }).to_string(),
    );
    double.put_parameter("/wxauth/oidc-clients", &oidc_clients());
    double.put_secret(
        OIDC_SECRET_ARN,
        &serde_json::json!({ "signing_keys": oidc_signing_keys() }).to_string(),
    );
    // As the template's generated secret holds it: the whole SecretString.
    double.put_secret(SEALING_SECRET_ARN, SEALING_KEY);
    double.put_parameter("/wxauth/oidc-jwks", &oidc_jwks());
}

/// The secrets stored in a loopback SSM / Secrets Manager double.
async fn secrets_double() -> (SecretsDouble, RunningSecretsDouble) {
    let double = SecretsDouble::new();
    fill_secrets(&double);
    let server = double.serve_on_loopback().await.unwrap();
    (double, server)
}

const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:wxauth-AbCdEf";
const OIDC_SECRET_ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:wxauth-oidc-XyZ123";
const SEALING_SECRET_ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:SealingKeySecret-Gh7Jk9";

/// `(reference variable, its reference, the call that reads it)`.
fn references() -> [(&'static str, String, String); 6] {
    [
        (
            "WECHAT_APP_SECRET_REF",
            "ssm:/wxauth/app-secret".into(),
            "AmazonSSM.GetParameter /wxauth/app-secret".into(),
        ),
        (
            "TOKEN_SIGNING_KEY_REF",
            format!("secretsmanager:{SECRET_ARN}#signing_key"),
            format!("secretsmanager.GetSecretValue {SECRET_ARN}"),
        ),
        (
            "SEALING_KEY_REF",
            format!("secretsmanager:{SEALING_SECRET_ARN}"),
            format!("secretsmanager.GetSecretValue {SEALING_SECRET_ARN}"),
        ),
        (
            "OIDC_CLIENTS_REF",
            "ssm:/wxauth/oidc-clients".into(),
            "AmazonSSM.GetParameter /wxauth/oidc-clients".into(),
        ),
        (
            "OIDC_SIGNING_KEYS_REF",
            format!("secretsmanager:{OIDC_SECRET_ARN}#signing_keys"),
            format!("secretsmanager.GetSecretValue {OIDC_SECRET_ARN}"),
        ),
        (
            "OIDC_JWKS_REF",
            "ssm:/wxauth/oidc-jwks".into(),
            "AmazonSSM.GetParameter /wxauth/oidc-jwks".into(),
        ),
    ]
}

/// Every secret by reference instead of by value.
fn use_references(env: &mut HashMap<String, String>) {
    for (reference, value, _) in references() {
        let plain = REFERENCE_VARIABLES
            .iter()
            .find(|(r, _)| *r == reference)
            .unwrap()
            .1;
        env.remove(plain);
        env.insert(reference.into(), value);
    }
}

/// A function's environment whose app-secret reference names a parameter that does not
/// exist in the double.
fn unreadable_reference_env(server: &RunningSecretsDouble) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = test_vars("http://127.0.0.1:9", "wxauth-states")
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    use_references(&mut env);
    env.insert(
        "WECHAT_APP_SECRET_REF".into(),
        "ssm:/wxauth/does-not-exist".into(),
    );
    env.insert("AWS_ENDPOINT_URL_SSM".into(), server.endpoint_url());
    env.insert(
        "AWS_ENDPOINT_URL_SECRETS_MANAGER".into(),
        server.endpoint_url(),
    );
    env.insert("AWS_ACCESS_KEY_ID".into(), "local".into());
    env.insert("AWS_SECRET_ACCESS_KEY".into(), "local".into());
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_referenced_in_ssm_and_secrets_manager_are_read_at_cold_start() {
    let _exclusive = exclusive().await;
    let stack = Stack::deploy_with("prod", use_references, Some(fill_secrets)).await;
    // Each function read, once, at init, exactly the references template.yaml gives it
    // (and its role may read: template_drift checks the roles against the references).
    let calls_of = |name: &str| {
        let mut calls = stack.secrets[name].0.calls();
        calls.sort();
        calls
    };
    for name in FUNCTIONS {
        let given = template_variables(name);
        let serves = serves_of_binary(name);
        let mut expected: Vec<String> = references()
            .into_iter()
            // Given (the emulator passes a variable whatever its condition in the
            // template) and read in this environment (TOKEN_SIGNING_ALG is HS256 here).
            .filter(|(reference, _, _)| {
                given.contains(*reference) && serves.reads_in(reference, |_| None)
            })
            .map(|(_, _, call)| call)
            .collect();
        expected.sort();
        assert_eq!(calls_of(name), expected, "{name}");
    }
    // Spelled out: auth reads the clients only, userinfo the public keys only, the token
    // endpoint the clients and the private keys, the callbacks all but the keys (they sign result tokens with
    // TOKEN_SIGNING_KEY here, and no ID token), their sealing key included.
    assert_eq!(
        calls_of("auth"),
        ["AmazonSSM.GetParameter /wxauth/oidc-clients"]
    );
    assert_eq!(
        calls_of("oidc-userinfo"),
        ["AmazonSSM.GetParameter /wxauth/oidc-jwks"]
    );
    assert_eq!(calls_of("oidc-token").len(), 2);
    // The code login: the signing key and the sealing key (for the apps' shared access
    // token); no Mini Program is listed here, and never the Official Account's AppSecret.
    let mut expected = vec![
        format!("secretsmanager.GetSecretValue {SEALING_SECRET_ARN}"),
        format!("secretsmanager.GetSecretValue {SECRET_ARN}"),
    ];
    expected.sort();
    assert_eq!(calls_of("login-code"), expected);
    assert_eq!(calls_of("base-callback").len(), 4);
    assert!(calls_of("base-callback").contains(&format!(
        "secretsmanager.GetSecretValue {SEALING_SECRET_ARN}"
    )));

    // WeChat accepts the exchange only with the right app secret, and the token verifies
    // only with the right signing key: both came from the doubles.
    let browser = Browser::new();
    let landed = stack
        .login(
            &browser,
            "dave",
            "snsapi_userinfo",
            "https://app.example.com/",
        )
        .await;
    let params = result_params(&landed, false);
    assert_eq!(params["openid"], stack.sim.openid_for("dave"));
    verify(&params["token"], &format!("https://{DOMAIN}/prod"));
    // The clients and the keys too: the client authenticates, and the ID token verifies
    // with the JWKS.
    let (tokens, _) = stack.oidc_login(&browser, "gina", "openid", false).await;
    assert_eq!(
        stack.userinfo(&tokens.access_token, false).await.status(),
        200
    );
    for name in FUNCTIONS {
        let before = calls_of(name).len();
        assert_eq!(
            stack.secrets[name].0.calls().len(),
            before,
            "{name}: secrets are read at init only"
        );
    }
    let total: usize = FUNCTIONS.iter().map(|f| calls_of(f).len()).sum();
    assert_eq!(
        total,
        1 + 4 + 4 + 2 + 1 + 2,
        "secrets are read at init only"
    );

    let logs = stack.logs();
    assert!(logs.contains("secret references resolved"), "{logs}");
    assert!(!logs.contains("gives client_secret in plain"), "{logs}");
    for secret in [APP_SECRET, SIGNING_KEY, SEALING_KEY, CLIENT_SECRET] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    assert!(
        !logs.contains("PRIVATE KEY"),
        "a signing key reached the logs"
    );
    eprintln!("init (debug binaries, secret references): {:?}", stack.init);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_configuration_stops_the_function_at_init_with_a_clear_error() {
    let _exclusive = exclusive().await;
    let mut env: HashMap<String, String> = HashMap::from([
        (
            "ALLOWED_RETURN_ORIGINS".into(),
            "https://app.example.com".into(),
        ),
        ("WECHAT_APP_SECRET".into(), APP_SECRET.into()),
        ("TOKEN_SIGNING_KEY".into(), "too-short-SECRETKEY".into()),
        ("STATE_TABLE".into(), "wxauth-states".into()),
    ]);
    env.insert("AWS_ACCESS_KEY_ID".into(), "local".into());
    env.insert("AWS_SECRET_ACCESS_KEY".into(), "local".into());
    let environment = spawn("userinfo-callback", &env).await;
    match environment.wait_for_init(INIT_LIMIT).await {
        InitOutcome::Exited { status, .. } => assert!(!status.success()),
        InitOutcome::InitError { error, .. } => {
            assert!(error.error_message.contains("WECHAT_APP_ID"), "{error:?}")
        }
        other => panic!("the function should not have started: {other:?}"),
    }
    environment.wait_exit(Duration::from_secs(10)).await;
    let logs = environment.logs().join("\n");
    assert!(
        logs.contains("WECHAT_APP_ID: is required but not set"),
        "{logs}"
    );
    assert!(
        logs.contains("TOKEN_SIGNING_KEY: must be at least"),
        "{logs}"
    );
    assert!(!logs.contains("too-short-SECRETKEY"), "{logs}");
    assert!(!logs.contains(APP_SECRET), "{logs}");

    // A reference that cannot be read stops init the same way, naming the reference.
    let (_double, server) = secrets_double().await;
    let env = unreadable_reference_env(&server);
    let environment = spawn("base-callback", &env).await;
    assert!(!matches!(
        environment.wait_for_init(INIT_LIMIT).await,
        InitOutcome::Ready { .. } | InitOutcome::TimedOut
    ));
    environment.wait_exit(Duration::from_secs(10)).await;
    let logs = environment.logs().join("\n");
    assert!(
        logs.contains(
            "WECHAT_APP_SECRET_REF: could not read ssm:/wxauth/does-not-exist: ParameterNotFound"
        ),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_function_neither_needs_nor_reads_a_secret() {
    let _exclusive = exclusive().await;
    let (double, server) = secrets_double().await;
    // References it has no permission to read (and one that does not exist): it starts
    // all the same, and asks for none of them. (The clients are the one secret it reads:
    // the references test counts that read.)
    let mut env = unreadable_reference_env(&server);
    env.remove("OIDC_CLIENTS_REF");
    let environment = spawn("auth", &env).await;
    let outcome = environment.wait_for_init(INIT_LIMIT).await;
    assert!(
        matches!(outcome, InitOutcome::Ready { .. }),
        "{outcome:?}\n{}",
        environment.logs().join("\n")
    );
    assert_eq!(double.calls(), Vec::<String>::new(), "no secret was read");
    // Without any secret variable at all, likewise.
    env.retain(|k, _| {
        !LOGIN_FINISHING_SECRETS.contains(&k.as_str()) && !k.starts_with("OIDC_SIGNING_KEYS")
    });
    let environment = spawn("auth", &env).await;
    assert!(matches!(
        environment.wait_for_init(INIT_LIMIT).await,
        InitOutcome::Ready { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openid_provider_functions_read_only_their_own_secrets() {
    let _exclusive = exclusive().await;
    let (double, server) = secrets_double().await;
    // Each is given every reference (the app secret's unreadable) except those it needs,
    // which it gets as plain values: it starts without reading a single one.
    // The userinfo function keeps OIDC_SIGNING_KEYS_REF in its environment, and never
    // reads it: it holds public keys only.
    for (name, needs) in [
        ("oidc-token", &["OIDC_CLIENTS", "OIDC_SIGNING_KEYS"][..]),
        ("oidc-userinfo", &["OIDC_JWKS"][..]),
    ] {
        let mut env = unreadable_reference_env(&server);
        for variable in needs {
            env.remove(&format!("{variable}_REF"));
        }
        if needs.contains(&"OIDC_CLIENTS") {
            env.insert("OIDC_CLIENTS".into(), oidc_clients());
        }
        if needs.contains(&"OIDC_SIGNING_KEYS") {
            env.insert("OIDC_SIGNING_KEYS".into(), oidc_signing_keys().into());
        } else {
            env.insert("OIDC_JWKS".into(), oidc_jwks());
            assert!(env.contains_key("OIDC_SIGNING_KEYS_REF"));
        }
        let environment = spawn(name, &env).await;
        let outcome = environment.wait_for_init(INIT_LIMIT).await;
        assert!(
            matches!(outcome, InitOutcome::Ready { .. }),
            "{name}: {outcome:?}\n{}",
            environment.logs().join("\n")
        );
        assert_eq!(double.calls(), Vec::<String>::new(), "{name} read a secret");
    }
    // Without its keys, the token endpoint does not start (it could sign nothing).
    let mut env = unreadable_reference_env(&server);
    env.remove("OIDC_SIGNING_KEYS_REF");
    env.remove("OIDC_CLIENTS_REF");
    env.insert("OIDC_CLIENTS".into(), oidc_clients());
    let environment = spawn("oidc-token", &env).await;
    assert!(!matches!(
        environment.wait_for_init(INIT_LIMIT).await,
        InitOutcome::Ready { .. } | InitOutcome::TimedOut
    ));
    environment.wait_exit(Duration::from_secs(10)).await;
    let logs = environment.logs().join("\n");
    assert!(logs.contains("OIDC_SIGNING_KEYS: is required"), "{logs}");
}
