//! The functions' JSON log lines, captured per thread while a test runs.

use std::sync::Mutex;

/// The log lines of the current thread, in the functions' JSON format, from `start` until
/// the guard is dropped. Thread-local, so tests running beside it neither add to it nor
/// lose their own lines to it.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Captures at `filter` (a RUST_LOG-style directive).
    pub fn start(filter: &str) -> (Self, tracing::subscriber::DefaultGuard) {
        // tracing caches, per callsite, whether any subscriber wants its events. While
        // at most one dispatcher exists, tracing-core (0.1.36) asks only the default of
        // the thread that reaches a callsite first: another test's thread, with no
        // subscriber, would cache "never" and this capture would miss that callsite's
        // events for good (seen: every event lost in 3 of 4 runs beside other tests). A
        // second dispatcher that lives for the whole process makes tracing ask every
        // live dispatcher instead; it wants nothing itself.
        static SECOND_DISPATCHER: std::sync::OnceLock<tracing::Dispatch> =
            std::sync::OnceLock::new();
        SECOND_DISPATCHER
            .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        let captured = Self::default();
        let writer = captured.clone();
        let guard = tracing::subscriber::set_default(wxauth_lambda::json_logs(
            move || writer.clone(),
            filter,
        ));
        (captured, guard)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// Every line, parsed (each must be JSON).
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    }
}
