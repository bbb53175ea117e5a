use url::Url;

use crate::login_state::StateId;
use crate::scope::Scope;

/// WeChat's consent-page URL: the Official Account's authorize page inside WeChat, or the
/// Open Platform's QR page for a Website App (`snsapi_login`). WeChat is known to mishandle
/// other parameter orders, and the `#wechat_redirect` fragment is required (it survives
/// our 302).
pub fn authorize_url(
    open_base: &Url,
    app_id: &str,
    redirect_uri: &str,
    scope: Scope,
    state: &StateId,
) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("appid", app_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", scope.as_str())
        .append_pair("state", state.as_str())
        .finish();
    let page = match scope {
        Scope::Base | Scope::UserInfo => "connect/oauth2/authorize",
        Scope::Login => "connect/qrconnect",
    };
    format!(
        "{}/{page}?{query}#wechat_redirect",
        open_base.as_str().trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_come_in_wechats_order_and_redirect_uri_is_encoded() {
        let base = Url::parse("https://open.weixin.qq.com").unwrap();
        let state = StateId::parse("abc123").unwrap();
        let url = authorize_url(
            &base,
            "wx0123456789abcdef",
            "https://gw.example.com/prod/getOpenId",
            Scope::Base,
            &state,
        );
        assert_eq!(
            url,
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx0123456789abcdef\
             &redirect_uri=https%3A%2F%2Fgw.example.com%2Fprod%2FgetOpenId\
             &response_type=code&scope=snsapi_base&state=abc123#wechat_redirect"
        );
    }

    #[test]
    fn a_base_with_a_path_is_kept() {
        let base = Url::parse("http://127.0.0.1:3000/wechat/").unwrap();
        let url = authorize_url(
            &base,
            "wx1",
            "http://127.0.0.1:3000/getWxUserInfo",
            Scope::UserInfo,
            &StateId::parse("s").unwrap(),
        );
        assert!(
            url.starts_with("http://127.0.0.1:3000/wechat/connect/oauth2/authorize?appid=wx1&")
        );
        assert!(url.contains("&scope=snsapi_userinfo&state=s#wechat_redirect"));
    }

    #[test]
    fn qr_login_goes_to_the_open_platforms_qr_page() {
        let base = Url::parse("https://open.weixin.qq.com").unwrap();
        let url = authorize_url(
            &base,
            "wx00000000000000bb",
            "https://gw.example.com/getQrUserInfo",
            Scope::Login,
            &StateId::parse("abc123").unwrap(),
        );
        assert_eq!(
            url,
            "https://open.weixin.qq.com/connect/qrconnect?appid=wx00000000000000bb\
             &redirect_uri=https%3A%2F%2Fgw.example.com%2FgetQrUserInfo\
             &response_type=code&scope=snsapi_login&state=abc123#wechat_redirect"
        );
    }
}
