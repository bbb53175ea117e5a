//! DynamoDB's answer to a conditional write lost after the write landed (a connection
//! dropped on the way back, or an attempt that timed out after DynamoDB acted). The SDK
//! sends the request again, and the second attempt finds the first one's work: the store
//! must recognise its own write there, not report someone else's (a login that "exists
//! already", a callback that "was consumed by another request", a code "replayed" and
//! revoked), or a network blip costs the user their login.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use wxauth_core::login_state::{Consumed, LoginState, StateId, now_epoch_seconds};
use wxauth_core::oidc::grant::{CODE_LIFETIME_SECONDS, Grant, GrantId, Redeemed, Redemption};
use wxauth_core::store::{BrowserCheck, Claim, DynamoStateStore, StateStore};
use wxauth_core::{AllowedOrigins, Config, Gateway, ResponseMode, ReturnUrl, Scope, WeChatClient};
use wxauth_tests::*;

/// A proxy in front of DynamoDB Local that passes every request on and, when told to,
/// lets the next request of one operation reach DynamoDB but closes the caller's
/// connection instead of handing the answer back; optionally it then holds every further
/// request (the SDK's retry) until released.
struct AnswerLosingProxy {
    url: String,
    /// The operation (`PutItem`, `UpdateItem`) whose next answer is lost.
    lose_next: Arc<Mutex<Option<&'static str>>>,
    hold_after_loss: Arc<AtomicBool>,
    /// Requests pass while true.
    gate: Arc<watch::Sender<bool>>,
    lost: Arc<AtomicUsize>,
}

impl AnswerLosingProxy {
    async fn start() -> Self {
        let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap();
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let lose_next: Arc<Mutex<Option<&'static str>>> = Arc::default();
        let hold_after_loss = Arc::new(AtomicBool::new(false));
        let gate = Arc::new(watch::channel(true).0);
        let lost = Arc::new(AtomicUsize::new(0));
        let (plan, hold, gate_in, count) = (
            Arc::clone(&lose_next),
            Arc::clone(&hold_after_loss),
            Arc::clone(&gate),
            Arc::clone(&lost),
        );
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (upstream, plan, hold, gate, count) = (
                    upstream.clone(),
                    Arc::clone(&plan),
                    Arc::clone(&hold),
                    Arc::clone(&gate_in),
                    Arc::clone(&count),
                );
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    // One request at a time per connection (HTTP/1.1 without pipelining).
                    while let Some(request) = read_http_message(&mut client).await {
                        if gate.subscribe().wait_for(|open| *open).await.is_err() {
                            return;
                        }
                        if server.write_all(&request).await.is_err() {
                            return;
                        }
                        let Some(answer) = read_http_message(&mut server).await else {
                            return;
                        };
                        let head = String::from_utf8_lossy(&request);
                        let operation = http_header(&head, "x-amz-target")
                            .and_then(|t| t.rsplit_once('.'))
                            .map(|(_, op)| op.to_owned());
                        let lose = {
                            let mut plan = plan.lock().unwrap();
                            let lose = plan.is_some() && operation.as_deref() == *plan;
                            if lose {
                                *plan = None;
                            }
                            lose
                        };
                        if lose {
                            if hold.load(Ordering::SeqCst) {
                                gate.send_replace(false);
                            }
                            count.fetch_add(1, Ordering::SeqCst);
                            return; // the write landed; its answer is dropped with the socket
                        }
                        if client.write_all(&answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            url,
            lose_next,
            hold_after_loss,
            gate,
            lost,
        }
    }

    fn lose_next_answer_of(&self, operation: &'static str) {
        *self.lose_next.lock().unwrap() = Some(operation);
    }

    /// As [`Self::lose_next_answer_of`], then holds every request until [`Self::release`].
    fn lose_next_answer_of_then_hold(&self, operation: &'static str) {
        self.hold_after_loss.store(true, Ordering::SeqCst);
        self.lose_next_answer_of(operation);
    }

    fn release(&self) {
        self.gate.send_replace(true);
    }

    async fn wait_for_loss(&self, count: usize) {
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while self.lost.load(Ordering::SeqCst) < count {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "the planned loss never happened");
    }

    /// Fails unless the planned loss happened (so a test cannot pass without it).
    fn assert_lost(&self, expected: usize) {
        assert!(
            self.lose_next.lock().unwrap().is_none(),
            "the planned loss never happened"
        );
        assert_eq!(self.lost.load(Ordering::SeqCst), expected);
    }
}

/// A grant for the client `rp` (no PKCE), as a callback stores it at `now`.
fn grant(now: i64) -> Grant {
    Grant {
        client_id: "rp".into(),
        redirect_uri: REDIRECT_URI.into(),
        code_challenge: None,
        nonce: None,
        scope: Scope::Base,
        auth_time: now,
        sub: "oSUB".into(),
        openid: "oSUB".into(),
        unionid: None,
        unionid_scope: false,
        name: None,
        picture: None,
        claims: Default::default(),
        code_expires_at: now + CODE_LIFETIME_SECONDS,
    }
}

/// What the token endpoint presents to redeem [`grant`]'s code at `now`.
fn redemption(now: i64) -> Redemption<'static> {
    Redemption {
        client_id: "rp",
        redirect_uri: REDIRECT_URI,
        code_challenge: None,
        now,
    }
}

const REDIRECT_URI: &str = "https://rp.example.com/cb";

#[tokio::test]
async fn every_conditional_write_recognises_its_own_landed_write_on_retry() {
    let proxy = AnswerLosingProxy::start().await;
    let client = dynamo_client_at(&proxy.url).await;
    let table = create_state_table(&client).await;
    let store = DynamoStateStore::new(client, table);
    let now = now_epoch_seconds();

    let origins = AllowedOrigins::parse("https://app.example.com").unwrap();
    let login = LoginState {
        state: StateId::generate(),
        app: "default".into(),
        scope: Scope::Base,
        return_url: ReturnUrl::parse("https://app.example.com/", &origins).unwrap(),
        response_mode: ResponseMode::Fragment,
        expires_at: now + 600,
        browser_binding: None,
        nonce: None,
        oidc: None,
    };

    proxy.lose_next_answer_of("PutItem");
    store
        .put_new(&login)
        .await
        .expect("the retried write is ours");
    proxy.assert_lost(1);
    assert_eq!(
        store.find(&login.state).await.unwrap(),
        Consumed::Fresh(login.clone())
    );

    proxy.lose_next_answer_of("UpdateItem");
    let claim = Claim {
        scope: Scope::Base,
        now,
        browser: BrowserCheck::Off,
    };
    assert_eq!(
        store.consume(&login.state, &claim, now + 60).await.unwrap(),
        Consumed::Fresh(login.clone()),
        "the retried consume is ours: the login must be handed over, not seen as used"
    );
    proxy.assert_lost(2);
    // Anyone else still finds it used, by then.
    assert!(matches!(
        store.consume(&login.state, &claim, now + 60).await.unwrap(),
        Consumed::Used { .. }
    ));

    let (_, id) = GrantId::generate();
    let grant = grant(now);
    proxy.lose_next_answer_of("PutItem");
    store.put_grant(&id, &grant).await.expect("ours");
    proxy.assert_lost(3);

    proxy.lose_next_answer_of("UpdateItem");
    let redemption = redemption(now);
    assert_eq!(
        store
            .redeem_grant(&id, &redemption, now + 600)
            .await
            .unwrap(),
        Redeemed::Fresh(grant),
        "the retried redemption is ours: not a replay"
    );
    proxy.assert_lost(4);
    let status = store.find_grant(&id, now).await.unwrap().unwrap();
    assert!(status.redeemed && !status.revoked, "{status:?}");
    // A real second redemption is still a replay, and revokes.
    assert_eq!(
        store
            .redeem_grant(&id, &redemption, now + 600)
            .await
            .unwrap(),
        Redeemed::Replayed
    );
}

/// The same, as the user sees it: `/auth` and the callback both lose DynamoDB's answer to
/// their write once, and the user still lands signed in.
#[tokio::test]
async fn a_login_survives_lost_answers_at_both_ends() {
    let proxy = AnswerLosingProxy::start().await;
    let env = TestEnv::start().await;
    let vars = env.vars().clone();
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let store = DynamoStateStore::new(dynamo_client_at(&proxy.url).await, &env.table);
    let env = env.with_gateway(Gateway::new(
        config,
        Arc::new(store),
        WeChatClient::http_client(),
    ));

    proxy.lose_next_answer_of("PutItem");
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    proxy.assert_lost(1);
    let callback = env.wechat_authorize(&authorize, "lou", true).await;
    proxy.lose_next_answer_of("UpdateItem");
    let response = env.follow_callback(&callback).await;
    proxy.assert_lost(2);
    let landing = location(&response).unwrap_or_else(|| panic!("{}", body_text(&response)));
    let params = result_params(&landing, false);
    assert!(params.contains_key("openid"), "{landing}");
    assert!(params.contains_key("token"), "{landing}");
}

/// A code presented by someone else between our redemption landing and our retry was
/// replayed: the grant is revoked, and our retry must not hand out tokens for it.
#[tokio::test]
async fn a_code_replayed_while_our_answer_was_lost_is_not_ours_any_more() {
    let _exclusive = exclusive().await;
    let proxy = AnswerLosingProxy::start().await;
    let direct_client = dynamo_client().await;
    let table = create_state_table(&direct_client).await;
    let direct = DynamoStateStore::new(direct_client, table.clone());
    let ours = DynamoStateStore::new(dynamo_client_at(&proxy.url).await, table);
    let now = now_epoch_seconds();
    let (_, id) = GrantId::generate();
    let grant = grant(now);
    direct.put_grant(&id, &grant).await.unwrap();
    let redemption = redemption(now);

    proxy.lose_next_answer_of_then_hold("UpdateItem");
    let redeeming = {
        let id = id.clone();
        tokio::spawn(async move { ours.redeem_grant(&id, &redemption, now + 600).await })
    };
    proxy.wait_for_loss(1).await;
    // Our redemption landed; its answer is lost and the retry held. Someone else now
    // presents the same code.
    assert_eq!(
        direct
            .redeem_grant(&id, &redemption, now + 600)
            .await
            .unwrap(),
        Redeemed::Replayed
    );
    proxy.release();
    assert_eq!(
        redeeming.await.unwrap().unwrap(),
        Redeemed::Replayed,
        "the grant was revoked before our retry saw it"
    );
    let status = direct.find_grant(&id, now).await.unwrap().unwrap();
    assert!(status.revoked, "{status:?}");
}
