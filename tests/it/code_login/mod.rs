//! `POST /login/code` through `wxauth-local` over real sockets, WeChat simulated on its own
//! port and DynamoDB Local as the table: the logins themselves (`login.rs`) and the
//! verified phone number with the apps' shared access token (`phone.rs`). The world both
//! start from is here: the Official Account of the single-app variables, a Mini Program and
//! a mobile app bound to one Open Platform account, and one gateway or several sharing one
//! table as separate processes would.

mod login;
mod phone;

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use wechat_simulator::{RunningSimulator, SimApp, SimulatorConfig, WeChatSimulator};
use wxauth_tests::*;

const MINI_ID: &str = "wx00000000000000cc";
const MINI_SECRET: &str = "MINISECRET-must-never-leak-5d2e";
const MOBILE_ID: &str = "wx00000000000000dd";
const MOBILE_SECRET: &str = "MOBILESECRET-must-never-leak-8f3a";
const MINI_AUDIENCE: &str = "https://api.example.com";

struct World {
    sim: WeChatSimulator,
    _sim_server: RunningSimulator,
    /// Gateways as separate processes would be: each its own store client, HTTP client
    /// and configuration, one table.
    servers: Vec<wxauth_local::LocalServer>,
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
    http: reqwest::Client,
}

/// `apps` picks which code apps WECHAT_APPS lists (`mini`, `ios`), `gateways` how many
/// gateways serve them.
async fn world(apps: &[&str], gateways: usize) -> World {
    let mut config = SimulatorConfig::new(APP_ID, APP_SECRET)
        .with_app(SimApp::miniprogram(MINI_ID, MINI_SECRET).bound())
        .with_app(SimApp::mobile_app(MOBILE_ID, MOBILE_SECRET).bound());
    config.bound_to_open_platform = true;
    let sim = WeChatSimulator::new(config);
    let sim_server = sim.serve_on_loopback().await.unwrap();
    let dynamo = dynamo_client().await;
    let table = create_state_table(&dynamo).await;
    let mut vars = test_vars(&sim_server.base_url, &table);
    let listed: Vec<Value> = apps
        .iter()
        .map(|name| match *name {
            "mini" => serde_json::json!({"name": "mini", "kind": "miniprogram", "app_id": MINI_ID,
                "app_secret": MINI_SECRET, "token_audience": MINI_AUDIENCE}),
            _ => serde_json::json!({"name": "ios", "kind": "mobile_app", "app_id": MOBILE_ID,
                "app_secret": MOBILE_SECRET}),
        })
        .collect();
    vars.insert("WECHAT_APPS", Value::from(listed).to_string());
    let mut servers = Vec::new();
    for _ in 0..gateways {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let vars = vars.clone();
        servers.push(
            wxauth_local::start(move |name| vars.get(name).cloned(), listener)
                .await
                .expect("wxauth-local starts"),
        );
    }
    World {
        sim,
        _sim_server: sim_server,
        servers,
        dynamo,
        table,
        http: reqwest::Client::new(),
    }
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap()
    }

    /// Status, `error` and `Retry-After`.
    fn error(&self) -> (u16, String, Option<String>) {
        (
            self.status,
            self.json()["error"].as_str().unwrap_or_default().to_owned(),
            self.headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
        )
    }
}

impl World {
    /// The first gateway's base URL.
    fn base_url(&self) -> &str {
        &self.servers[0].base_url
    }

    /// `POST /login/code` to gateway `server` with this body.
    async fn post_to(&self, server: usize, content_type: &str, body: String) -> Answer {
        let response = self
            .http
            .post(format!("{}/login/code", self.servers[server].base_url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        }
    }

    async fn post(&self, content_type: &str, body: String) -> Answer {
        self.post_to(0, content_type, body).await
    }

    async fn form(&self, pairs: &[(&str, &str)]) -> Answer {
        self.form_to(0, pairs).await
    }

    async fn form_to(&self, server: usize, pairs: &[(&str, &str)]) -> Answer {
        self.post_to(server, "application/x-www-form-urlencoded", encode(pairs))
            .await
    }

    /// The table's items.
    async fn items(&self) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let scan = self
            .dynamo
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        scan.items().to_vec()
    }

    /// The table's items, as text, for searching.
    async fn table_text(&self) -> String {
        format!("{:?}", self.items().await)
    }

    /// Verifies the token as the app's backend would, with an independent JWT library:
    /// HS256, `typ`, issuer, audience, expiry.
    fn verify(&self, token: &str, audience: &str) -> HashMap<String, Value> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[self.base_url()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let verified = jsonwebtoken::decode::<HashMap<String, Value>>(
            token,
            &DecodingKey::from_secret(SIGNING_KEY.as_bytes()),
            &validation,
        )
        .expect("the token verifies");
        assert_eq!(
            verified.header.typ.as_deref(),
            Some(wxauth_core::token::RESULT_TOKEN_TYPE)
        );
        verified.claims
    }

    /// Fails if a secret is in the answer's body or headers: the AppSecrets, the keys, and
    /// whatever WeChat handed out (codes, access tokens, phone codes, session keys).
    fn assert_nothing_secret_in(&self, answer: &Answer) {
        let headers = format!("{:?}", answer.headers);
        for secret in self.secrets() {
            assert!(
                !answer.text.contains(&secret),
                "{secret} in {}",
                answer.text
            );
            assert!(!headers.contains(&secret), "{secret} in {headers}");
        }
    }

    fn secrets(&self) -> Vec<String> {
        let mut secrets = self.sim.issued_secrets();
        secrets.extend(self.sim.issued_session_keys());
        secrets.extend(
            [
                APP_SECRET,
                MINI_SECRET,
                MOBILE_SECRET,
                SIGNING_KEY,
                SEALING_KEY,
            ]
            .map(str::to_owned),
        );
        secrets
    }
}
