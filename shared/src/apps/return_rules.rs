//! Where an app's redirect-mode logins may go back to, and how: its
//! `allowed_return_origins` (else ALLOWED_RETURN_ORIGINS') and its `response_modes` (else
//! RESPONSE_MODES', else `query,form_post`), read from its `WECHAT_APPS` entry.

use serde_json::{Map, Value};

use crate::allowed_origins::AllowedOrigins;
use crate::response_modes::ResponseModes;

/// What an entry without its own rules gets (from the variables).
#[derive(Clone, Copy)]
pub(super) struct Fallback<'a> {
    /// ALLOWED_RETURN_ORIGINS.
    pub origins: Option<&'a AllowedOrigins>,
    /// ALLOWED_RETURN_ORIGINS was set but refused (its problem is reported already).
    pub origins_refused: bool,
    /// RESPONSE_MODES, or the default.
    pub response_modes: ResponseModes,
}

/// The app's own return origins, else ALLOWED_RETURN_ORIGINS'.
pub(super) fn read_origins(
    fields: &Map<String, Value>,
    fallback: Fallback<'_>,
    problem: &mut dyn FnMut(String),
) -> Option<AllowedOrigins> {
    match fields.get("allowed_return_origins") {
        Some(Value::String(v)) => match AllowedOrigins::parse(v) {
            Ok(origins) => Some(origins),
            Err(e) => {
                problem(format!("allowed_return_origins: {e}"));
                None
            }
        },
        Some(_) => {
            problem(
                "allowed_return_origins must be a string, as in ALLOWED_RETURN_ORIGINS".to_owned(),
            );
            None
        }
        None => match fallback.origins {
            Some(origins) => Some(origins.clone()),
            None if fallback.origins_refused => None,
            None => {
                problem(
                    "needs allowed_return_origins (or set ALLOWED_RETURN_ORIGINS for every app)"
                        .to_owned(),
                );
                None
            }
        },
    }
}

/// The app's own response modes, else RESPONSE_MODES' (or the default).
pub(super) fn read_response_modes(
    fields: &Map<String, Value>,
    fallback: Fallback<'_>,
    problem: &mut dyn FnMut(String),
) -> ResponseModes {
    match fields.get("response_modes") {
        None => fallback.response_modes,
        Some(Value::String(list)) => ResponseModes::parse(list).unwrap_or_else(|e| {
            problem(format!("response_modes {e}"));
            fallback.response_modes
        }),
        Some(_) => {
            problem("response_modes must be a string, as in RESPONSE_MODES".to_owned());
            fallback.response_modes
        }
    }
}
