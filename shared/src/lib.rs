//! The core of wxauth: everything about a WeChat web-authorization login that does not
//! depend on where it runs. Lambda functions and the local server are thin adapters around
//! [`Gateway`].

// Public: what the adapters, the tests and the benchmarks use. The rest (request parsing,
// the two handlers, error mapping, rendering) is reached only through `Gateway`.
pub(crate) mod accept;
pub mod allowed_origins;
pub mod app_choice;
pub mod apps;
pub mod base_url;
pub mod browser_binding;
pub(crate) mod callback;
pub mod config;
pub mod deadline;
pub(crate) mod error;
pub(crate) mod error_page;
pub(crate) mod form_post;
pub mod gateway;
pub mod hostname;
pub(crate) mod html;
pub mod lang;
pub mod logging;
pub mod login_state;
pub mod metrics;
pub mod oidc;
pub mod query;
pub(crate) mod response;
pub mod result_url;
pub mod return_url;
pub mod route;
pub mod scope;
pub(crate) mod sealed_answer;
pub mod secret;
pub(crate) mod start_login;
pub mod store;
pub mod timing;
pub mod token;
pub mod warm_up;
pub mod wechat;

pub use allowed_origins::AllowedOrigins;
pub use apps::{AppKind, WeChatApp, WeChatApps};
pub use base_url::BaseUrl;
pub use config::{Config, ConfigError};
pub use gateway::{Gateway, GatewayRequest};
pub use login_state::{LoginState, StateId};
pub use return_url::ReturnUrl;
pub use route::Route;
pub use scope::{ResponseMode, Scope};
pub use store::{StateStore, StoreError};
pub use token::{ResultClaims, SigningKey, TokenError};
pub use wechat::{WeChatClient, WeChatError};
