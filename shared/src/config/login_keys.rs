//! What finishing a login takes that starting one does not: `TOKEN_SIGNING_KEY`, which
//! signs the result token, and `SEALING_KEY`, which seals what a process keeps for
//! another (a callback's answer for a repeat of it, an app's shared access token), both
//! where logins finish: the callbacks and the code login. Two secrets, never one value.

use super::Serves;
use super::reader::Reader;
use crate::sealing_key::SealingKey;
use crate::token::{MIN_KEY_BYTES, SigningKey};

/// TOKEN_SIGNING_KEY and SEALING_KEY, in a process that finishes logins: `None` elsewhere,
/// and when a key is refused (its problem is reported).
pub(super) fn read(
    reader: &mut Reader<'_>,
    serves: Serves,
) -> (Option<SigningKey>, Option<SealingKey>) {
    let signing_key = reader.required_if(serves.finishes_logins(), "TOKEN_SIGNING_KEY", |v| {
        SigningKey::new(v.as_bytes()).map_err(|_| {
            format!(
                "must be at least {MIN_KEY_BYTES} bytes (it has {}; the value is not shown)",
                v.len()
            )
        })
    });
    // What one Lambda environment seals another must open (a repeated callback, the app
    // token a code login shares): the functions need the key configured. A single process
    // (wxauth-local) opens only what it sealed itself, so a random key serves it.
    let parse = |v: &str| SealingKey::new(v).map_err(|e| e.to_string());
    let sealing_key = match serves {
        Serves::Callbacks | Serves::CodeLogin => reader.required("SEALING_KEY", parse),
        Serves::Everything => reader
            .optional("SEALING_KEY", parse)
            .or_else(|| (!reader.failed("SEALING_KEY")).then(SealingKey::generate)),
        _ => None,
    };
    if let (Some(signing), Some(sealing)) = (&signing_key, &sealing_key)
        && signing.as_bytes() == sealing.as_bytes()
    {
        reader.problem(
            "SEALING_KEY",
            "must not be TOKEN_SIGNING_KEY's value: it is a secret of its own",
        );
        return (None, None);
    }
    (signing_key, sealing_key)
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{MINIMAL, config, config_for};
    use crate::config::{Config, Serves};
    use crate::sealing_key::SealingKey;

    #[test]
    fn the_sealing_key_is_a_secret_of_its_own_required_by_the_callbacks() {
        let without: Vec<(&str, &str)> = MINIMAL
            .iter()
            .copied()
            .filter(|(n, _)| *n != "SEALING_KEY")
            .collect();
        let with = |key: &str| {
            let mut vars: Vec<(String, String)> = without
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            vars.push(("SEALING_KEY".into(), key.into()));
            vars
        };
        let for_routes = |serves: Serves, vars: &[(String, String)]| {
            Config::for_routes(serves, |name| {
                vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
            })
        };
        // The callback functions must be given it: a repeat may land on another one.
        let err = config_for(Serves::Callbacks, &without).unwrap_err();
        let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["SEALING_KEY"]);
        let given = "a-sealing-key-of-its-own-0123456789";
        let c = for_routes(Serves::Callbacks, &with(given)).unwrap();
        assert_eq!(c.sealing_key.unwrap(), SealingKey::new(given).unwrap());
        // 32 bytes exactly is enough, 31 is not, and the value is never quoted.
        assert!(for_routes(Serves::Callbacks, &with(&"k".repeat(32))).is_ok());
        let err = for_routes(Serves::Callbacks, &with(&"k".repeat(31))).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        let text = err.to_string();
        assert!(
            text.contains("SEALING_KEY: must be at least 32 bytes (it has 31"),
            "{text}"
        );
        assert!(!text.contains(&"k".repeat(31)));
        // Never TOKEN_SIGNING_KEY's value, in any process that reads both.
        for serves in [Serves::Callbacks, Serves::Everything] {
            let err = for_routes(serves, &with("0123456789abcdef0123456789abcdef")).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{err}");
            assert_eq!(err.problems[0].0, "SEALING_KEY");
            assert!(err.problems[0].1.contains("a secret of its own"));
            assert!(!err.to_string().contains("0123456789abcdef"));
        }
        // One process (wxauth-local) opens only what it sealed: a random key serves it.
        let a = config(&without).unwrap().sealing_key.unwrap();
        let b = config(&without).unwrap().sealing_key.unwrap();
        assert_ne!(a, b);
        // The code login needs it too (it seals the shared app token).
        assert_eq!(
            config_for(Serves::CodeLogin, &without)
                .unwrap_err()
                .problems[0]
                .0,
            "SEALING_KEY"
        );
        // The start and OpenID Provider functions never read it.
        for serves in [Serves::StartOnly, Serves::OidcToken, Serves::OidcUserInfo] {
            assert!(!serves.reads("SEALING_KEY") && !serves.reads("SEALING_KEY_REF"));
        }
    }
}
