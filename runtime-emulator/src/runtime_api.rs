//! One execution environment: a function process and the Lambda Runtime API it polls.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

const API: &str = "/2018-06-01/runtime";

/// What to run: a function binary (its `bootstrap`) and the environment the function's
/// configuration gives it. Lambda's own variables are added; nothing else of this
/// process's environment is passed on.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    pub name: String,
    pub binary: PathBuf,
    pub env: Vec<(String, String)>,
    /// The function's timeout: an invocation still running then is an error and the
    /// environment is shut down, as Lambda does.
    pub timeout: Duration,
    pub memory_mb: u32,
    pub region: String,
}

impl FunctionSpec {
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            binary: binary.into(),
            env: Vec::new(),
            timeout: Duration::from_secs(15),
            memory_mb: 128,
            region: "us-east-1".into(),
        }
    }

    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn envs<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// An error the function reported (`/init/error` or `/invocation/{id}/error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    pub error_type: String,
    pub error_message: String,
}

/// How init ended.
#[derive(Debug)]
pub enum InitOutcome {
    /// The runtime asked for its first event this long after the process was spawned.
    Ready {
        init_duration: Duration,
    },
    /// The runtime posted `/init/error` (and possibly exited).
    InitError {
        error: FunctionError,
        after: Duration,
    },
    /// The process exited before asking for an event.
    Exited {
        status: ExitStatus,
        after: Duration,
    },
    TimedOut,
}

#[derive(Debug)]
pub enum InvocationOutcome {
    /// The bytes the function posted to `/response`.
    Response(Vec<u8>),
    Error(FunctionError),
}

#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: InvocationOutcome,
    /// From handing the event out to the function's answer.
    pub duration: Duration,
}

#[derive(Debug)]
pub enum EmulatorError {
    Io(std::io::Error),
    /// The process exited before answering.
    Exited(Option<ExitStatus>),
    /// The function ran past its timeout; the environment was shut down.
    Timeout,
}

impl std::fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "emulator I/O error: {e}"),
            Self::Exited(status) => write!(f, "the function process exited ({status:?})"),
            Self::Timeout => write!(f, "the function timed out"),
        }
    }
}

impl std::error::Error for EmulatorError {}

impl From<std::io::Error> for EmulatorError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

type Answer = Result<InvocationOutcome, EmulatorError>;

struct Pending {
    request_id: String,
    event: Vec<u8>,
    deadline_ms: u128,
}

struct Shared {
    spec: FunctionSpec,
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    in_flight: Mutex<HashMap<String, (Instant, oneshot::Sender<Answer>)>>,
    first_next: Mutex<Option<Instant>>,
    init_error: Mutex<Option<(FunctionError, Instant)>>,
    exited: Mutex<Option<(ExitStatus, Instant)>>,
    changed: Notify,
    logs: Mutex<Vec<String>>,
}

impl Shared {
    fn notify(&self) {
        self.changed.notify_waiters();
    }
}

/// A function process under the emulated Runtime API. Dropping it kills the process.
pub struct ExecutionEnvironment {
    shared: Arc<Shared>,
    sender: mpsc::Sender<Pending>,
    spawned_at: Instant,
    runtime_api: SocketAddr,
    child_pid: Option<u32>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    tasks: Vec<JoinHandle<()>>,
    /// One invocation at a time, as in Lambda.
    busy: tokio::sync::Mutex<()>,
}

impl ExecutionEnvironment {
    /// Starts the Runtime API on a loopback port and spawns the binary against it. The
    /// clock for [`InitOutcome::Ready`] starts just before the spawn.
    pub async fn spawn(spec: FunctionSpec) -> Result<Self, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let runtime_api = listener.local_addr()?;
        let (sender, receiver) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            spec: spec.clone(),
            queue: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            first_next: Mutex::new(None),
            init_error: Mutex::new(None),
            exited: Mutex::new(None),
            changed: Notify::new(),
            logs: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route(&format!("{API}/invocation/next"), get(next))
            .route(&format!("{API}/invocation/{{id}}/response"), post(response))
            .route(
                &format!("{API}/invocation/{{id}}/error"),
                post(invocation_error),
            )
            .route(&format!("{API}/init/error"), post(init_error))
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        let mut command = Command::new(&spec.binary);
        command
            .env_clear()
            .envs(lambda_variables(&spec, runtime_api))
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let mut child = command.spawn()?;
        let child_pid = child.id();
        let output = [
            capture(child.stdout.take(), Arc::clone(&shared)),
            capture(child.stderr.take(), Arc::clone(&shared)),
        ];
        let (kill, killed) = oneshot::channel();
        let tasks = vec![
            server,
            tokio::spawn(watch(child, output, killed, Arc::clone(&shared))),
        ];
        Ok(Self {
            shared,
            sender,
            spawned_at,
            runtime_api,
            child_pid,
            kill: Mutex::new(Some(kill)),
            tasks,
            busy: tokio::sync::Mutex::new(()),
        })
    }

    /// The Runtime API address the process was given (`AWS_LAMBDA_RUNTIME_API`).
    pub fn runtime_api(&self) -> SocketAddr {
        self.runtime_api
    }

    pub fn pid(&self) -> Option<u32> {
        self.child_pid
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.shared.spec
    }

    /// Waits (at most `limit`) until the runtime asks for its first event, reports an init
    /// error, or exits.
    pub async fn wait_for_init(&self, limit: Duration) -> InitOutcome {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(at) = *self.shared.first_next.lock().unwrap() {
                return InitOutcome::Ready {
                    init_duration: at - self.spawned_at,
                };
            }
            if let Some((error, at)) = self.shared.init_error.lock().unwrap().clone() {
                return InitOutcome::InitError {
                    error,
                    after: at - self.spawned_at,
                };
            }
            if let Some((status, at)) = *self.shared.exited.lock().unwrap() {
                return InitOutcome::Exited {
                    status,
                    after: at - self.spawned_at,
                };
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return InitOutcome::TimedOut;
            }
        }
    }

    /// Hands `event` to the function and waits for its answer (at most the spec's
    /// timeout, counted from when the function takes the event).
    pub async fn invoke(&self, event: &serde_json::Value) -> Result<Invocation, EmulatorError> {
        let _one_at_a_time = self.busy.lock().await;
        if let Some((status, _)) = *self.shared.exited.lock().unwrap() {
            return Err(EmulatorError::Exited(Some(status)));
        }
        let request_id = request_id();
        let timeout = self.shared.spec.timeout;
        let deadline_ms = (SystemTime::now() + timeout)
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis();
        let (tx, rx) = oneshot::channel();
        self.shared
            .in_flight
            .lock()
            .unwrap()
            .insert(request_id.clone(), (Instant::now(), tx));
        let pending = Pending {
            request_id: request_id.clone(),
            event: serde_json::to_vec(event).expect("a JSON event"),
            deadline_ms,
        };
        if self.sender.send(pending).await.is_err() {
            return Err(EmulatorError::Exited(None));
        }
        // Not exact Lambda accounting (the clock starts when the event is queued, not when
        // /next returns it); the runtime is already waiting on /next after init.
        let started = Instant::now();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => Ok(Invocation {
                request_id,
                outcome: answer?,
                duration: started.elapsed(),
            }),
            Ok(Err(_)) => Err(EmulatorError::Exited(None)),
            Err(_) => {
                self.shared.in_flight.lock().unwrap().remove(&request_id);
                self.shutdown();
                Err(EmulatorError::Timeout)
            }
        }
    }

    /// Everything the process wrote to stdout and stderr so far, line by line.
    pub fn logs(&self) -> Vec<String> {
        self.shared.logs.lock().unwrap().clone()
    }

    /// The process's exit status, once it has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.shared.exited.lock().unwrap().map(|(s, _)| s)
    }

    /// Kills the process (what Lambda does to an environment that timed out or is
    /// reclaimed).
    pub fn shutdown(&self) {
        if let Some(kill) = self.kill.lock().unwrap().take() {
            let _ = kill.send(());
        }
    }

    /// Waits until the process has exited (after [`Self::shutdown`] or on its own).
    pub async fn wait_exit(&self, limit: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for ExecutionEnvironment {
    fn drop(&mut self) {
        self.shutdown();
        // The watcher (last) reaps the killed process and ends by itself.
        for task in &self.tasks[..self.tasks.len() - 1] {
            task.abort();
        }
    }
}

/// What Lambda sets for a custom runtime (provided.al2023), pointed at this emulator.
fn lambda_variables(spec: &FunctionSpec, runtime_api: SocketAddr) -> Vec<(String, String)> {
    let task_root = spec
        .binary
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]emulator".into(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_REGION", spec.region.clone()),
        ("AWS_DEFAULT_REGION", spec.region.clone()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".into()),
        ("_HANDLER", "bootstrap".into()),
        ("LAMBDA_TASK_ROOT", task_root.clone()),
        ("LAMBDA_RUNTIME_DIR", task_root),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn request_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("randomness");
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn capture(
    stream: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    shared: Arc<Shared>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Some(stream) = stream else { return };
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            shared.logs.lock().unwrap().push(line);
        }
    })
}

async fn watch(
    mut child: Child,
    output: [JoinHandle<()>; 2],
    killed: oneshot::Receiver<()>,
    shared: Arc<Shared>,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = killed => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    // Everything the process wrote is in `logs` before anyone hears it exited.
    for task in output {
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    }
    let status = status.ok();
    if let Some(status) = status {
        *shared.exited.lock().unwrap() = Some((status, Instant::now()));
    }
    // Whatever was in flight will not be answered.
    let in_flight: Vec<_> = shared.in_flight.lock().unwrap().drain().collect();
    for (_, (_, tx)) in in_flight {
        let _ = tx.send(Err(EmulatorError::Exited(status)));
    }
    shared.notify();
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    {
        let mut first = shared.first_next.lock().unwrap();
        if first.is_none() {
            *first = Some(Instant::now());
            drop(first);
            shared.notify();
        }
    }
    let Some(pending) = shared.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let spec = &shared.spec;
    let arn = format!(
        "arn:aws:lambda:{}:123456789012:function:{}",
        spec.region, spec.name
    );
    (
        StatusCode::OK,
        [
            ("content-type", "application/json".to_owned()),
            ("lambda-runtime-aws-request-id", pending.request_id),
            (
                "lambda-runtime-deadline-ms",
                pending.deadline_ms.to_string(),
            ),
            ("lambda-runtime-invoked-function-arn", arn),
            (
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
            ),
        ],
        pending.event,
    )
        .into_response()
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    answer(&shared, &id, Ok(InvocationOutcome::Response(body.to_vec())))
}

async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error = function_error(&headers, &body);
    answer(&shared, &id, Ok(InvocationOutcome::Error(error)))
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error = function_error(&headers, &body);
    *shared.init_error.lock().unwrap() = Some((error, Instant::now()));
    shared.notify();
    accepted()
}

fn answer(shared: &Shared, id: &str, answer: Answer) -> Response {
    let Some((_, tx)) = shared.in_flight.lock().unwrap().remove(id) else {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({
                "errorMessage": format!("unknown request id {id}"),
                "errorType": "InvalidRequestID"
            }),
        );
    };
    let _ = tx.send(answer);
    accepted()
}

fn accepted() -> Response {
    json(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn function_error(headers: &HeaderMap, body: &[u8]) -> FunctionError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok());
    FunctionError {
        error_type: json["errorType"]
            .as_str()
            .or(header_type)
            .unwrap_or("Unknown")
            .to_owned(),
        error_message: json["errorMessage"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
    }
}
