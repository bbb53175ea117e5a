//! One [`WeChatClient`] per configured app, all over one HTTP client: a callback exchanges
//! its code with the AppSecret of the app its login started with, and every app's calls
//! share the process's connections to WeChat's API.

use super::client::WeChatClient;
use crate::config::Config;

#[derive(Clone, Debug)]
pub struct WeChatClients(Vec<(String, WeChatClient)>);

impl WeChatClients {
    /// Clients for the apps that hold an AppSecret (all of them where the callbacks are
    /// served; see `config::Serves`).
    pub fn new(config: &Config, http: &reqwest::Client) -> Self {
        let clients = config
            .apps
            .iter()
            .filter_map(|app| {
                let secret = app.secret.clone()?;
                let client = WeChatClient::new(
                    http.clone(),
                    config.wechat_api_base.clone(),
                    config.wechat_api_fallbacks.clone(),
                    app.app_id.clone(),
                    secret,
                );
                Some((app.name.clone(), client))
            })
            .collect();
        Self(clients)
    }

    /// Opens the connection every app's calls share (one HTTP client, one API base).
    pub async fn warm_up(&self) -> Option<Result<(), reqwest::Error>> {
        let (_, client) = self.0.first()?;
        Some(client.warm_up().await)
    }

    /// The client of the app named `app`.
    pub fn for_app(&self, app: &str) -> Option<&WeChatClient> {
        self.0
            .iter()
            .find(|(name, _)| name == app)
            .map(|(_, client)| client)
    }
}
