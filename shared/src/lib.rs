//! The core of wxauth: everything about a WeChat web-authorization login that does not
//! depend on where it runs. Lambda functions and the local server are thin adapters around
//! [`Gateway`].

pub mod accept;
pub mod allowed_origins;
pub mod base_url;
pub mod browser_binding;
pub mod callback;
pub mod config;
pub mod deadline;
pub mod error;
pub mod form_post;
pub mod gateway;
pub mod hostname;
pub mod html;
pub mod logging;
pub mod login_state;
pub mod metrics;
pub mod query;
pub mod response;
pub mod result_url;
pub mod return_url;
pub mod route;
pub mod scope;
pub(crate) mod sealed_answer;
pub mod secret;
pub mod start_login;
pub mod store;
pub mod timing;
pub mod token;
pub mod wechat;

pub use allowed_origins::AllowedOrigins;
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
