//! The gateway: one value built at cold start that holds what the handlers share
//! (config, store, WeChat clients, metrics). Requests reach it through `dispatch`.

use std::sync::Arc;

use crate::config::Config;
use crate::metrics::MetricsSink;
use crate::sealing_key::SealingKey;
use crate::store::{DynamoStateStore, StateStore, TimedStore};
use crate::wechat::WeChatClients;

/// What every handler shares, built once at cold start: the configuration, the store,
/// the WeChat clients (only where logins finish) and the metrics sink.
pub struct Gateway {
    config: Config,
    store: Arc<dyn StateStore>,
    /// Only where logins finish (`config::Serves::finishes_logins`): the callbacks and the
    /// code login.
    wechat: Option<WeChatClients>,
    metrics: MetricsSink,
}

impl Gateway {
    pub fn new(config: Config, store: Arc<dyn StateStore>, http: reqwest::Client) -> Self {
        Self::build(config, store, Some(http))
    }

    /// The production set-up: DynamoDB (STATE_TABLE is required) and, where logins
    /// finish, an HTTP client for WeChat. The auth function builds none: parsing the
    /// compiled-in roots would only cost its cold start.
    pub async fn with_dynamodb(config: Config) -> Result<Self, String> {
        let table = config
            .state_table
            .clone()
            .ok_or("STATE_TABLE: is required but not set")?;
        let store = DynamoStateStore::from_env(table).await;
        let http = config.signing_key.is_some().then(|| {
            crate::wechat::WeChatClient::http_client_with(config.wechat_extra_roots.as_ref())
        });
        Ok(Self::build(config, Arc::new(store), http))
    }

    fn build(config: Config, store: Arc<dyn StateStore>, http: Option<reqwest::Client>) -> Self {
        let wechat = config
            .signing_key
            .as_ref()
            .zip(http)
            .map(|(_, http)| WeChatClients::new(&config, &http));
        Self {
            config,
            store: Arc::new(TimedStore(store)),
            wechat,
            metrics: MetricsSink::Off,
        }
    }

    pub fn with_metrics(mut self, metrics: MetricsSink) -> Self {
        self.metrics = metrics;
        self
    }

    pub(crate) fn metrics(&self) -> &MetricsSink {
        &self.metrics
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &dyn StateStore {
        self.store.as_ref()
    }

    /// What a callback takes to finish a login: `None` in a process that serves none.
    pub fn finisher(&self) -> Option<(&WeChatClients, &SealingKey)> {
        self.wechat.as_ref().zip(self.config.sealing_key.as_ref())
    }

    /// The WeChat clients of the apps whose AppSecrets this process keeps: `None` where no
    /// login finishes.
    pub fn wechat_clients(&self) -> Option<&WeChatClients> {
        self.wechat.as_ref()
    }
}
