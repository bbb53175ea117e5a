//! End to end under a Lambda runtime emulator: the six real function binaries run as
//! processes against an emulated Lambda Runtime API, behind an emulated API Gateway HTTP
//! API (payload 2.0) with template.yaml's routes, with DynamoDB Local and the WeChat
//! simulator. A browser walks both redirect flows and the OpenID Connect code flow over
//! HTTP, and a Mini Program and a mobile app post their codes, so `main`, `wxauth_lambda::run` (secret references, config, clients at cold
//! start), the payload 2.0 adapter (events, cookies, bodies, responses) and the stage /
//! base-URL derivation are exercised as deployed, not only the handlers. Each function is
//! given only the variables template.yaml gives it.
//!
//! Here: the stack in miniature (the binaries, their environments as template.yaml gives
//! them, the emulated API) and the browser; the flows, secrets and libraries run over it in
//! a file each.

mod code_login;
mod flows;
mod oidc;
mod qr_login;
mod relying_parties;
mod result_keys;
mod return_rules;
mod secrets;
mod security;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lambda_runtime_emulator::aws_proxy::RecordingProxy;
use lambda_runtime_emulator::aws_secrets::{RunningSecretsDouble, SecretsDouble};
use lambda_runtime_emulator::{
    ExecutionEnvironment, FunctionSpec, HttpApi, HttpApiConfig, InitOutcome,
};
use wechat_simulator::{RunningSimulator, SimulatorConfig, WeChatSimulator};
use wxauth_core::store::attr;
use wxauth_tests::template::{self, Evaluator};
use wxauth_tests::{
    APP_ID, APP_SECRET, DOMAIN, SIGNING_KEY, create_state_table, dynamo_client, encode,
    parse_set_cookie, test_vars,
};

/// The six function binaries, from the one table of them.
const FUNCTIONS: [&str; 6] = {
    let f = wxauth_lambda::functions::FUNCTIONS;
    [
        f[0].name, f[1].name, f[2].name, f[3].name, f[4].name, f[5].name,
    ]
};
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
        assert_eq!(found.len(), FUNCTIONS.len(), "cargo reported {found:?}");
        found
    })
}

/// A browser: no automatic redirects, and a cookie jar that honours `Path`.
struct Browser {
    client: reqwest::Client,
    cookies: std::sync::Mutex<Vec<(String, String, String)>>,
    user_agent: &'static str,
}

impl Browser {
    /// WeChat's in-app browser.
    fn new() -> Self {
        Self::named("Mozilla/5.0 (iPhone) MicroMessenger/8.0.50")
    }

    /// A browser that names itself `user_agent`.
    fn named(user_agent: &'static str) -> Self {
        Self {
            client: wxauth_tests::browser(),
            cookies: std::sync::Mutex::new(Vec::new()),
            user_agent,
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
        let mut request = self.client.get(url).header("user-agent", self.user_agent);
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

/// The names of the variables template.yaml may set on the function built from `binary`
/// (Globals and its own, whatever the parameters).
fn template_variables(binary: &str) -> BTreeSet<String> {
    let t = template::cached();
    template::variable_names(t, template::function_building(t, binary))
}

/// The API's routes as template.yaml declares them: `"METHOD /path"` → function binary
/// (the functions' HttpApi events, and the explicit routes, the MP_verify file's for
/// `mp_verify_token`), whatever their conditions: all six functions run here.
fn template_routes(mp_verify_token: &str) -> Vec<(String, String)> {
    let t = template::cached();
    let ev = Evaluator::new(t, &[("MpVerifyToken", mp_verify_token)]);
    template::routes(t, &ev)
        .into_iter()
        .map(|(key, (binary, _))| (key, binary))
        .collect()
}

/// The environment template.yaml gives the function built from `binary`, out of `env`:
/// a variable the template sets on some function reaches only the functions it sets it
/// on (the test's own knobs, such as the simulator's URLs, reach every function).
fn as_deployed(binary: &str, env: &HashMap<String, String>) -> HashMap<String, String> {
    let given = template_variables(binary);
    let set_somewhere: BTreeSet<String> = FUNCTIONS
        .iter()
        .flat_map(|f| template_variables(f))
        .collect();
    env.iter()
        .filter(|(k, _)| !set_somewhere.contains(*k) || given.contains(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A deployed stack in miniature: six execution environments behind one HTTP API.
struct Stack {
    api: HttpApi,
    environments: BTreeMap<&'static str, Arc<ExecutionEnvironment>>,
    init: BTreeMap<&'static str, Duration>,
    /// Each function's DynamoDB calls, recorded on their way to DynamoDB Local.
    dynamodb: BTreeMap<&'static str, RecordingProxy>,
    /// Each function's own SSM / Secrets Manager double, when references are used.
    secrets: BTreeMap<&'static str, (SecretsDouble, RunningSecretsDouble)>,
    sim: WeChatSimulator,
    _sim_server: RunningSimulator,
    /// WeChat's API on a server of its own, so only the functions' connections count.
    wechat_api: RunningSimulator,
}

impl Stack {
    /// Starts the functions with the environment template.yaml gives them (plus the
    /// endpoints of the local doubles) and waits for each to finish init. The OpenID
    /// Provider is configured (one confidential client, the signing keys).
    async fn deploy(stage: &str, customize: impl FnOnce(&mut HashMap<String, String>)) -> Self {
        Self::deploy_with(stage, customize, None).await
    }

    /// [`Self::deploy`]; with `secrets`, each function reads its references from a double
    /// of its own that `secrets` fills, so the reads of each are known.
    async fn deploy_with(
        stage: &str,
        customize: impl FnOnce(&mut HashMap<String, String>),
        secrets: Option<fn(&SecretsDouble)>,
    ) -> Self {
        let wechat = SimulatorConfig::new(APP_ID, APP_SECRET);
        Self::deploy_on(stage, customize, secrets, wechat, None).await
    }

    /// [`Self::deploy_with`] with WeChat set up as `wechat` says, the API served on
    /// `listener` when given (bound beforehand, so that its address can be in the
    /// functions' environment).
    async fn deploy_on(
        stage: &str,
        customize: impl FnOnce(&mut HashMap<String, String>),
        secrets: Option<fn(&SecretsDouble)>,
        wechat: SimulatorConfig,
        listener: Option<tokio::net::TcpListener>,
    ) -> Self {
        let sim = WeChatSimulator::new(wechat);
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
        env.insert("OIDC_CLIENTS".into(), oidc_clients());
        env.insert("OIDC_SIGNING_KEYS".into(), oidc_signing_keys().into());
        env.insert("OIDC_JWKS".into(), oidc_jwks());
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
        let mut doubles = BTreeMap::new();
        for name in FUNCTIONS {
            let proxy = RecordingProxy::serve(&env["AWS_ENDPOINT_URL_DYNAMODB"], attr::STATE)
                .await
                .unwrap();
            let mut env = as_deployed(name, &env);
            env.insert("AWS_ENDPOINT_URL_DYNAMODB".into(), proxy.endpoint_url());
            dynamodb.insert(name, proxy);
            if let Some(fill) = secrets {
                let double = SecretsDouble::new();
                fill(&double);
                let server = double.serve_on_loopback().await.unwrap();
                env.insert("AWS_ENDPOINT_URL_SSM".into(), server.endpoint_url());
                env.insert(
                    "AWS_ENDPOINT_URL_SECRETS_MANAGER".into(),
                    server.endpoint_url(),
                );
                doubles.insert(name, (double, server));
            }
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
        let routes = template_routes(MP_VERIFY_TOKEN)
            .into_iter()
            .map(|(key, binary)| {
                let environment = FUNCTIONS
                    .iter()
                    .find(|f| **f == binary)
                    .map(|f| Arc::clone(&environments[f]))
                    .unwrap();
                (key, environment)
            })
            .collect();
        let config = HttpApiConfig {
            domain_name: DOMAIN.into(),
            stage: stage.into(),
            routes,
        };
        let api = match listener {
            Some(listener) => HttpApi::serve_on(listener, config),
            None => HttpApi::serve(config).await,
        }
        .unwrap();
        Self {
            api,
            environments,
            init,
            dynamodb,
            secrets: doubles,
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
        let callback_path = match scope {
            "snsapi_base" => "/getOpenId",
            _ => "/getWxUserInfo",
        };
        self.through_wechat(browser, &auth, user, callback_path)
            .await
    }

    /// A login started at `start` (`/auth` or `/oauth2/authorize`): to WeChat, back to
    /// `callback_path`, and where the callback sends the user. Returns that and the
    /// callback URL (on the API's loopback address).
    async fn through_wechat(
        &self,
        browser: &Browser,
        start: &str,
        user: &str,
        callback_path: &str,
    ) -> (String, String) {
        let response = browser.get(start).await;
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
            // The consent sheet, or the QR page scanned and confirmed on the phone.
            let answer = if url.contains("/connect/qrconnect?") {
                wechat_simulator::qr_scan_url(url, true)
            } else {
                wechat_simulator::consent_url(url, true)
            };
            response = wechat
                .get(answer)
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

/// The token for the front end's origin, verified independently of the gateway's own code.
fn verify(token: &str, issuer: &str) -> serde_json::Value {
    verify_for(token, issuer, "https://app.example.com")
}

/// The token for `audience`, verified as its backend does: HS256, `typ`, issuer, audience.
fn verify_for(token: &str, issuer: &str, audience: &str) -> serde_json::Value {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    let verified = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SIGNING_KEY.as_bytes()),
        &validation,
    )
    .expect("a valid token");
    // jsonwebtoken does not check `typ` itself; a backend pins it.
    assert_eq!(
        verified.header.typ.as_deref(),
        Some(wxauth_core::token::RESULT_TOKEN_TYPE)
    );
    verified.claims
}

const CLIENT_ID: &str = "shop-backend";
const CLIENT_SECRET: &str = "shop-backend-SECRET-must-never-leak-0123";
const REDIRECT_URI: &str = "https://app.example.com/oidc/callback";
// RFC 7636 Appendix B: a verifier and its S256 challenge, computed independently of the
// provider's code.
const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// OIDC_CLIENTS: one confidential client.
fn oidc_clients() -> String {
    serde_json::json!([{
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [REDIRECT_URI],
        "name": "Shop",
    }])
    .to_string()
}

/// OIDC_SIGNING_KEYS: an RSA and an EC key, made once per test binary.
fn oidc_signing_keys() -> &'static str {
    static KEYS: OnceLock<String> = OnceLock::new();
    KEYS.get_or_init(wxauth_core::oidc::keys::SigningKeys::generate_pem)
}

/// OIDC_JWKS: the public set of [`oidc_signing_keys`], as `wxauth-local jwks` prints it.
fn oidc_jwks() -> String {
    wxauth_local::public_jwks(oidc_signing_keys()).unwrap()
}
