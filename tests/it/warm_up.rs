//! The init-time warm-up (wxauth_core::warm_up) against real endpoints: it opens the
//! connections the first requests then reuse, stays within its budget when DynamoDB and
//! WeChat's API accept connections but never answer, and reports what failed.

use std::sync::Arc;
use std::time::Duration;

use wxauth_core::store::DynamoStateStore;
use wxauth_core::warm_up::{Warmed, warm_up};
use wxauth_core::{Config, Gateway, WeChatClient};
use wxauth_tests::*;

/// Accepts connections and reads from them, never answering: a black-holed service.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

#[tokio::test]
async fn warm_up_opens_the_connections_the_first_login_reuses() {
    let env = TestEnv::start().await;
    let warmed = warm_up(&env.gateway, Duration::from_secs(5)).await;
    assert_eq!(warmed.store, Warmed::Ready);
    assert_eq!(warmed.wechat, Some(Warmed::Ready));
    assert!(warmed.all_ready());
    // The connection to WeChat's API is open before any login, and the login reuses it
    // (the browser's own visits to the simulator's pages open one connection each).
    let opened = env.sim_server.connections_accepted();
    assert_eq!(opened, 1);
    env.login(
        "warm",
        "https://app.example.com/",
        wxauth_core::Scope::Base,
        None,
    )
    .await;
    assert_eq!(env.sim_server.connections_accepted(), opened + 1);
}

#[tokio::test]
async fn a_black_holed_network_costs_at_most_the_budget_and_is_not_fatal() {
    let env = TestEnv::start().await;
    let (dynamo, _dynamo_task) = silent_server().await;
    let (wechat, _wechat_task) = silent_server().await;
    let mut vars = env.vars().clone();
    vars.insert("WECHAT_API_BASE", wechat);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let store = DynamoStateStore::new(dynamo_client_at(&dynamo).await, env.table.clone());
    let gateway = Gateway::new(config, Arc::new(store), WeChatClient::http_client());
    let budget = Duration::from_millis(400);
    let warmed = warm_up(&gateway, budget).await;
    assert_eq!(warmed.store, Warmed::TimedOut);
    assert_eq!(warmed.wechat, Some(Warmed::TimedOut));
    assert!(!warmed.all_ready());
    assert!(
        warmed.elapsed < budget + Duration::from_millis(200),
        "{:?}",
        warmed.elapsed
    );
}

#[tokio::test]
async fn a_refused_connection_is_reported_and_a_process_without_callbacks_skips_wechat() {
    let env = TestEnv::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let vars = env.vars().clone();
    let config = Config::for_routes(wxauth_core::config::Serves::StartOnly, |name| {
        vars.get(name).cloned()
    })
    .unwrap();
    let store = DynamoStateStore::new(dynamo_client_at(&closed).await, env.table.clone());
    let gateway = Gateway::new(config, Arc::new(store), WeChatClient::http_client());
    let warmed = warm_up(&gateway, Duration::from_secs(5)).await;
    assert!(
        matches!(warmed.store, Warmed::Failed(_)),
        "{:?}",
        warmed.store
    );
    assert_eq!(
        warmed.wechat, None,
        "the auth function talks to no WeChat API"
    );
}
