//! Postgres-only administration helpers for test harnesses and the `migrate`
//! command: create / drop / probe databases and serialise work with an
//! advisory lock. Database names are spliced into SQL, so they are checked
//! against `[a-z0-9_]` first.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::error::{DbResultExt, StoreError, StoreResult};

fn admin_connection(admin_url: &str) -> StoreResult<PgConnection> {
    if !(admin_url.starts_with("postgres://") || admin_url.starts_with("postgresql://")) {
        return Err(StoreError::Internal(
            "admin helpers need a postgres:// URL".to_owned(),
        ));
    }
    PgConnection::establish(admin_url).map_err(|e| StoreError::Unavailable(e.to_string()))
}

fn check_name(name: &str) -> StoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Internal(format!(
            "invalid database name {name:?}: only [a-z0-9_], 1 to 63 characters"
        )))
    }
}

/// `CREATE DATABASE name [TEMPLATE template]`.
pub fn create_database(admin_url: &str, name: &str, template: Option<&str>) -> StoreResult<()> {
    check_name(name)?;
    let sql = match template {
        Some(t) => {
            check_name(t)?;
            format!("CREATE DATABASE {name} TEMPLATE {t}")
        }
        None => format!("CREATE DATABASE {name}"),
    };
    diesel::sql_query(sql)
        .execute(&mut admin_connection(admin_url)?)
        .db()?;
    Ok(())
}

/// `DROP DATABASE IF EXISTS name WITH (FORCE)` (ends open sessions).
pub fn drop_database(admin_url: &str, name: &str) -> StoreResult<()> {
    check_name(name)?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin_connection(admin_url)?)
        .db()?;
    Ok(())
}

/// `ALTER DATABASE from RENAME TO to` (e.g. to publish a template only once
/// it is fully migrated).
pub fn rename_database(admin_url: &str, from: &str, to: &str) -> StoreResult<()> {
    check_name(from)?;
    check_name(to)?;
    diesel::sql_query(format!("ALTER DATABASE {from} RENAME TO {to}"))
        .execute(&mut admin_connection(admin_url)?)
        .db()?;
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub fn database_exists(admin_url: &str, name: &str) -> StoreResult<bool> {
    check_name(name)?;
    let row: Count = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result(&mut admin_connection(admin_url)?)
        .db()?;
    Ok(row.n > 0)
}

/// Runs `f` while holding `pg_advisory_lock(key)` on a dedicated connection.
/// The lock is released afterwards (and by the server if the connection
/// dies), whatever `f` returns.
pub fn with_advisory_lock<T>(
    admin_url: &str,
    key: i64,
    f: impl FnOnce() -> StoreResult<T>,
) -> StoreResult<T> {
    let mut conn = admin_connection(admin_url)?;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(key)
        .execute(&mut conn)
        .db()?;
    let result = f();
    if let Err(e) = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(key)
        .execute(&mut conn)
    {
        tracing::warn!(error = %e, "pg_advisory_unlock failed; the lock ends with the connection");
    }
    result
}

/// Replaces the database name (the URL path) of a postgres URL, keeping
/// credentials, host and query parameters.
pub fn url_with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_database_replaces_only_the_path() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:5432/postgres", "t_1"),
            "postgres://postgres@127.0.0.1:5432/t_1"
        );
        assert_eq!(
            url_with_database("postgresql://u:p@h/db?sslmode=disable&x=1", "n"),
            "postgresql://u:p@h/n?sslmode=disable&x=1"
        );
        assert_eq!(
            url_with_database("postgres://h:5432", "n"),
            "postgres://h:5432/n"
        );
        assert_eq!(
            url_with_database("postgres://h?a=b", "n"),
            "postgres://h/n?a=b"
        );
    }

    #[test]
    fn names_are_validated() {
        assert!(check_name("passerelle_test_01").is_ok());
        for bad in ["", "Upper", "a;drop", "a-b", "a b", "\"x\""] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}
