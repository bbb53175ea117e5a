//! Reading variables one by one while collecting what is wrong with them: every problem is
//! kept, by variable name, so a deployment learns all of them at once rather than one per
//! cold start; and a problem is a sentence about the value, never the value (it may be a
//! secret). The small parsers every part of the configuration shares sit here too.

use std::time::Duration;

use super::ConfigError;

/// The variables of one process, as its policy lets it see them (set and non-empty only),
/// and the problems found so far.
pub(super) struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<(&'static str, String)>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            lookup,
            problems: Vec::new(),
        }
    }

    /// The raw value of `name`, without checking it (to decide what else is required).
    pub(super) fn value(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// The lookup itself, for a parser that reads values by names of its own (the resolved
    /// `app_secret_ref`s of WECHAT_APPS).
    pub(super) fn lookup(&self) -> &'a dyn Fn(&str) -> Option<String> {
        self.lookup
    }

    pub(super) fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match (self.lookup)(name) {
            None => {
                self.problems.push((name, "is required but not set".into()));
                None
            }
            Some(v) => self.parse(name, v.trim(), parse),
        }
    }

    /// Required when `needed`, not read at all otherwise.
    pub(super) fn required_if<T>(
        &mut self,
        needed: bool,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if needed {
            self.required(name, parse)
        } else {
            None
        }
    }

    pub(super) fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let v = (self.lookup)(name)?;
        self.parse(name, v.trim(), parse)
    }

    pub(super) fn problem(&mut self, name: &'static str, problem: &str) {
        self.problems.push((name, problem.to_owned()));
    }

    /// Whether `name` was set but refused (its problem is reported already).
    pub(super) fn failed(&self, name: &str) -> bool {
        self.problems.iter().any(|(n, _)| *n == name)
    }

    /// Whether no problem was found so far.
    pub(super) fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Every problem found, in the order the variables were read.
    pub(super) fn into_error(self) -> ConfigError {
        ConfigError {
            problems: self.problems,
        }
    }

    fn parse<T>(
        &mut self,
        name: &'static str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(value) {
            Ok(v) => Some(v),
            Err(problem) => {
                self.problems.push((name, problem));
                None
            }
        }
    }
}

pub(super) fn seconds_in(v: &str, min: u64, max: u64) -> Result<Duration, String> {
    let n: u64 = v
        .parse()
        .map_err(|_| "must be a whole number of seconds".to_owned())?;
    if (min..=max).contains(&n) {
        Ok(Duration::from_secs(n))
    } else {
        Err(format!("must be between {min} and {max}"))
    }
}

/// A switch (BROWSER_BINDING, INIT_WARM_UP): `on` or `off`.
pub(super) fn on_off(v: &str) -> Result<bool, String> {
    match v {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("must be on or off".to_owned()),
    }
}
