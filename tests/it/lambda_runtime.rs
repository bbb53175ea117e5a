//! End to end under a Lambda runtime emulator: the three real function binaries run as
//! processes against an emulated Lambda Runtime API, behind an emulated API Gateway HTTP
//! API (payload 2.0), with DynamoDB Local and the WeChat simulator. A browser walks both
//! flows over HTTP, so `main`, `wxauth_lambda::run` (secret references, config, clients at
//! cold start), the payload 2.0 adapter (events, cookies, responses) and the stage /
//! base-URL derivation are exercised as deployed, not only the handlers.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lambda_runtime_emulator::aws_proxy::RecordingProxy;
use lambda_runtime_emulator::aws_secrets::{RunningSecretsDouble, SecretsDouble};
use lambda_runtime_emulator::{
    ExecutionEnvironment, FunctionSpec, HttpApi, HttpApiConfig, InitOutcome,
};
use wechat_simulator::{Endpoint, RunningSimulator, SimulatorConfig, WeChatSimulator};
use wxauth_core::config::CALLBACK_ONLY_SECRETS;
use wxauth_tests::{
    APP_ID, APP_SECRET, DOMAIN, SIGNING_KEY, create_state_table, dynamo_client, encode, exclusive,
    parse_set_cookie, result_params, test_vars,
};

const FUNCTIONS: [&str; 3] = ["auth", "base-callback", "userinfo-callback"];
const MP_VERIFY_TOKEN: &str = "AbC123xyz";
const INIT_LIMIT: Duration = Duration::from_secs(20);

/// The function binaries, built (debug) by cargo as the test starts, so they are never
/// stale.
fn binaries() -> &'static BTreeMap<String, PathBuf> {
    static BINARIES: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    BINARIES.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = std::process::Command::new(cargo);
        command.args(["build", "--message-format=json-render-diagnostics"]);
        for f in FUNCTIONS {
            command.args(["-p", f]);
        }
        let output = command
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("cargo build the functions");
        assert!(output.status.success(), "building the functions failed");
        let mut found = BTreeMap::new();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if let (Some(name), Some(exe)) = (
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            ) && FUNCTIONS.contains(&name)
            {
                found.insert(name.to_owned(), PathBuf::from(exe));
            }
        }
        assert_eq!(found.len(), 3, "cargo reported {found:?}");
        found
    })
}

/// A browser: no automatic redirects, and a cookie jar that honours `Path` (the gateway
/// scopes its binding cookie to the callback path).
struct Browser {
    client: reqwest::Client,
    cookies: std::sync::Mutex<Vec<(String, String, String)>>,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: wxauth_tests::browser(),
            cookies: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// GET through the emulated API (the URL is the API's loopback address).
    async fn get(&self, url: &str) -> reqwest::Response {
        let path = url::Url::parse(url).unwrap().path().to_owned();
        let cookie = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, p)| path.starts_with(p.as_str()))
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = self
            .client
            .get(url)
            .header("user-agent", "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50");
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("the API answers");
        for set in response.headers().get_all("set-cookie") {
            let set = parse_set_cookie(set.to_str().unwrap());
            let (name, value) = (set.name().to_owned(), set.value().to_owned());
            let path = set.path().unwrap_or("/").to_owned();
            let mut jar = self.cookies.lock().unwrap();
            jar.retain(|(n, _, p)| !(*n == name && *p == path));
            jar.push((name, value, path));
        }
        response
    }
}

/// A deployed stack in miniature: three execution environments behind one HTTP API.
struct Stack {
    api: HttpApi,
    environments: BTreeMap<&'static str, Arc<ExecutionEnvironment>>,
    init: BTreeMap<&'static str, Duration>,
    /// Each function's DynamoDB calls, recorded on their way to DynamoDB Local.
    dynamodb: BTreeMap<&'static str, RecordingProxy>,
    sim: WeChatSimulator,
    _sim_server: RunningSimulator,
    /// WeChat's API on a server of its own, so only the functions' connections count.
    wechat_api: RunningSimulator,
}

impl Stack {
    /// Starts the functions with the environment template.yaml gives them (plus the
    /// endpoints of the local doubles) and waits for each to finish init.
    async fn deploy(stage: &str, customize: impl FnOnce(&mut HashMap<String, String>)) -> Self {
        let sim = WeChatSimulator::new(SimulatorConfig::new(APP_ID, APP_SECRET));
        let sim_server = sim.serve_on_loopback().await.unwrap();
        let table = create_state_table(&dynamo_client().await).await;
        let mut env: HashMap<String, String> = test_vars(&sim_server.base_url, &table)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let wechat_api = sim.serve_on_loopback().await.unwrap();
        env.insert("WECHAT_API_BASE".into(), wechat_api.base_url.clone());
        env.insert("MP_VERIFY_TOKEN".into(), MP_VERIFY_TOKEN.into());
        env.insert("RUST_LOG".into(), "info".into());
        // What Lambda would give (credentials) and what points the SDK at DynamoDB Local.
        for name in [
            "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            let value = std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the tests with scripts/test (DynamoDB Local)")
            });
            env.insert(name.into(), value);
        }
        customize(&mut env);

        let mut environments = BTreeMap::new();
        let mut init = BTreeMap::new();
        let mut dynamodb = BTreeMap::new();
        for name in FUNCTIONS {
            let proxy = RecordingProxy::serve(&env["AWS_ENDPOINT_URL_DYNAMODB"])
                .await
                .unwrap();
            let mut env = env.clone();
            env.insert("AWS_ENDPOINT_URL_DYNAMODB".into(), proxy.endpoint_url());
            // As template.yaml deploys it: the auth function is given no secret.
            if name == "auth" {
                env.retain(|k, _| !CALLBACK_ONLY_SECRETS.contains(&k.as_str()));
            }
            dynamodb.insert(name, proxy);
            let environment = spawn(name, &env).await;
            match environment.wait_for_init(INIT_LIMIT).await {
                InitOutcome::Ready { init_duration } => {
                    init.insert(name, init_duration);
                }
                other => panic!(
                    "{name} did not start: {other:?}\n{}",
                    environment.logs().join("\n")
                ),
            }
            environments.insert(name, Arc::new(environment));
        }
        let route = |key: &str, f: &str| (key.to_owned(), Arc::clone(&environments[f]));
        let api = HttpApi::serve(HttpApiConfig {
            domain_name: DOMAIN.into(),
            stage: stage.into(),
            routes: vec![
                route("GET /auth", "auth"),
                route("GET /getOpenId", "base-callback"),
                route("GET /getWxUserInfo", "userinfo-callback"),
                route("GET /getUserInfo", "userinfo-callback"),
                route(&format!("GET /MP_verify_{MP_VERIFY_TOKEN}.txt"), "auth"),
            ],
        })
        .await
        .unwrap();
        Self {
            api,
            environments,
            init,
            dynamodb,
            sim,
            _sim_server: sim_server,
            wechat_api,
        }
    }

    /// One login, as the user's phone does it; returns where the user lands.
    async fn login(&self, browser: &Browser, user: &str, scope: &str, return_url: &str) -> String {
        self.login_via(browser, user, scope, return_url).await.0
    }

    /// [`Self::login`], also returning the callback URL (on the API's loopback address).
    async fn login_via(
        &self,
        browser: &Browser,
        user: &str,
        scope: &str,
        return_url: &str,
    ) -> (String, String) {
        let auth = format!(
            "{}/auth?{}",
            self.api.base_url(),
            encode(&[("url", return_url), ("scope", scope)])
        );
        let response = browser.get(&auth).await;
        assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
        let authorize = location(&response);
        assert!(authorize.ends_with("#wechat_redirect"), "{authorize}");
        // WeChat is told to come back to the API's public URL, stage included.
        let redirect_uri = url::Url::parse(&authorize)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let callback_path = match scope {
            "snsapi_base" => "/getOpenId",
            _ => "/getWxUserInfo",
        };
        assert_eq!(
            redirect_uri,
            format!("{}{callback_path}", self.api.public_base_url())
        );

        // WeChat: the silent redirect, or the consent sheet answered "allow".
        let wechat = wxauth_tests::browser();
        let url = authorize.split_once('#').unwrap().0;
        let mut response = wechat
            .get(url)
            .header("x-wechat-sim-user", user)
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            response = wechat
                .get(wechat_simulator::consent_url(url, true))
                .header("x-wechat-sim-user", user)
                .send()
                .await
                .unwrap();
        }
        assert_eq!(response.status(), 302);
        let callback = location(&response);
        let local = self
            .api
            .local_url(&callback)
            .unwrap_or_else(|| panic!("WeChat sent the user elsewhere: {callback}"));

        let response = browser.get(&local).await;
        assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
        (location(&response), local)
    }

    fn logs(&self) -> String {
        self.environments
            .values()
            .flat_map(|e| e.logs())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

async fn spawn(name: &str, env: &HashMap<String, String>) -> ExecutionEnvironment {
    let spec = FunctionSpec::new(format!("wxauth-{name}"), &binaries()[name])
        .envs(env.clone())
        .timeout(Duration::from_secs(15));
    let spec = FunctionSpec {
        region: std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        ..spec
    };
    ExecutionEnvironment::spawn(spec).await.expect("spawn")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The token, verified independently of the gateway's own code.
fn verify(token: &str, issuer: &str) -> serde_json::Value {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["https://app.example.com"]);
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SIGNING_KEY.as_bytes()),
        &validation,
    )
    .expect("a valid token")
    .claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_flows_through_the_function_binaries_on_a_named_stage() {
    let _exclusive = exclusive().await;
    let stack = Stack::deploy("prod", |_| {}).await;
    let browser = Browser::new();
    // The stage is part of every public URL the functions derive.
    assert_eq!(
        stack.api.public_base_url(),
        format!("https://{DOMAIN}/prod")
    );

    let (landed, base_callback) = stack
        .login_via(
            &browser,
            "alice",
            "snsapi_base",
            "https://app.example.com/me?from=menu",
        )
        .await;
    let again = browser.get(&base_callback).await;
    assert_eq!(again.status(), 302);
    assert_eq!(location(&again), landed);
    assert!(
        landed.starts_with("https://app.example.com/me?from=menu&"),
        "{landed}"
    );
    let params = result_params(&landed, false);
    let openid = stack.sim.openid_for("alice");
    assert_eq!(params["openid"], openid);
    let claims = verify(&params["token"], &format!("https://{DOMAIN}/prod"));
    assert_eq!(claims["sub"], openid.as_str());
    assert_eq!(claims["scope"], "snsapi_base");

    let (landed, callback) = stack
        .login_via(
            &browser,
            "bob",
            "snsapi_userinfo",
            "https://app.example.com/profile",
        )
        .await;
    let params = result_params(&landed, false);
    // WeChat's in-app browser loading the callback twice gets the first answer again.
    let again = browser.get(&callback).await;
    assert_eq!(again.status(), 302);
    assert_eq!(location(&again), landed);
    assert_eq!(params["openid"], stack.sim.openid_for("bob"));
    assert!(params.contains_key("nickname"), "{params:?}");
    let claims = verify(&params["token"], &format!("https://{DOMAIN}/prod"));
    assert_eq!(claims["scope"], "snsapi_userinfo");

    // WeChat's domain file, served by the auth function on its own route.
    let response = browser
        .get(&format!(
            "{}/MP_verify_{MP_VERIFY_TOKEN}.txt",
            stack.api.base_url()
        ))
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(response.text().await.unwrap(), MP_VERIFY_TOKEN);

    // Bad input is the function's 400, not an API Gateway error.
    let response = browser
        .get(&format!(
            "{}/auth?scope=snsapi_base&url=https%3A%2F%2Fevil.example%2F",
            stack.api.base_url()
        ))
        .await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_request");

    // A path without the stage has no route (API Gateway's own 404).
    let response = browser
        .get(&format!("http://{}/auth", stack.api.addr))
        .await;
    assert_eq!(response.status(), 404);

    let logs = stack.logs();
    for secret in [APP_SECRET, SIGNING_KEY] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    assert!(logs.contains("\"route\":\"auth\""), "{logs}");
    eprintln!("init (debug binaries, plain secrets): {:?}", stack.init);

    // The same callbacks opened in another browser (no binding cookie) are refused after
    // only reading the login: nothing can be consumed without the cookie.
    for callback in [&base_callback, &callback] {
        let response = Browser::new().get(callback).await;
        assert_eq!(response.status(), 400, "{callback}");
    }

    // Least privilege, checked against behaviour: each function made exactly the DynamoDB
    // calls its role in template.yaml grants (these flows reach every store call: a new
    // login, a consumed state, a recorded outcome, a repeated callback, a read without
    // the browser's cookie).
    for name in FUNCTIONS {
        assert_eq!(
            stack.dynamodb[name].iam_actions("dynamodb"),
            granted_dynamodb_actions(name),
            "{name}: the DynamoDB calls it made differ from what its role grants"
        );
    }
}

/// The `dynamodb:*` actions template.yaml grants the role of the function built from
/// `binary`.
fn granted_dynamodb_actions(binary: &str) -> std::collections::BTreeSet<String> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let function = resources
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"] == binary)
        .unwrap_or_else(|| panic!("no function builds {binary}"));
    // `Role: !GetAtt AuthRole.Arn`
    let role = match &function["Properties"]["Role"] {
        serde_yaml::Value::Tagged(t) => t.value.as_str().unwrap().split('.').next().unwrap(),
        other => panic!("Role {other:?}"),
    };
    let mut actions = std::collections::BTreeSet::new();
    for policy in template["Resources"][role]["Properties"]["Policies"]
        .as_sequence()
        .unwrap()
    {
        for statement in policy["PolicyDocument"]["Statement"].as_sequence().unwrap() {
            for action in statement["Action"].as_sequence().unwrap() {
                let action = action.as_str().unwrap();
                if action.starts_with("dynamodb:") {
                    actions.insert(action.to_owned());
                }
            }
        }
    }
    actions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_stage_has_no_path_prefix() {
    let _exclusive = exclusive().await;
    let stack = Stack::deploy("$default", |_| {}).await;
    assert_eq!(stack.api.public_base_url(), format!("https://{DOMAIN}"));
    let landed = stack
        .login(
            &Browser::new(),
            "carol",
            "snsapi_base",
            "https://app.example.com/",
        )
        .await;
    let params = result_params(&landed, false);
    verify(&params["token"], &format!("https://{DOMAIN}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_callback_function_keeps_one_connection_to_wechat() {
    let _exclusive = exclusive().await;
    let stack = Stack::deploy("$default", |_| {}).await;
    let browser = Browser::new();
    // The code exchange and the profile call follow each other at once: the second must
    // find the first's connection back in the pool, login after login.
    for i in 0..40 {
        let landed = stack
            .login(
                &browser,
                &format!("user{i}"),
                "snsapi_userinfo",
                "https://app.example.com/",
            )
            .await;
        assert!(result_params(&landed, false).contains_key("nickname"));
    }
    assert_eq!(stack.sim.calls(Endpoint::UserInfo), 40);
    assert_eq!(stack.wechat_api.connections_accepted(), 1);
}

/// The secrets stored in a loopback SSM / Secrets Manager double.
async fn secrets_double() -> (SecretsDouble, RunningSecretsDouble) {
    let double = SecretsDouble::new();
    double.put_parameter("/wxauth/app-secret", APP_SECRET);
    double.put_secret(
        SECRET_ARN,
        &serde_json::json!({ "signing_key": SIGNING_KEY }).to_string(),
    );
    let server = double.serve_on_loopback().await.unwrap();
    (double, server)
}

const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:wxauth-AbCdEf";

fn use_references(env: &mut HashMap<String, String>, endpoint: &str) {
    env.remove("WECHAT_APP_SECRET");
    env.remove("TOKEN_SIGNING_KEY");
    env.insert(
        "WECHAT_APP_SECRET_REF".into(),
        "ssm:/wxauth/app-secret".into(),
    );
    env.insert(
        "TOKEN_SIGNING_KEY_REF".into(),
        format!("secretsmanager:{SECRET_ARN}#signing_key"),
    );
    env.insert("AWS_ENDPOINT_URL_SSM".into(), endpoint.into());
    env.insert("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), endpoint.into());
}

/// A function's environment whose app-secret reference names a parameter that does not
/// exist in the double.
fn unreadable_reference_env(server: &RunningSecretsDouble) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = test_vars("http://127.0.0.1:9", "wxauth-states")
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    use_references(&mut env, &server.endpoint_url());
    env.insert(
        "WECHAT_APP_SECRET_REF".into(),
        "ssm:/wxauth/does-not-exist".into(),
    );
    env.insert("AWS_ACCESS_KEY_ID".into(), "local".into());
    env.insert("AWS_SECRET_ACCESS_KEY".into(), "local".into());
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_referenced_in_ssm_and_secrets_manager_are_read_at_cold_start() {
    let _exclusive = exclusive().await;
    let (double, server) = secrets_double().await;
    let endpoint = server.endpoint_url();
    let stack = Stack::deploy("prod", |env| use_references(env, &endpoint)).await;
    // Each callback environment read both, once, at init; auth holds no secret.
    let calls = double.calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert_eq!(
        calls
            .iter()
            .filter(|c| *c == "AmazonSSM.GetParameter /wxauth/app-secret")
            .count(),
        2
    );

    // WeChat accepts the exchange only with the right app secret, and the token verifies
    // only with the right signing key: both came from the double.
    let landed = stack
        .login(
            &Browser::new(),
            "dave",
            "snsapi_userinfo",
            "https://app.example.com/",
        )
        .await;
    let params = result_params(&landed, false);
    assert_eq!(params["openid"], stack.sim.openid_for("dave"));
    verify(&params["token"], &format!("https://{DOMAIN}/prod"));
    assert_eq!(double.calls().len(), 4, "secrets are read at init only");

    let logs = stack.logs();
    assert!(logs.contains("secret references resolved"), "{logs}");
    for secret in [APP_SECRET, SIGNING_KEY] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
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
    // all the same, and asks for neither.
    let mut env = unreadable_reference_env(&server);
    let environment = spawn("auth", &env).await;
    let outcome = environment.wait_for_init(INIT_LIMIT).await;
    assert!(
        matches!(outcome, InitOutcome::Ready { .. }),
        "{outcome:?}\n{}",
        environment.logs().join("\n")
    );
    assert_eq!(double.calls(), Vec::<String>::new(), "no secret was read");
    // Without any secret variable at all, likewise.
    env.retain(|k, _| !CALLBACK_ONLY_SECRETS.contains(&k.as_str()));
    let environment = spawn("auth", &env).await;
    assert!(matches!(
        environment.wait_for_init(INIT_LIMIT).await,
        InitOutcome::Ready { .. }
    ));
}
