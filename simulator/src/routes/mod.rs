mod access_token;
mod authorize;
mod userinfo;

use axum::Router;
use axum::routing::get;

use crate::WeChatSimulator;

pub(crate) fn router(sim: WeChatSimulator) -> Router {
    Router::new()
        .route("/connect/oauth2/authorize", get(authorize::authorize))
        .route("/connect/oauth2/authorize/confirm", get(authorize::confirm))
        .route("/sns/oauth2/access_token", get(access_token::access_token))
        .route("/sns/userinfo", get(userinfo::userinfo))
        .with_state(sim)
}
