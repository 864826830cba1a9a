//! The REST calls the scenarios need and `passerelle-client` does not have
//! (`POST /v1/contacts`, `PATCH /v1/me` for presence, `POST /v1/blobs` for
//! `--per-device`), and the gateways' Prometheus counters (`GET
//! /metrics`). Errors are [`ClientError`]s, so
//! the setup's retry applies to them.

use std::collections::BTreeMap;

use passerelle_client::ClientError;
use passerelle_client::api::{
    AddContactRequest, BlobGrant, BlobPurpose, PresenceVisibility, UpdateMeRequest, UploadRequest,
};
use reqwest::Method;
use serde::Serialize;
use uuid::Uuid;

/// A plain HTTP client for a gateway base URL.
#[derive(Debug, Clone)]
pub struct Rest {
    base: String,
    http: reqwest::Client,
}

impl Rest {
    pub fn new(base_url: &str) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// `POST /v1/contacts {userId}`: `token`'s user adds `contact`.
    pub async fn add_contact(&self, token: &str, contact: Uuid) -> Result<(), ClientError> {
        let body = AddContactRequest {
            username: None,
            user_id: Some(contact),
        };
        self.send(Method::POST, "/v1/contacts", Some(token), Some(&body))
            .await
            .map(|_| ())
    }

    /// `PATCH /v1/me {presenceVisibility}`.
    pub async fn presence_visibility(
        &self,
        token: &str,
        visibility: PresenceVisibility,
    ) -> Result<(), ClientError> {
        let body = UpdateMeRequest {
            share_device_names: None,
            presence_visibility: Some(visibility),
            ..UpdateMeRequest::default()
        };
        self.send(Method::PATCH, "/v1/me", Some(token), Some(&body))
            .await
            .map(|_| ())
    }

    /// `POST /v1/blobs {purpose: message, size}`: the granted blob's id
    /// (the upload capability itself is not used).
    pub async fn grant_message_blob(&self, token: &str, size: u64) -> Result<String, ClientError> {
        let body = UploadRequest {
            purpose: BlobPurpose::Message,
            size,
            sha256: None,
        };
        let text = self
            .send(Method::POST, "/v1/blobs", Some(token), Some(&body))
            .await?;
        let grant: BlobGrant = serde_json::from_str(&text).map_err(|e| {
            ClientError::Protocol(format!(
                "POST /v1/blobs: not a grant ({:?} at column {})",
                e.classify(),
                e.column()
            ))
        })?;
        Ok(grant.blob_id)
    }

    /// The `passerelle_*_total` counters of `GET /metrics` (labelled
    /// series are summed under their bare name).
    pub async fn counters(&self) -> Result<BTreeMap<String, f64>, ClientError> {
        let text = self
            .send(Method::GET, "/metrics", None, None::<&()>)
            .await?;
        Ok(parse_metrics(&text))
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<String, ClientError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let io = |e: reqwest::Error| ClientError::Io(e.without_url().to_string());
        let resp = req.send().await.map_err(io)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(io)?;
        if !status.is_success() {
            return Err(ClientError::from_http(status.as_u16(), &bytes));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// `name value` and `name{labels} value` lines of the `passerelle_…_total`
/// counters, summed by name; everything else is skipped.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if !line.starts_with("passerelle_") {
            continue;
        }
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let name = series.split('{').next().unwrap_or(series);
        if !name.ends_with("_total") {
            continue;
        }
        if let Ok(v) = value.trim().parse::<f64>() {
            *out.entry(name.to_owned()).or_default() += v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_parse_and_sum() {
        let text = "# HELP x\npasserelle_presence_publishes_total 4\n\
            passerelle_throttled_total{kind=\"a\"} 2\npasserelle_throttled_total{kind=\"b\"} 3\n\
            http_requests_total{route=\"/\"} 9\npasserelle_batch_seconds_bucket{le=\"1\"} 7\npasserelle_ws_sessions 3\n";
        let m = parse_metrics(text);
        assert_eq!(m.get("passerelle_presence_publishes_total"), Some(&4.0));
        assert_eq!(m.get("passerelle_throttled_total"), Some(&5.0));
        assert!(!m.contains_key("http_requests_total"));
        assert!(!m.contains_key("passerelle_ws_sessions"));
        assert!(!m.contains_key("passerelle_batch_seconds_bucket"));
    }
}
