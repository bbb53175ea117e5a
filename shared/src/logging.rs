//! The log subscribers both adapters install (the Lambda functions and `wxauth-local`): which
//! levels the environment asks for, the cap on other crates' verbosity, and the two formats.
//!
//! Level: `RUST_LOG` when set (and valid), else Lambda's `AWS_LAMBDA_LOG_LEVEL` (advanced
//! logging controls), else the adapter's default.
//!
//! The cap: only wxauth's own crates may log below `info`. The HTTP, TLS, AWS SDK and Lambda
//! runtime crates print request URIs, headers and bodies at debug and trace (lambda_runtime
//! the raw event, with the callback's code, state and cookies; the AWS SDK the DynamoDB and
//! SSM bodies, states and a decrypted AppSecret included; WeChat's API URL holds the
//! AppSecret and the code). `RUST_LOG=trace` must not turn the logs into a secret store, so
//! this holds whatever the filter says, span-scoped directives (`[request]=trace`) included.

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The crates allowed below [`DEPENDENCY_CAP`]: the gateway's own (module-path prefixes).
pub const OWN_TARGETS: [&str; 3] = ["wxauth_core", "wxauth_lambda", "wxauth_local"];

/// The most any other crate may log, whatever the filter says.
pub const DEPENDENCY_CAP: LevelFilter = LevelFilter::INFO;

/// The filter the environment asks for, already checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFilter {
    directives: String,
    /// A setting that was ignored and why, to log once the subscriber is installed (there
    /// is nowhere to say it before).
    pub ignored: Option<String>,
}

impl LogFilter {
    /// Exactly these `RUST_LOG`-style directives (tests and fixed set-ups).
    pub fn new(directives: &str) -> Self {
        Self {
            directives: directives.to_owned(),
            ignored: None,
        }
    }

    /// From the process environment; `default` when it asks for nothing.
    pub fn from_env(default: &str) -> Self {
        Self::from_lookup(|name| std::env::var(name).ok(), default)
    }

    /// `RUST_LOG` (set, not blank, and parseable) wins; else `AWS_LAMBDA_LOG_LEVEL`
    /// (`TRACE` … `FATAL`, any case; `FATAL` is `error`, tracing has nothing above it); else
    /// `default`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, default: &str) -> Self {
        let mut ignored = None;
        if let Some(rust_log) = lookup("RUST_LOG").filter(|v| !v.trim().is_empty()) {
            match EnvFilter::try_new(&rust_log) {
                Ok(_) => return Self::new(&rust_log),
                Err(err) => ignored = Some(format!("RUST_LOG ignored: {err}")),
            }
        }
        if let Some(level) = lookup("AWS_LAMBDA_LOG_LEVEL").filter(|v| !v.trim().is_empty()) {
            match lambda_level(&level) {
                Some(directive) => {
                    return Self {
                        directives: directive.to_owned(),
                        ignored,
                    };
                }
                None => {
                    ignored.get_or_insert_with(|| {
                        format!(
                            "AWS_LAMBDA_LOG_LEVEL ignored: {level:?} is not one of TRACE, \
                             DEBUG, INFO, WARN, ERROR, FATAL"
                        )
                    });
                }
            }
        }
        Self {
            directives: default.to_owned(),
            ignored,
        }
    }

    /// The directives in effect, as `RUST_LOG` would spell them.
    pub fn directives(&self) -> &str {
        &self.directives
    }

    fn env_filter(&self) -> EnvFilter {
        EnvFilter::new(&self.directives)
    }
}

/// Lambda's level names as a tracing directive.
fn lambda_level(value: &str) -> Option<&'static str> {
    Some(match value.trim().to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => return None,
    })
}

/// The cap, as a filter layer in front of the user's: an event passes only if both agree.
fn dependency_cap() -> Targets {
    OWN_TARGETS.iter().fold(
        Targets::new().with_default(DEPENDENCY_CAP),
        |targets, own| targets.with_target(*own, LevelFilter::TRACE),
    )
}

/// The functions' format: one JSON object per line, the request's span (request id, route)
/// on every line, no timestamp (CloudWatch adds its own).
pub fn json_logs<W>(writer: W, filter: &LogFilter) -> impl Subscriber + Send + Sync + use<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter.env_filter())
        .with_writer(writer)
        .without_time()
        .with_ansi(false)
        .finish()
        .with(dependency_cap())
}

/// Human-readable lines, with the same filter and cap.
pub fn text_logs<W>(
    writer: W,
    filter: &LogFilter,
    ansi: bool,
) -> impl Subscriber + Send + Sync + use<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter.env_filter())
        .with_writer(writer)
        .with_ansi(ansi)
        .finish()
        .with(dependency_cap())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn rust_log_wins_then_lambdas_level_then_the_default() {
        let pick = |vars: &[(&str, &str)]| LogFilter::from_lookup(env(vars), "info");
        assert_eq!(pick(&[]), LogFilter::new("info"));
        assert_eq!(pick(&[("RUST_LOG", " ")]), LogFilter::new("info"));
        assert_eq!(
            pick(&[
                ("AWS_LAMBDA_LOG_LEVEL", "debug"),
                ("RUST_LOG", "warn,wxauth_core=trace")
            ]),
            LogFilter::new("warn,wxauth_core=trace")
        );
        for (level, directive) in [
            ("TRACE", "trace"),
            ("Debug", "debug"),
            ("info", "info"),
            ("WARN", "warn"),
            ("ERROR", "error"),
            ("fatal", "error"),
        ] {
            assert_eq!(
                pick(&[("AWS_LAMBDA_LOG_LEVEL", level)]),
                LogFilter::new(directive),
                "{level}"
            );
        }
    }

    #[test]
    fn unusable_settings_fall_through_and_are_reported() {
        let filter = LogFilter::from_lookup(
            env(&[
                ("RUST_LOG", "wxauth_core=loud"),
                ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
            ]),
            "info",
        );
        assert_eq!(filter.directives(), "warn");
        assert!(filter.ignored.unwrap().starts_with("RUST_LOG ignored: "));

        let filter = LogFilter::from_lookup(env(&[("AWS_LAMBDA_LOG_LEVEL", "VERBOSE")]), "info");
        assert_eq!(filter.directives(), "info");
        let why = filter.ignored.unwrap();
        assert!(
            why.starts_with("AWS_LAMBDA_LOG_LEVEL ignored: \"VERBOSE\" is not one of"),
            "{why}"
        );
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// What a few events print under `directives`, as dependencies would emit them (the
    /// targets are theirs) and as the gateway does.
    fn emitted_under(directives: &str, json: bool) -> String {
        // While only one dispatcher exists, tracing-core caches a callsite's interest from
        // the default of whichever thread reaches it first, and these tests run in parallel
        // under different filters: a second dispatcher alive for the whole process makes
        // it ask every live one (as tests/support::CapturedLogs does).
        static SECOND_DISPATCHER: std::sync::OnceLock<tracing::Dispatch> =
            std::sync::OnceLock::new();
        SECOND_DISPATCHER
            .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        let captured = Captured::default();
        let writer = captured.clone();
        let make = move || writer.clone();
        let filter = LogFilter::new(directives);
        let run = || {
            let span = tracing::info_span!("request", request_id = "r-1", route = "auth");
            let _entered = span.enter();
            tracing::trace!(target: "lambda_runtime::layers::api_response", body = "{code}", "raw event");
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "dynamodb body");
            tracing::debug!(target: "hyper_util::client::legacy", "GET /sns/oauth2/access_token");
            tracing::trace!(target: "h2::codec", "headers frame");
            tracing::debug!(target: "reqwest::connect", "connecting");
            tracing::info!(target: "aws_config::meta", "dependency info passes");
            tracing::trace!(target: "wxauth_core::callback", "own trace passes");
        };
        if json {
            tracing::subscriber::with_default(json_logs(make, &filter), run);
        } else {
            tracing::subscriber::with_default(text_logs(make, &filter, false), run);
        }
        captured.text()
    }

    #[test]
    fn dependencies_stay_at_info_whatever_the_filter_says() {
        for directives in [
            "trace",
            "[request]=trace",
            "info,hyper_util=trace,h2=trace,reqwest=trace,lambda_runtime=trace,aws_smithy_runtime=trace,wxauth_core=trace",
            "info,lambda_runtime::layers::api_response=trace,wxauth_core=trace",
        ] {
            for json in [true, false] {
                let text = emitted_under(directives, json);
                for capped in [
                    "raw event",
                    "dynamodb body",
                    "access_token",
                    "headers frame",
                    "connecting",
                ] {
                    assert!(!text.contains(capped), "{directives}: {capped} in {text}");
                }
                assert!(
                    text.contains("dependency info passes"),
                    "{directives}: {text}"
                );
                assert!(text.contains("own trace passes"), "{directives}: {text}");
            }
        }
        // The cap never enables anything: the user's filter still decides below it.
        let quiet = emitted_under("warn", true);
        assert!(quiet.is_empty(), "{quiet}");
    }

    #[test]
    fn json_lines_carry_the_request_span() {
        let text = emitted_under("info", true);
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["span"]["request_id"], "r-1", "{line}");
        assert_eq!(line["span"]["route"], "auth", "{line}");
        assert_eq!(
            line["fields"]["message"], "dependency info passes",
            "{line}"
        );
        assert!(line.get("timestamp").is_none(), "{line}");
    }
}
