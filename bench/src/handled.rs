//! The gateway's `handled` log lines, captured in-process: each request's own time and
//! what it waited on, as the gateway measured them (see `wxauth_core::timing`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Clone, Copy, Debug, Default)]
pub struct HandledTimes {
    pub own: Duration,
    pub wechat: Duration,
    pub store: Duration,
}

/// A tracing layer that keeps the time split of every `handled` line.
#[derive(Clone, Default)]
pub struct HandledLines(Arc<Mutex<Vec<HandledTimes>>>);

impl HandledLines {
    /// Installs the capture as this process's subscriber (the benchmarks' only one).
    pub fn install() -> Self {
        let lines = Self::default();
        // INFO, as the functions log in production: lower levels would add the HTTP
        // stacks' trace events to every request.
        let subscriber =
            tracing_subscriber::registry().with(lines.clone().with_filter(LevelFilter::INFO));
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        lines
    }

    /// The lines captured so far, emptied.
    pub fn take(&self) -> Vec<HandledTimes> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[derive(Default)]
struct Fields {
    handled: bool,
    times: HandledTimes,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        let us = Duration::from_micros(value);
        match field.name() {
            "own_us" => self.times.own = us,
            "wechat_us" => self.times.wechat = us,
            "store_us" => self.times.store = us,
            _ => {}
        }
    }

    // The message comes as format arguments, so through `record_debug`.
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && format!("{value:?}") == "handled" {
            self.handled = true;
        }
    }
}

impl<S: Subscriber> Layer<S> for HandledLines {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.handled {
            self.0.lock().unwrap().push(fields.times);
        }
    }
}
