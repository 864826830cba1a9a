//! Custom SQL types shared by both backends: `DbUuid` (native `uuid` on
//! Postgres, a 16-byte BLOB on SQLite) and `DbTimestamp` (`timestamptz` on
//! Postgres, fixed-width RFC 3339 text on SQLite), with the Rust wrappers
//! [`Id`] and [`Ts`] that carry them through diesel. Diesel's own `Uuid` and
//! `Timestamptz` types are not part of the MultiBackend common subset, hence
//! this glue (ToSql/FromSql for Pg, Sqlite and the derived `MultiBackend`).

use chrono::{DateTime, SubsecRound, Utc};
use diesel::backend::Backend as DieselBackend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::HasSqlType;
use diesel::sqlite::Sqlite;
use uuid::Uuid;

use crate::conn::MultiBackend;

/// A UUID column.
#[derive(
    diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug, Clone, Copy, Default,
)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Binary"))]
pub struct DbUuid;

/// A UTC instant column, microsecond precision.
#[derive(
    diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug, Clone, Copy, Default,
)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbTimestamp;

/// Store-internal UUID value; domain ids convert to and from it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = DbUuid)]
pub struct Id(pub Uuid);

/// Store-internal instant. Always truncated to microseconds on construction,
/// so what is written is exactly what is read back, on both backends.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = DbTimestamp)]
pub struct Ts(DateTime<Utc>);

impl Ts {
    pub fn new(t: DateTime<Utc>) -> Self {
        Ts(t.trunc_subsecs(6))
    }
    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
    /// The SQLite text form: `2026-11-22T10:00:00.123456Z` (fixed width, so
    /// text order is time order).
    pub fn to_sqlite_text(self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

impl From<DateTime<Utc>> for Ts {
    fn from(t: DateTime<Utc>) -> Self {
        Ts::new(t)
    }
}

macro_rules! id_conversions {
    ($($t:ty),*) => {$(
        impl From<$t> for Id {
            fn from(v: $t) -> Self { Id(v.0) }
        }
        impl From<Id> for $t {
            fn from(v: Id) -> Self { <$t>::from(v.0) }
        }
    )*};
}
id_conversions!(passerelle_domain::UserId, passerelle_domain::DeviceId);

// ---- Postgres ----

impl ToSql<DbUuid, Pg> for Id {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Uuid as ToSql<diesel::sql_types::Uuid, Pg>>::to_sql(&self.0, out)
    }
}
impl FromSql<DbUuid, Pg> for Id {
    fn from_sql(b: <Pg as DieselBackend>::RawValue<'_>) -> deserialize::Result<Self> {
        <Uuid as FromSql<diesel::sql_types::Uuid, Pg>>::from_sql(b).map(Id)
    }
}
impl ToSql<DbTimestamp, Pg> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<diesel::sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}
impl FromSql<DbTimestamp, Pg> for Ts {
    fn from_sql(b: <Pg as DieselBackend>::RawValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(b).map(Ts::new)
    }
}

// ---- SQLite ----

impl ToSql<DbUuid, Sqlite> for Id {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.as_bytes().as_slice());
        Ok(IsNull::No)
    }
}
impl FromSql<DbUuid, Sqlite> for Id {
    fn from_sql(b: <Sqlite as DieselBackend>::RawValue<'_>) -> deserialize::Result<Self> {
        let v = <Vec<u8> as FromSql<diesel::sql_types::Binary, Sqlite>>::from_sql(b)?;
        Ok(Id(Uuid::from_slice(&v)?))
    }
}
impl ToSql<DbTimestamp, Sqlite> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_sqlite_text());
        Ok(IsNull::No)
    }
}
impl FromSql<DbTimestamp, Sqlite> for Ts {
    fn from_sql(b: <Sqlite as DieselBackend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(b)?;
        let t = DateTime::parse_from_rfc3339(&s)
            .map_err(|e| format!("bad timestamp text {s:?}: {e}"))?;
        Ok(Ts::new(t.with_timezone(&Utc)))
    }
}

// ---- MultiBackend (dispatches to the two above) ----

impl HasSqlType<DbUuid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DbUuid>(lookup)
    }
}
impl FromSql<DbUuid, MultiBackend> for Id {
    fn from_sql(b: <MultiBackend as DieselBackend>::RawValue<'_>) -> deserialize::Result<Self> {
        b.from_sql::<Id, DbUuid>()
    }
}
impl ToSql<DbUuid, MultiBackend> for Id {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbUuid, self));
        Ok(IsNull::No)
    }
}
impl HasSqlType<DbTimestamp> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DbTimestamp>(lookup)
    }
}
impl FromSql<DbTimestamp, MultiBackend> for Ts {
    fn from_sql(b: <MultiBackend as DieselBackend>::RawValue<'_>) -> deserialize::Result<Self> {
        b.from_sql::<Ts, DbTimestamp>()
    }
}
impl ToSql<DbTimestamp, MultiBackend> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbTimestamp, self));
        Ok(IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sqlite_text_is_fixed_width_and_truncated() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .expect("valid date")
            + chrono::Duration::nanoseconds(123_456_789);
        let ts = Ts::new(t);
        assert_eq!(ts.to_sqlite_text(), "2026-11-22T10:00:00.123456Z");
        let zero = Ts::new(
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
                .single()
                .expect("valid date"),
        );
        assert_eq!(zero.to_sqlite_text(), "2026-01-02T03:04:05.000000Z");
    }
}
