//! The SDK's errors sorted into [`StoreError`]s: a deployment that is wrong
//! (`Misconfigured`, for an operator) told from DynamoDB busy or unreachable
//! (`Unavailable`, worth a retry).

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::store::StoreError;

/// DynamoDB's error codes that mean our deployment is wrong rather than DynamoDB busy or
/// unreachable: a missing grant, a wrong table name, a request the table's shape refuses,
/// credentials it does not know. Retrying cannot fix them, so they must not look
/// temporary: the client would retry forever and no alarm would fire.
const PERMANENT_ERRORS: [&str; 4] = [
    "AccessDeniedException",
    "ResourceNotFoundException",
    "ValidationException",
    "UnrecognizedClientException",
];

pub(super) fn store_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    classify(err.code(), err.message(), || {
        DisplayErrorContext(&err).to_string()
    })
}

/// An operation's own error (`UpdateItemError`, `PutItemError`), once the failed
/// condition it may also be was taken out of it.
pub(super) fn operation_error<E>(err: E) -> StoreError
where
    E: ProvideErrorMetadata + std::fmt::Display,
{
    classify(err.code(), err.message(), || err.to_string())
}

/// Sorts a DynamoDB error by its code. The detail (code and message, which names the
/// table or the missing permission) is for the operator's log line; requests never carry
/// secrets to DynamoDB, so neither can its messages.
fn classify(
    code: Option<&str>,
    message: Option<&str>,
    context: impl FnOnce() -> String,
) -> StoreError {
    match code {
        Some(code) => {
            let detail = format!("{code}: {}", message.unwrap_or("no message"));
            if PERMANENT_ERRORS.contains(&code) {
                StoreError::Misconfigured(detail)
            } else {
                StoreError::Unavailable(detail)
            }
        }
        None => StoreError::Unavailable(context()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_errors_are_told_from_temporary_ones() {
        let no_context = || "no code".to_owned();
        for code in PERMANENT_ERRORS {
            assert!(matches!(
                classify(Some(code), Some("m"), no_context),
                StoreError::Misconfigured(d) if d == format!("{code}: m")
            ));
        }
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "InternalServerError",
            "ServiceUnavailable",
        ] {
            assert!(matches!(
                classify(Some(code), None, no_context),
                StoreError::Unavailable(_)
            ));
        }
        assert!(matches!(
            classify(None, None, no_context),
            StoreError::Unavailable(d) if d == "no code"
        ));
    }
}
