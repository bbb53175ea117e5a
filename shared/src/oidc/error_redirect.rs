//! An error sent back to a relying party's verified redirect URI (RFC 6749 §4.1.2.1), with
//! its `state` and the issuer (RFC 9207): from the authorization endpoint, and from
//! WeChat's callback when an OpenID Connect login ends without a code.

use crate::base_url::BaseUrl;
use crate::handled::{Handled, Log};
use crate::lang::Lang;
use crate::login::outcome::ResultFields;
use crate::response;
use crate::return_url::ReturnUrl;
use crate::scope::ResponseMode;

/// An error sent to a verified redirect URI.
pub(crate) struct ErrorRedirect {
    pub redirect_uri: ReturnUrl,
    pub response_mode: ResponseMode,
    pub fields: ResultFields,
    pub error: &'static str,
}

impl ErrorRedirect {
    pub(crate) fn new(
        redirect_uri: ReturnUrl,
        response_mode: ResponseMode,
        error: &'static str,
        description: &str,
        state: Option<&str>,
        issuer: &BaseUrl,
    ) -> Self {
        Self {
            redirect_uri,
            response_mode,
            fields: error_fields(error, description, state, issuer),
            error,
        }
    }

    /// The relying party told, in the page's language where it is a page (form_post).
    pub(crate) fn into_handled(self, accept_language: Option<&str>) -> Handled {
        tracing::info!(error = self.error, "authorization request refused");
        let lang = Lang::from_accept_language(accept_language);
        let response = response::result(&self.redirect_uri, self.response_mode, &self.fields, lang);
        Handled::new(response, Log::plain("rejected"))
    }
}

/// The parameters an error goes back with.
pub(crate) fn error_fields(
    error: &str,
    description: &str,
    state: Option<&str>,
    issuer: &BaseUrl,
) -> ResultFields {
    let mut fields = vec![
        ("error".to_owned(), error.to_owned()),
        ("error_description".to_owned(), description.to_owned()),
    ];
    if let Some(state) = state {
        fields.push(("state".to_owned(), state.to_owned()));
    }
    fields.push(("iss".to_owned(), issuer.as_str().to_owned()));
    fields
}
