//! The `LOG_FORMAT` variable: human-readable lines (default) or the Lambda functions' JSON.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// `LOG_FORMAT`'s value (`None` when unset; empty counts as unset), in any case.
pub fn parse_log_format(value: Option<&str>) -> Result<LogFormat, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(LogFormat::Text),
        Some(text) if text.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
        Some(text) if text.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
        Some(text) => Err(format!(
            "LOG_FORMAT: must be text (the default) or json (it is {text:?})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_read_or_defaulted() {
        assert_eq!(parse_log_format(None), Ok(LogFormat::Text));
        assert_eq!(parse_log_format(Some(" ")), Ok(LogFormat::Text));
        assert_eq!(parse_log_format(Some("text")), Ok(LogFormat::Text));
        assert_eq!(parse_log_format(Some("json")), Ok(LogFormat::Json));
        assert_eq!(parse_log_format(Some(" JSON ")), Ok(LogFormat::Json));
        for bad in ["xml", "jsonl", "pretty"] {
            let err = parse_log_format(Some(bad)).unwrap_err();
            assert!(err.starts_with("LOG_FORMAT: "), "{err}");
            assert!(err.contains(bad), "{err}");
        }
    }
}
