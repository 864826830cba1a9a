//! Which database a test node runs on, and creating/dropping it.

use std::path::Path;
use std::sync::OnceLock;

use passerelle_store::admin;

/// The backend the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// From `PASSERELLE_TEST_BACKEND` (`sqlite` when unset).
    pub fn from_env() -> Backend {
        match std::env::var("PASSERELLE_TEST_BACKEND").as_deref() {
            Ok("postgres") | Ok("pg") => Backend::Postgres,
            Ok("sqlite") | Err(_) => Backend::Sqlite,
            Ok(other) => {
                panic!("PASSERELLE_TEST_BACKEND must be sqlite or postgres, not {other:?}")
            }
        }
    }

    pub fn admin_url() -> String {
        std::env::var("PASSERELLE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
    }

    pub fn redis_url() -> String {
        std::env::var("PASSERELLE_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }
}

/// A database that exists for one test and is dropped with it.
#[derive(Debug)]
pub enum TestDatabase {
    /// The node uses `<data_dir>/passerelle.db` (the embedded default).
    Embedded,
    /// A Postgres database of its own.
    Postgres { name: String, url: String },
}

impl TestDatabase {
    /// A fresh database for `backend`. `bin` is the `passerelle` binary, used
    /// to migrate the Postgres template.
    pub fn create(backend: Backend, bin: &Path) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase::Embedded,
            Backend::Postgres => {
                let admin = Backend::admin_url();
                let template = template(&admin, bin);
                let name = format!("passerelle_t_{}", uuid::Uuid::new_v4().simple());
                admin::create_database(&admin, &name, Some(template))
                    .unwrap_or_else(|e| panic!("cannot create test database on {admin}: {e}"));
                let url = admin::url_with_database(&admin, &name);
                TestDatabase::Postgres { name, url }
            }
        }
    }

    pub fn url(&self) -> Option<&str> {
        match self {
            TestDatabase::Embedded => None,
            TestDatabase::Postgres { url, .. } => Some(url),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { name, .. } = self
            && let Err(e) = admin::drop_database(&Backend::admin_url(), name)
        {
            eprintln!("warning: could not drop test database {name}: {e}");
        }
    }
}

/// The migrated template database, created once per migration set (its name
/// carries a hash of the Postgres migrations), under an advisory lock so
/// parallel test processes agree.
fn template(admin: &str, bin: &Path) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("passerelle_tpl_{:016x}", migrations_hash());
        admin::with_advisory_lock(admin, 0x7061_7373, || {
            if admin::database_exists(admin, &name)? {
                return Ok(());
            }
            let building = format!("{name}_building");
            admin::drop_database(admin, &building)?;
            admin::create_database(admin, &building, None)?;
            let status = std::process::Command::new(bin)
                .arg("migrate")
                .env("DATABASE_URL", admin::url_with_database(admin, &building))
                .env("PASSERELLE__LOG__FILTER", "warn")
                .status()
                .map_err(|e| passerelle_store::StoreError::Internal(e.to_string()))?;
            if !status.success() {
                return Err(passerelle_store::StoreError::Internal(format!(
                    "passerelle migrate failed: {status}"
                )));
            }
            admin::drop_database(admin, &name)?;
            admin::rename_database(admin, &building, &name)
        })
        .unwrap_or_else(|e| panic!("cannot prepare the Postgres template on {admin}: {e}"));
        name
    })
}

/// A stable hash of the Postgres migration files (names and contents).
fn migrations_hash() -> u64 {
    use std::hash::{Hash, Hasher};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/postgres");
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let mut hasher = std::hash::DefaultHasher::new();
    for path in files {
        path.strip_prefix(&dir).unwrap_or(&path).hash(&mut hasher);
        std::fs::read(&path).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
