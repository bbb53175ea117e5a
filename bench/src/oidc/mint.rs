//! Authorization codes for the timed redemptions, obtained the way a browser obtains them,
//! before anything is timed. Each code has its own PKCE verifier (S256), `state` and
//! `nonce`; the final redirect must carry the `state` back.
//!
//! - wxauth: `GET /oauth2/authorize` (as WeChat's in-app browser, so the Official
//!   Account's silent `snsapi_base` login is chosen), the simulated WeChat's authorize
//!   page (an immediate redirect), the callback with the browser-binding cookie, which
//!   redirects to the client with the code.
//! - oidc-provider: `GET /auth`, then `/interaction/:uid` (the benchmark server's
//!   stand-in for a login page: it logs in and grants `openid` through the provider's
//!   interaction API), then `/auth/:uid`, which redirects with the code; the provider's
//!   cookies are carried between the three as a browser would.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wxauth_core::oidc::grant::GrantId;
use wxauth_core::oidc::pkce::s256_challenge;

use super::provider::{CLIENT_ID, Kind, Provider, REDIRECT_URI};
use crate::{binding_cookie, location};

/// WeChat's in-app browser: wxauth then logs in through the Official Account, silently.
const WECHAT_USER_AGENT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322f) NetType/WIFI Language/zh_CN";

/// A code and the verifier its authorization request's challenge came from.
pub struct Minted {
    pub code: String,
    pub verifier: String,
}

/// `count` codes, obtained by `concurrency` browsers at once.
pub async fn mint(
    provider: &Provider,
    client: &reqwest::Client,
    count: usize,
    concurrency: usize,
) -> Vec<Minted> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (next, client) = (Arc::clone(&next), client.clone());
        let (kind, authorize) = (provider.kind, provider.authorize_url());
        let base = provider.base.clone();
        tasks.push(tokio::spawn(async move {
            let mut minted = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let user = format!("user{worker}");
                minted.push(one(kind, &base, &authorize, &client, &user).await);
            }
            minted
        }));
    }
    let mut all = Vec::with_capacity(count);
    for task in tasks {
        all.extend(task.await.expect("a minting task"));
    }
    all
}

/// 32 random bytes, base64url: a PKCE verifier, or an unguessable state or nonce.
fn random_text() -> String {
    GrantId::generate().0
}

async fn one(
    kind: Kind,
    base: &str,
    authorize: &str,
    client: &reqwest::Client,
    user: &str,
) -> Minted {
    let verifier = random_text();
    let state = random_text();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", &state)
        .append_pair("nonce", &random_text())
        .append_pair(
            "code_challenge",
            &s256_challenge(&verifier).expect("a valid verifier"),
        )
        .append_pair("code_challenge_method", "S256")
        .finish();
    let request = format!("{authorize}?{query}");
    let back = match kind {
        Kind::Wxauth => through_wechat(client, &request, user).await,
        Kind::Node => through_interaction(client, base, &request, user).await,
    };
    let back = url::Url::parse(&back).expect("an absolute redirect to the client");
    assert!(
        back.as_str().starts_with(REDIRECT_URI),
        "not back at the client: {back}"
    );
    let params: BTreeMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(
        params.get("state"),
        Some(&state),
        "state not echoed: {back}"
    );
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {back}"))
        .clone();
    Minted { code, verifier }
}

async fn through_wechat(client: &reqwest::Client, request: &str, user: &str) -> String {
    let started = client
        .get(request)
        .header("user-agent", WECHAT_USER_AGENT)
        .send()
        .await
        .expect("/oauth2/authorize");
    let cookie = binding_cookie(&started).expect("a binding cookie");
    let at_wechat = client
        .get(location(&started).split('#').next().unwrap())
        .header("x-wechat-sim-user", user)
        .send()
        .await
        .expect("WeChat's authorize page");
    let finished = client
        .get(location(&at_wechat))
        .header("cookie", cookie)
        .header("user-agent", WECHAT_USER_AGENT)
        .send()
        .await
        .expect("the callback");
    location(&finished)
}

async fn through_interaction(
    client: &reqwest::Client,
    base: &str,
    request: &str,
    user: &str,
) -> String {
    let mut jar = Jar::default();
    let started = client.get(request).send().await.expect("/auth");
    jar.keep(&started);
    let interaction = absolute(base, &location(&started));
    let finished = client
        .get(interaction)
        .header("cookie", jar.header())
        .header("x-account", user)
        .send()
        .await
        .expect("/interaction/:uid");
    jar.keep(&finished);
    let resume = absolute(base, &location(&finished));
    let answered = client
        .get(resume)
        .header("cookie", jar.header())
        .send()
        .await
        .expect("/auth/:uid");
    location(&answered)
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with('/') {
        format!("{base}{location}")
    } else {
        location.to_owned()
    }
}

/// The cookies one browser holds for the provider (paths aside: the provider ignores
/// cookies it did not ask for).
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn keep(&mut self, answer: &reqwest::Response) {
        for value in answer.headers().get_all("set-cookie") {
            let Some(cookie) = value
                .to_str()
                .ok()
                .and_then(|v| cookie::Cookie::parse(v).ok())
            else {
                continue;
            };
            if cookie.value().is_empty() {
                self.0.remove(cookie.name());
            } else {
                self.0
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
