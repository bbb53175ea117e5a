//! The `PORT` variable.

pub const DEFAULT_PORT: u16 = 3000;

/// `PORT`'s value (`None` when unset; empty counts as unset); 0 asks for any free port.
pub fn parse_port(value: Option<&str>) -> Result<u16, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(DEFAULT_PORT),
        Some(text) => text
            .parse()
            .map_err(|_| format!("PORT: must be a port number from 0 to 65535 (it is {text:?})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_or_defaulted() {
        assert_eq!(parse_port(None), Ok(3000));
        assert_eq!(parse_port(Some(" ")), Ok(3000));
        assert_eq!(parse_port(Some("8080")), Ok(8080));
        assert_eq!(parse_port(Some("0")), Ok(0));
        for bad in ["80a", "65536", "-1", "3000.0"] {
            let err = parse_port(Some(bad)).unwrap_err();
            assert!(err.starts_with("PORT: "), "{err}");
        }
    }
}
