//! WeChat's web-authorization API: the authorize URL, the code exchange, the profile.

mod authorize_url;
mod client;
mod clients;
mod error;
mod extra_roots;
mod reply;

pub use authorize_url::authorize_url;
pub use client::WeChatClient;
pub use clients::WeChatClients;
pub use error::{ErrorClass, WeChatError};
pub use extra_roots::{EXTRA_ROOTS_VARIABLE, ExtraRoots};
pub use reply::{AccessTokenReply, UserProfile, parse_access_token_reply, parse_user_profile};
