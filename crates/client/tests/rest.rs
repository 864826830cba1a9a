//! The REST half of the client against the real `passerelle` binary, on a
//! fresh SQLite database in a temporary directory.
//!
//! The binary must be built first (`cargo build --bin passerelle`); the test
//! fails, never skips, when it is missing.

// A panic is how a test (or its helper) fails.
#![allow(clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use passerelle_client::api::ErrorCode;
use passerelle_client::{Client, ClientError};

/// A `passerelle` child process; dropping it kills the process.
struct Server {
    child: Child,
    base_url: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start() -> Self {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/passerelle");
        assert!(
            bin.is_file(),
            "{} is missing: build it first with `cargo build --bin passerelle`",
            bin.display()
        );
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let child = Command::new(&bin)
            .current_dir(dir.path())
            .env("PASSERELLE__DATA_DIR", dir.path().join("data"))
            .env("PASSERELLE__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("PASSERELLE__BLOBS__BIND", "127.0.0.1:0")
            .env("PASSERELLE__AUTH__ARGON2__MEMORY_KIB", "1024")
            .env("PASSERELLE__AUTH__ARGON2__ITERATIONS", "1")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn passerelle");
        let mut server = Server {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&mut self) {
        let client = Client::new(&self.base_url);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if client.health().await.is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("passerelle exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "passerelle not healthy in 30 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

fn assert_code(r: Result<impl std::fmt::Debug, ClientError>, status: u16, code: ErrorCode) {
    let err = r.expect_err("must fail");
    assert_eq!(err.status(), Some(status), "{err:?}");
    assert_eq!(err.code(), Some(code), "{err:?}");
}

#[tokio::test]
async fn the_auth_device_and_account_calls_work_against_the_real_server() {
    let server = Server::start().await;
    let client = Client::new(&format!("{}/", server.base_url));

    let first = client
        .register("alice", "correct horse battery", Some("laptop"))
        .await
        .expect("register");
    let me = client.me(&first.access_token).await.expect("me");
    assert_eq!(me.user_id, first.user_id);
    assert_eq!(me.username, "alice");
    assert!(me.has_password);

    let second = client
        .login("alice", "correct horse battery", Some("phone"))
        .await
        .expect("login");
    assert_eq!(second.user_id, first.user_id);
    assert_ne!(second.device_id, first.device_id);

    let list = client.devices(&first.access_token).await.expect("devices");
    assert_eq!(list.devices.len(), 2);
    let current: Vec<_> = list.devices.iter().filter(|d| d.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, first.device_id);
    assert_eq!(current[0].name.as_deref(), Some("laptop"));

    // Refresh rotates: the new pair works, the old refresh token is dead.
    let rotated = client.refresh(&first.refresh_token).await.expect("refresh");
    assert_eq!(rotated.device_id, first.device_id);
    client
        .me(&rotated.access_token)
        .await
        .expect("me with the new token");

    // Revoking the phone kills its tokens at once.
    client
        .revoke_device(&rotated.access_token, second.device_id)
        .await
        .expect("revoke");
    assert_code(
        client.me(&second.access_token).await,
        401,
        ErrorCode::Unauthorized,
    );
    let list = client
        .devices(&rotated.access_token)
        .await
        .expect("devices");
    assert_eq!(list.devices.len(), 1);

    client.logout(&rotated.access_token).await.expect("logout");
    assert_code(
        client.devices(&rotated.access_token).await,
        401,
        ErrorCode::Unauthorized,
    );
}

#[tokio::test]
async fn rest_errors_carry_their_documented_codes() {
    let server = Server::start().await;
    let client = Client::new(&server.base_url);
    let tokens = client
        .register("bob", "correct horse battery", None)
        .await
        .expect("register");

    assert_code(
        client.register("bob", "another good password", None).await,
        409,
        ErrorCode::UsernameTaken,
    );
    assert_code(
        client.login("bob", "wrong password!", None).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    assert_code(
        client.register("x", "correct horse battery", None).await,
        422,
        ErrorCode::ValidationFailed,
    );
    assert_code(
        client.refresh("not-a-refresh-token").await,
        401,
        ErrorCode::InvalidRefreshToken,
    );
    assert_code(client.me("garbage").await, 401, ErrorCode::Unauthorized);
    assert_code(
        client
            .revoke_device(&tokens.access_token, uuid::Uuid::new_v4())
            .await,
        404,
        ErrorCode::NotFound,
    );

    // Neither a refused token nor a refused password shows up in the error.
    let token = "refused.token.value";
    let err = client.me(token).await.expect_err("refused");
    assert!(!format!("{err} {err:?}").contains(token), "{err:?}");
    let err = client
        .login("bob", "wrong password!", None)
        .await
        .expect_err("refused");
    assert!(
        !format!("{err} {err:?}").contains("wrong password!"),
        "{err:?}"
    );
}
