//! WeChat's web-authorization API: the authorize URL, the code exchange, the profile
//! (one [`WeChatClient::sign_in`] per callback), a Mini Program's `jscode2session`, and how
//! WeChat's errcodes are classed (`error.rs`).

mod authorize_url;
mod client;
mod clients;
mod error;
mod error_class;
mod extra_roots;
mod reply;
mod sign_in;

pub use authorize_url::authorize_url;
pub use client::{FetchedAppToken, MiniProgramSession, WeChatClient};
pub use clients::WeChatClients;
pub use error::WeChatError;
pub use error_class::ErrorClass;
pub use extra_roots::{EXTRA_ROOTS_VARIABLE, ExtraRoots};
pub use reply::{AccessTokenReply, UserProfile, parse_access_token_reply, parse_user_profile};
pub use sign_in::{MAX_CODE_LEN, SignedIn};
