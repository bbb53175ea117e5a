//! WeChat's web-authorization API: the authorize URL, the code exchange, the profile.

mod authorize_url;
mod client;
mod clients;
mod error;
mod error_class;
mod reply;

pub use authorize_url::authorize_url;
pub use client::{EXTRA_ROOTS_VARIABLE, ExtraRoots, WeChatClient};
pub use clients::WeChatClients;
pub use error::WeChatError;
pub use error_class::ErrorClass;
pub use reply::{AccessTokenReply, UserProfile, parse_access_token_reply, parse_user_profile};
