//! End to end under a Lambda runtime emulator: the five real function binaries run as
//! processes against an emulated Lambda Runtime API, behind an emulated API Gateway HTTP
//! API (payload 2.0) with template.yaml's routes, with DynamoDB Local and the WeChat
//! simulator. A browser walks both redirect flows and the OpenID Connect code flow over
//! HTTP, so `main`, `wxauth_lambda::run` (secret references, config, clients at cold
//! start), the payload 2.0 adapter (events, cookies, bodies, responses) and the stage /
//! base-URL derivation are exercised as deployed, not only the handlers. Each function is
//! given only the variables template.yaml gives it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
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
use wxauth_lambda::secret_refs::REFERENCE_VARIABLES;
use wxauth_tests::template::{self, Evaluator};
use wxauth_tests::{
    APP_ID, APP_SECRET, DOMAIN, SIGNING_KEY, create_state_table, dynamo_client, encode, exclusive,
    parse_set_cookie, result_params, serves_of_binary, test_vars,
};

const FUNCTIONS: [&str; 5] = [
    "auth",
    "base-callback",
    "userinfo-callback",
    "oidc-token",
    "oidc-userinfo",
];
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

/// A browser: no automatic redirects, and a cookie jar that honours `Path` (the gateway
/// scopes its binding cookie to the callback path).
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
/// `mp_verify_token`), whatever their conditions: all five functions run here.
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

/// A deployed stack in miniature: five execution environments behind one HTTP API.
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
            let proxy = RecordingProxy::serve(&env["AWS_ENDPOINT_URL_DYNAMODB"])
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

/// A response's JSON body.
async fn json(response: reqwest::Response) -> serde_json::Value {
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// What a relying party's backend gets from the token endpoint.
struct Tokens {
    access_token: String,
    id_claims: serde_json::Value,
}

impl Stack {
    /// The relying party's whole code flow for `user`: discovery, the authorization
    /// request (PKCE, state, nonce) through the auth function, WeChat, the callback's
    /// redirect with the code, the code redeemed at the token endpoint with
    /// `client_secret_post` (or Basic), and the ID token verified with the published
    /// JWKS. Returns the tokens and the code (for a replay).
    async fn oidc_login(
        &self,
        browser: &Browser,
        user: &str,
        scope: &str,
        basic: bool,
    ) -> (Tokens, String) {
        let issuer = self.api.public_base_url();
        let client = wxauth_tests::browser();
        // What the relying party reads first: discovery, served by oidc-userinfo.
        let response = client
            .get(format!(
                "{}/.well-known/openid-configuration",
                self.api.base_url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let discovery = json(response).await;
        assert_eq!(discovery["issuer"], issuer.as_str());
        for (field, path) in [
            ("authorization_endpoint", "/oauth2/authorize"),
            ("token_endpoint", "/oauth2/token"),
            ("userinfo_endpoint", "/oauth2/userinfo"),
            ("jwks_uri", "/.well-known/jwks.json"),
        ] {
            assert_eq!(discovery[field], format!("{issuer}{path}"), "{field}");
        }
        let local = |public: &serde_json::Value| {
            self.api
                .local_url(public.as_str().unwrap())
                .expect("an endpoint of this API")
        };

        let state = format!("rp-state-{user}");
        let nonce = format!("rp-nonce-{user}");
        let authorize = format!(
            "{}?{}",
            local(&discovery["authorization_endpoint"]),
            encode(&[
                ("client_id", CLIENT_ID),
                ("redirect_uri", REDIRECT_URI),
                ("response_type", "code"),
                ("scope", scope),
                ("state", &state),
                ("nonce", &nonce),
                ("code_challenge", PKCE_CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
        );
        let callback_path = if scope.split(' ').any(|s| s == "profile") {
            "/getWxUserInfo"
        } else {
            "/getOpenId"
        };
        let (landed, _) = self
            .through_wechat(browser, &authorize, user, callback_path)
            .await;
        assert!(landed.starts_with(&format!("{REDIRECT_URI}?")), "{landed}");
        let params = result_params(&landed, false);
        assert_eq!(params["state"], state);
        assert_eq!(params["iss"], issuer);
        let code = params["code"].clone();

        // The relying party's backend redeems the code (oidc-token).
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", PKCE_VERIFIER),
        ];
        if !basic {
            form.extend([("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
        }
        let mut request = client
            .post(local(&discovery["token_endpoint"]))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(&form));
        if basic {
            request = request.basic_auth(CLIENT_ID, Some(CLIENT_SECRET));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = json(response).await;
        assert_eq!(body["token_type"], "Bearer", "{body}");

        // The ID token, verified with the JWKS (oidc-userinfo) by an independent library.
        let response = client
            .get(local(&discovery["jwks_uri"]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(json(response).await).unwrap();
        let id_token = body["id_token"].as_str().unwrap();
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
        let jwk = jwks
            .find(header.kid.as_deref().expect("a kid"))
            .expect("the ID token's key is published");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[CLIENT_ID]);
        validation.set_issuer(&[issuer.as_str()]);
        let id_claims = jsonwebtoken::decode::<serde_json::Value>(
            id_token,
            &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
            &validation,
        )
        .expect("a valid ID token")
        .claims;
        assert_eq!(id_claims["nonce"], nonce.as_str());
        assert_eq!(id_claims["sub"], self.sim.openid_for(user).as_str());
        let tokens = Tokens {
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            id_claims,
        };
        (tokens, code)
    }

    /// userinfo (oidc-userinfo) with `access_token`, by GET or POST.
    async fn userinfo(&self, access_token: &str, post: bool) -> reqwest::Response {
        let url = format!("{}/oauth2/userinfo", self.api.base_url());
        let client = wxauth_tests::browser();
        let request = if post {
            client.post(url)
        } else {
            client.get(url)
        };
        request
            .bearer_auth(access_token)
            .send()
            .await
            .expect("the API answers")
    }

    /// The token endpoint, redeeming `code` (again) with the client's secret in the body.
    async fn redeem(&self, code: &str) -> reqwest::Response {
        wxauth_tests::browser()
            .post(format!("{}/oauth2/token", self.api.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", PKCE_VERIFIER),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ]))
            .send()
            .await
            .expect("the API answers")
    }
}

/// The OpenID Connect flows through the five binaries: a base login (base-callback
/// stores the grant) redeemed with `client_secret_post`, a profile login (userinfo-callback)
/// redeemed with Basic, userinfo by GET and POST, CORS preflights, and a replayed code
/// that revokes the tokens issued from it.
async fn openid_connect_flows(stack: &Stack, browser: &Browser) {
    let (tokens, code) = stack.oidc_login(browser, "erin", "openid", false).await;
    let openid = stack.sim.openid_for("erin");
    assert_eq!(tokens.id_claims["openid"], openid.as_str());
    assert!(tokens.id_claims.get("name").is_none());
    for post in [false, true] {
        let response = stack.userinfo(&tokens.access_token, post).await;
        assert_eq!(response.status(), 200);
        let claims = json(response).await;
        assert_eq!(claims["sub"], openid.as_str());
        assert_eq!(claims["openid"], openid.as_str());
    }

    let (profile, _) = stack
        .oidc_login(browser, "frank", "openid profile", true)
        .await;
    let response = stack.userinfo(&profile.access_token, false).await;
    assert_eq!(response.status(), 200);
    let claims = json(response).await;
    assert_eq!(claims["sub"], stack.sim.openid_for("frank").as_str());
    assert!(claims["name"].is_string(), "{claims}");
    assert_eq!(claims["name"], profile.id_claims["name"]);

    // A browser-based relying party's preflights, answered by the functions themselves.
    for path in ["/oauth2/token", "/oauth2/userinfo"] {
        let response = wxauth_tests::browser()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}{path}", stack.api.base_url()),
            )
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert!(
            response
                .headers()
                .contains_key("access-control-allow-methods"),
            "{path}"
        );
    }

    // The code again: refused, and the grant it came from is revoked, so its access
    // token stops working at userinfo.
    let response = stack.redeem(&code).await;
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    assert_eq!(body["error"], "invalid_grant");
    let response = stack.userinfo(&tokens.access_token, false).await;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // The other login's tokens are untouched.
    assert_eq!(
        stack.userinfo(&profile.access_token, true).await.status(),
        200
    );
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

    openid_connect_flows(&stack, &browser).await;

    let logs = stack.logs();
    for secret in [APP_SECRET, SIGNING_KEY, CLIENT_SECRET] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    assert!(
        !logs.contains("PRIVATE KEY"),
        "a signing key reached the logs"
    );
    assert!(logs.contains("\"route\":\"auth\""), "{logs}");
    assert!(logs.contains("\"route\":\"oidc-token\""), "{logs}");
    // A plain client_secret sits in the auth and callback functions' environments too: each
    // function given it says so once, at init, naming the client.
    let warning = format!("OIDC_CLIENTS gives client_secret in plain (clients: {CLIENT_ID})");
    let warned: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(&warning) && l.contains("\"level\":\"WARN\""))
        .collect();
    assert_eq!(
        warned.len(),
        4,
        "auth, both callbacks and the token function: {logs}"
    );
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
    // the browser's cookie, a grant stored by each callback, redeemed, replayed and
    // revoked, and read by userinfo).
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
fn granted_dynamodb_actions(binary: &str) -> BTreeSet<String> {
    let t = template::cached();
    let role = template::role_of(template::function_building(t, binary));
    let mut actions = BTreeSet::new();
    for policy in t["Resources"][role]["Properties"]["Policies"]
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
    // Each callback function opened its connection during init (wxauth_core::warm_up).
    assert_eq!(stack.wechat_api.connections_accepted(), 2);
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
    assert_eq!(stack.wechat_api.connections_accepted(), 2);
    let logs = stack.logs();
    assert!(logs.contains("connections warmed up"), "{logs}");

    // Without warm-up nothing is opened at init; the first login opens the connection.
    let cold = Stack::deploy("$default", |env| {
        env.insert("INIT_WARM_UP".into(), "off".into());
    })
    .await;
    assert_eq!(cold.wechat_api.connections_accepted(), 0);
    for name in FUNCTIONS {
        assert!(
            !cold.dynamodb[name]
                .iam_actions("dynamodb")
                .contains("dynamodb:DescribeTable"),
            "{name}"
        );
    }
    cold.login(
        &browser,
        "late",
        "snsapi_userinfo",
        "https://app.example.com/",
    )
    .await;
    assert_eq!(cold.wechat_api.connections_accepted(), 1);
    assert!(!cold.logs().contains("connections warmed up"));
}

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

/// `(reference variable, its reference, the call that reads it)`.
fn references() -> [(&'static str, String, String); 4] {
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
            "OIDC_CLIENTS_REF",
            "ssm:/wxauth/oidc-clients".into(),
            "AmazonSSM.GetParameter /wxauth/oidc-clients".into(),
        ),
        (
            "OIDC_SIGNING_KEYS_REF",
            format!("secretsmanager:{OIDC_SECRET_ARN}#signing_keys"),
            format!("secretsmanager.GetSecretValue {OIDC_SECRET_ARN}"),
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
    // Spelled out: auth reads the clients only, userinfo the keys only, the token
    // endpoint both, the callbacks all but the keys (they sign result tokens with
    // TOKEN_SIGNING_KEY here, and no ID token).
    assert_eq!(
        calls_of("auth"),
        ["AmazonSSM.GetParameter /wxauth/oidc-clients"]
    );
    assert_eq!(
        calls_of("oidc-userinfo"),
        [format!("secretsmanager.GetSecretValue {OIDC_SECRET_ARN}")]
    );
    assert_eq!(calls_of("oidc-token").len(), 2);
    assert_eq!(calls_of("base-callback").len(), 3);

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
    assert_eq!(total, 1 + 3 + 3 + 2 + 1, "secrets are read at init only");

    let logs = stack.logs();
    assert!(logs.contains("secret references resolved"), "{logs}");
    assert!(!logs.contains("gives client_secret in plain"), "{logs}");
    for secret in [APP_SECRET, SIGNING_KEY, CLIENT_SECRET] {
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
        !CALLBACK_ONLY_SECRETS.contains(&k.as_str()) && !k.starts_with("OIDC_SIGNING_KEYS")
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
    for (name, needs) in [
        ("oidc-token", &["OIDC_CLIENTS", "OIDC_SIGNING_KEYS"][..]),
        ("oidc-userinfo", &["OIDC_SIGNING_KEYS"][..]),
    ] {
        let mut env = unreadable_reference_env(&server);
        for variable in needs {
            env.remove(&format!("{variable}_REF"));
        }
        if needs.contains(&"OIDC_CLIENTS") {
            env.insert("OIDC_CLIENTS".into(), oidc_clients());
        }
        env.insert("OIDC_SIGNING_KEYS".into(), oidc_signing_keys().into());
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

/// The clients the relying-party libraries' tests use (tests/oidc-clients/clients.json,
/// both openid-client's and Authlib's), as OIDC_CLIENTS.
fn library_clients() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/oidc-clients/clients.json");
    let by_library: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let all: Vec<&serde_json::Value> = by_library.values().flat_map(|c| c.values()).collect();
    serde_json::to_string(&all).unwrap()
}

/// The relying-party libraries' test suites (tests/oidc-clients/), as commands run from the
/// repository's root; `None` when scripts/oidc-clients.sh has not installed them: a
/// failure under CI (`CI` set), else a visible skip.
fn relying_party_suites() -> Option<Vec<(&'static str, std::process::Command)>> {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let cache = root.join(".cache/oidc-clients");
    let python = cache.join("venv/bin/python");
    let runs = |command: &mut std::process::Command| {
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = runs(std::process::Command::new("node").arg("--version"))
        && cache
            .join("node_modules/openid-client/package.json")
            .is_file()
        && runs(std::process::Command::new(&python).args(["-c", "import authlib, pytest"]));
    if !installed {
        let reason = "the relying-party libraries (openid-client, Authlib) are not installed in \
                      .cache/oidc-clients; scripts/oidc-clients.sh installs them";
        assert!(std::env::var_os("CI").is_none(), "{reason}");
        // Straight to stderr: libtest captures eprintln! of passing tests.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("skipped: {reason}\n").as_bytes(),
        );
        return None;
    }
    let mut node = std::process::Command::new("node");
    node.args(["--test", "tests/oidc-clients/openid-client.test.mjs"]);
    let mut pytest = std::process::Command::new(python);
    pytest.args([
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests/oidc-clients/test_authlib.py",
    ]);
    let suites = vec![("openid-client", node), ("Authlib", pytest)];
    Some(
        suites
            .into_iter()
            .map(|(name, mut command)| {
                command.current_dir(root);
                (name, command)
            })
            .collect(),
    )
}

/// The real relying-party libraries (Node's openid-client and Python's Authlib, the suites
/// of tests/oidc-clients/ that otherwise run against wxauth-local) against the function
/// binaries under the emulator: discovery, PKCE, state, nonce, the code exchange with each
/// client authentication, the ID token checked against the JWKS, userinfo, form_post, the
/// refusals. The libraries must reach the issuer, so the API is served on a port bound
/// first and the functions are given it as PUBLIC_BASE_URL (plain http on loopback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relying_party_libraries_against_the_functions() {
    let Some(suites) = relying_party_suites() else {
        return;
    };
    let _exclusive = exclusive().await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    // As in wxauth-local's demo: bound to the Open Platform, so profile logins have a
    // unionid, which the suites check.
    let mut wechat = SimulatorConfig::new(APP_ID, APP_SECRET);
    wechat.bound_to_open_platform = true;
    let stack = Stack::deploy_on(
        "$default",
        |env| {
            env.insert("PUBLIC_BASE_URL".into(), issuer.clone());
            env.insert("OIDC_CLIENTS".into(), library_clients());
        },
        None,
        wechat,
        Some(listener),
    )
    .await;
    assert_eq!(stack.api.base_url(), issuer);

    for (name, mut command) in suites {
        command.env("WXAUTH_OIDC_ISSUER", &issuer);
        let started = std::time::Instant::now();
        // Off the runtime's threads: the API and its environments keep serving meanwhile.
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{name}'s tests failed against the functions ({}):\n{stdout}\n{stderr}\n\
             functions' logs:\n{}",
            output.status,
            stack.logs()
        );
        // What ran and what was skipped, where it is seen: straight to stderr.
        let summary: Vec<&str> = stdout
            .lines()
            .filter(|l| {
                (l.starts_with("# ") && !l.starts_with("# Subtest"))
                    || l.contains("skipped")
                    || l.contains(" passed")
            })
            .collect();
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "{name} against the functions ({:.1?}):\n{}\n",
                started.elapsed(),
                summary.join("\n")
            )
            .as_bytes(),
        );
    }

    let logs = stack.logs();
    let clients = library_clients();
    let clients: Vec<serde_json::Value> = serde_json::from_str(&clients).unwrap();
    for secret in clients
        .iter()
        .filter_map(|c| c["client_secret"].as_str())
        .chain([APP_SECRET])
    {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    assert!(logs.contains("\"route\":\"oidc-userinfo\""), "{logs}");
}

const WEB_APP_ID: &str = "wx00000000000000bb";
const WEB_SECRET: &str = "WEBSECRET-from-ssm-must-never-leak";

/// The apps' secrets where WECHAT_APPS's `app_secret_ref`s point (template.yaml's default
/// WeChatAppSecretsPrefix).
fn fill_app_secrets(double: &SecretsDouble) {
    double.put_parameter("/wxauth/apps/mp", APP_SECRET);
    double.put_parameter("/wxauth/apps/web", WEB_SECRET);
}

/// QR login and scope=auto through the five binaries, configured by WECHAT_APPS alone with
/// both AppSecrets in SSM: only the callbacks read them, at init; a desktop browser logs
/// in by QR code on /getQrUserInfo (userinfo-callback) with the Website App's secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_login_with_app_secrets_from_ssm_through_the_function_binaries() {
    let _exclusive = exclusive().await;
    let mut wechat = SimulatorConfig::new(APP_ID, APP_SECRET)
        .with_app(wechat_simulator::SimApp::website(WEB_APP_ID, WEB_SECRET).bound());
    wechat.bound_to_open_platform = true;
    let apps = serde_json::json!([
        {"name": "mp", "kind": "official_account", "app_id": APP_ID,
         "app_secret_ref": "ssm:/wxauth/apps/mp", "qr_app": "web"},
        {"name": "web", "kind": "website", "app_id": WEB_APP_ID,
         "app_secret_ref": "ssm:/wxauth/apps/web"},
    ])
    .to_string();
    let stack = Stack::deploy_on(
        "prod",
        |env| {
            env.remove("WECHAT_APP_ID");
            env.remove("WECHAT_APP_SECRET");
            env.insert("WECHAT_APPS".into(), apps);
        },
        Some(fill_app_secrets),
        wechat,
        None,
    )
    .await;
    for name in FUNCTIONS {
        let mut calls = stack.secrets[name].0.calls();
        calls.sort();
        let expected: &[&str] = match name {
            "base-callback" | "userinfo-callback" => &[
                "AmazonSSM.GetParameter /wxauth/apps/mp",
                "AmazonSSM.GetParameter /wxauth/apps/web",
            ],
            _ => &[],
        };
        assert_eq!(calls, expected, "{name}");
    }

    let desktop = Browser::named("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15");
    let auth = format!(
        "{}/auth?{}",
        stack.api.base_url(),
        encode(&[("url", "https://app.example.com/"), ("scope", "auto")])
    );
    let (landed, _) = stack
        .through_wechat(&desktop, &auth, "ivy", "/getQrUserInfo")
        .await;
    let params = result_params(&landed, false);
    assert_eq!(
        params["openid"],
        stack.sim.openid_for_app(WEB_APP_ID, "ivy")
    );
    assert_eq!(params["unionid"], stack.sim.unionid_for("ivy"));
    let claims = verify(&params["token"], &format!("https://{DOMAIN}/prod"));
    assert_eq!(claims["appid"], WEB_APP_ID);
    assert_eq!(claims["scope"], "snsapi_login");

    // Inside WeChat the same request goes to the Official Account (its secret from SSM).
    let (landed, _) = stack
        .through_wechat(&Browser::new(), &auth, "ivy", "/getOpenId")
        .await;
    let inside = result_params(&landed, false);
    assert_eq!(inside["openid"], stack.sim.openid_for("ivy"));

    let logs = stack.logs();
    for secret in [APP_SECRET, WEB_SECRET, SIGNING_KEY] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
