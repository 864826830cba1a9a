//! A `passerelle` child process serving on a loopback port.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::backend::{Backend, TestDatabase};

/// Settings for one test node, given to it as environment variables.
pub struct TestServerBuilder {
    bin: PathBuf,
    env: BTreeMap<String, String>,
    database: Option<Arc<TestDatabase>>,
    data_dir: Option<Arc<tempfile::TempDir>>,
    namespace: String,
}

/// A running node. Dropping it kills the process and drops its database.
pub struct TestServer {
    child: Child,
    addr: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    data_dir: Arc<tempfile::TempDir>,
    database: Arc<TestDatabase>,
    namespace: String,
    http: reqwest::Client,
}

impl TestServerBuilder {
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("PASSERELLE__SERVER__BIND", "127.0.0.1:0"),
            ("PASSERELLE__SERVER__WORKERS", "1"),
            ("PASSERELLE__BLOBS__BIND", "127.0.0.1:0"),
            // Many nodes share one Postgres (100 connections by default).
            ("PASSERELLE__DATABASE__POOL_SIZE", "4"),
            ("PASSERELLE__LOG__FORMAT", "json"),
            (
                "PASSERELLE__LOG__FILTER",
                "debug,h2=info,hyper=info,actix_server=info",
            ),
            // Light argon2 parameters keep the suite fast; production defaults
            // are OWASP's (19 MiB, 2 passes).
            ("PASSERELLE__AUTH__ARGON2__MEMORY_KIB", "1024"),
            ("PASSERELLE__AUTH__ARGON2__ITERATIONS", "1"),
        ] {
            env.insert(k.to_owned(), v.to_owned());
        }
        Self {
            bin: bin.into(),
            env,
            database: None,
            data_dir: None,
            namespace: format!("t{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// Sets a setting, e.g. `("PASSERELLE__AUTH__ACCESS_TOKEN_TTL_SECS", "1")`.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.insert(key.to_owned(), value.into());
        self
    }

    /// Shares a database (and data directory, for the embedded default) with
    /// another node: a second node of the same deployment.
    pub fn same_deployment_as(mut self, other: &TestServer) -> Self {
        self.database = Some(other.database.clone());
        self.data_dir = Some(other.data_dir.clone());
        self.namespace = other.namespace.clone();
        self
    }

    pub async fn spawn(self) -> TestServer {
        let backend = Backend::from_env();
        let bin = self.bin.clone();
        let database = match self.database {
            Some(db) => db,
            None => Arc::new(
                tokio::task::spawn_blocking(move || TestDatabase::create(backend, &bin))
                    .await
                    .expect("database set-up panicked"),
            ),
        };
        let data_dir = match self.data_dir {
            Some(dir) => dir,
            None => Arc::new(tempfile::tempdir().expect("temp dir")),
        };
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PASSERELLE__DATA_DIR", data_dir.path())
            .env("PASSERELLE__REDIS__NAMESPACE", &self.namespace)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = database.url() {
            cmd.env("DATABASE_URL", url);
            cmd.env("REDIS_URL", Backend::redis_url());
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("cannot start the passerelle binary");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, mut addr_rx) = mpsc::unbounded_channel();
        if let Some(out) = child.stdout.take() {
            tokio::spawn(capture(out, logs.clone(), Some(addr_tx)));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(capture(err, logs.clone(), None));
        }
        let addr = tokio::time::timeout(Duration::from_secs(60), addr_rx.recv())
            .await
            .ok()
            .flatten();
        let Some(addr) = addr else {
            let _ = child.start_kill();
            let _ = child.wait().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let output = logs.lock().map(|l| l.join("\n")).unwrap_or_default();
            panic!("passerelle did not start listening; its output:\n{output}");
        };
        TestServer {
            child,
            addr,
            logs,
            data_dir,
            database,
            namespace: self.namespace,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }
}

/// Reads a child's output line by line into `logs`; reports the bound
/// address from the `listening` event.
async fn capture(
    stream: impl AsyncRead + Unpin,
    logs: Arc<Mutex<Vec<String>>>,
    addr_tx: Option<mpsc::UnboundedSender<SocketAddr>>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(tx) = &addr_tx
            && let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
            && event["message"] == "listening"
            && let Some(addr) = event["addr"].as_str().and_then(|a| a.parse().ok())
        {
            let _ = tx.send(addr);
        }
        if let Ok(mut logs) = logs.lock() {
            logs.push(line);
        }
    }
}

impl TestServer {
    pub fn builder(bin: impl Into<PathBuf>) -> TestServerBuilder {
        TestServerBuilder::new(bin)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A plain HTTP client (no default headers).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// The PostgreSQL URL of this deployment's database (`None` on the
    /// embedded backend, whose file is in [`Self::data_dir`]).
    pub fn database_url(&self) -> Option<&str> {
        self.database.url()
    }

    /// The Redis key namespace of this deployment.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Every line the process wrote so far (stdout and stderr).
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Stops the process (SIGKILL) and waits for it.
    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// Waits until the process exits on its own (e.g. after SIGTERM) and
    /// returns whether it exited successfully.
    pub async fn wait(&mut self, limit: Duration) -> Option<bool> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => Some(status.success()),
            _ => None,
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

impl Drop for TestServer {
    /// When the test failed, shows the tail of what the node logged.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let logs = self.logs();
            let tail = logs.len().saturating_sub(150);
            eprintln!("---- last lines of the node at {} ----", self.addr);
            for line in &logs[tail..] {
                eprintln!("{line}");
            }
        }
    }
}
