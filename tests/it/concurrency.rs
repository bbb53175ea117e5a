//! Many visitors at once, spread over several execution environments: each login lands on
//! its own return URL with its own openid (the hand-rolled single-Redis-key bug).

use std::collections::HashSet;
use std::sync::Arc;

use wxauth_core::store::DynamoStateStore;
use wxauth_core::{Gateway, Scope, WeChatClient};
use wxauth_tests::*;

const VISITORS: usize = 100;
const ENVIRONMENTS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_logins_never_cross() {
    let _exclusive = exclusive().await;
    let env = Arc::new(TestEnv::start().await);
    // Each environment with its own client, but without the production SDK timeouts:
    // DynamoDB Local shares its one process with the rest of the suite (tables created
    // and dropped beside this burst), and this test is about logins never crossing, not
    // about how fast a loaded emulator answers (store_faults covers the timeouts).
    let mut gateways = Vec::new();
    for _ in 0..ENVIRONMENTS {
        let vars = env.vars().clone();
        let config = wxauth_core::Config::from_lookup(|n| vars.get(n).cloned()).unwrap();
        let store = DynamoStateStore::new(dynamo_client().await, &env.table);
        gateways.push(Gateway::new(
            config,
            Arc::new(store),
            WeChatClient::http_client(),
        ));
    }
    let gateways: Arc<Vec<Gateway>> = Arc::new(gateways);

    let mut tasks = Vec::new();
    for i in 0..VISITORS {
        let env = Arc::clone(&env);
        let gateways = Arc::clone(&gateways);
        tasks.push(tokio::spawn(async move {
            let user = format!("visitor{i}");
            let return_url = format!("https://app.example.com/page/{i}?visitor={i}");
            let scope = if i % 2 == 0 {
                Scope::Base
            } else {
                Scope::UserInfo
            };
            // Like Lambda: the start and the callback may run in different environments.
            let starter = &gateways[i % ENVIRONMENTS];
            let finisher = &gateways[(i + 1) % ENVIRONMENTS];
            let query = encode(&[("url", &return_url), ("scope", scope.as_str())]);
            let started = env.invoke_on(starter, "/auth", &query, None).await;
            assert_eq!(started.status(), 302);
            let authorize = location(&started).unwrap();
            let callback = env.wechat_authorize(&authorize, &user, true).await;
            let finished = env.follow_callback_on(finisher, &callback).await;
            assert_eq!(finished.status(), 302, "{}", body_text(&finished));
            (i, user, location(&finished).unwrap())
        }));
    }

    let mut openids = HashSet::new();
    for task in tasks {
        let (i, user, landing) = task.await.unwrap();
        assert!(
            landing.starts_with(&format!(
                "https://app.example.com/page/{i}?visitor={i}&openid="
            )),
            "visitor {i} landed on {landing}"
        );
        let params = result_params(&landing, false);
        assert_eq!(params["openid"], env.sim.openid_for(&user), "visitor {i}");
        if i % 2 == 1 {
            assert_eq!(params["nickname"], user);
        }
        openids.insert(params["openid"].clone());
    }
    assert_eq!(openids.len(), VISITORS);
    env.assert_no_secret_leaked();
}
