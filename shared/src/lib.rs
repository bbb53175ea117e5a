//! The core of wxauth: everything about a WeChat web-authorization login that does not
//! depend on where it runs. Lambda functions and the local server are thin adapters around
//! [`Gateway`]: they hand it a [`GatewayRequest`] and `dispatch` routes it to a handler,
//! the redirect mode's (`redirect/`), WeChat's callbacks (`callback/`) or the OpenID
//! Provider's (`oidc/`), which share how a login starts and ends (`login/`).

// Public: what the adapters, the tests and the benchmarks use. The rest (request parsing,
// the handlers, error mapping, rendering) is reached only through `Gateway::handle`.
pub(crate) mod accept;
pub mod allowed_origins;
pub mod app_token;
pub mod apps;
pub mod base_url;
pub(crate) mod callback;
pub(crate) mod code_login;
pub mod config;
pub mod dispatch;
pub(crate) mod error;
pub(crate) mod error_page;
pub mod gateway;
pub mod handled;
pub mod hostname;
pub(crate) mod html;
pub mod lang;
pub mod logging;
pub mod login;
pub mod login_state;
pub mod metrics;
pub mod oidc;
pub mod query;
pub mod redirect;
pub(crate) mod response;
pub mod response_modes;
pub(crate) mod result_token;
pub mod return_url;
pub mod route;
pub mod scope;
pub mod sealing_key;
pub mod secret;
pub mod store;
pub mod timing;
pub mod token;
pub mod warm_up;
pub mod wechat;

pub use allowed_origins::AllowedOrigins;
pub use apps::{AppKind, WeChatApp, WeChatApps};
pub use base_url::BaseUrl;
pub use code_login::MAX_BODY_BYTES as CODE_LOGIN_MAX_BODY_BYTES;
pub use config::{Config, ConfigError};
pub use dispatch::GatewayRequest;
pub use gateway::Gateway;
pub use login_state::{LoginState, StateId};
pub use return_url::ReturnUrl;
pub use route::Route;
pub use scope::{ResponseMode, Scope};
pub use store::{StateStore, StoreError};
pub use token::{ResultClaims, SigningKey, TokenError};
pub use wechat::{WeChatClient, WeChatError};
