//! Deleting blobs when their time is up, every `blobs.sweep_interval_secs`
//! on every node. `passerelle_store::blobs::due` says which (in this
//! order): blobs whose message was retracted, expired or went with its
//! conversation or its sender's account (*doomed*: at once); blobs older
//! than `blobs.retention_days`; blobs granted but never sent, and avatars
//! not in use, after `blobs.orphan_grace_secs`; blobs whose message every
//! device acknowledged, `blobs.delivered_grace_secs` after it was sent.
//!
//! The gateway deletes by id: a `DELETE` to the blob store with a delete
//! capability it signs for that one blob (never the bytes, never a list
//! call), then forgets the row once the store answered 204 (or 404: already
//! gone). A blob store that is down leaves the rows for the next sweep.
//! Nodes may race on the same ids: deleting twice is harmless.

use std::time::Duration;

use futures_util::StreamExt;
use passerelle_auth::BlobOp;
use passerelle_store::Store;
use passerelle_store::blobs::{self, Deadlines, Reason};
use uuid::Uuid;

use super::BlobService;

/// Blobs taken per pass, passes per sweep, deletions in flight.
const PASS: u32 = 500;
const MAX_PASSES: usize = 20;
const IN_FLIGHT: usize = 8;
/// One deletion's time limit.
const DELETE_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts the sweep. Must be called in a Tokio runtime.
pub fn start(store: Store, service: BlobService) {
    let every = Duration::from_secs(service.settings().sweep_interval_secs.max(1));
    tokio::spawn(async move {
        let client = match reqwest::Client::builder().timeout(DELETE_TIMEOUT).build() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "blob retention disabled: no HTTP client");
                return;
            }
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sweep(&store, &service, &client).await;
        }
    });
}

fn deadlines(service: &BlobService) -> Deadlines {
    let s = service.settings();
    let now = passerelle_store::now();
    let ago =
        |secs: u64| now - chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 4));
    Deadlines {
        orphan_before: ago(s.orphan_grace_secs),
        delivered_before: ago(s.delivered_grace_secs),
        retention_before: ago(s.retention_days.saturating_mul(86_400)),
    }
}

/// One sweep; failures are logged and retried by the next one.
pub async fn sweep(store: &Store, service: &BlobService, client: &reqwest::Client) {
    for _ in 0..MAX_PASSES {
        let d = deadlines(service);
        let due = match store.run(move |c| blobs::due(c, d, PASS)).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "blob sweep failed");
                return;
            }
        };
        if due.is_empty() {
            return;
        }
        let full = due.len() == PASS as usize;
        let results: Vec<Option<(String, Reason)>> = futures_util::stream::iter(due)
            .map(|(id, reason)| async move {
                delete(service, client, &id).await.then_some((id, reason))
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let deleted: Vec<(String, Reason)> = results.into_iter().flatten().collect();
        if deleted.is_empty() {
            // The blob store refused or is down: try again next sweep.
            return;
        }
        for (_, reason) in &deleted {
            metrics::counter!("passerelle_blobs_deleted_total", "reason" => reason.as_str())
                .increment(1);
        }
        let ids: Vec<String> = deleted.into_iter().map(|(id, _)| id).collect();
        if let Err(e) = store.run(move |c| blobs::forget(c, &ids)).await {
            tracing::warn!(error = %e, "could not forget deleted blobs");
            return;
        }
        if !full {
            return;
        }
    }
}

/// Deletes one blob from the blob store; `true` when it is gone.
async fn delete(service: &BlobService, client: &reqwest::Client, id: &str) -> bool {
    let grant = match service.grant(Uuid::nil(), id, BlobOp::Delete, None, None) {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "could not sign a blob deletion");
            return false;
        }
    };
    match client
        .delete(service.internal_url_of(id))
        .bearer_auth(&grant.token)
        .send()
        .await
    {
        Ok(resp)
            if resp.status().is_success() || resp.status() == reqwest::StatusCode::NOT_FOUND =>
        {
            true
        }
        Ok(resp) => {
            tracing::warn!(blob = %id, status = %resp.status(), "the blob store refused a deletion");
            false
        }
        Err(e) => {
            tracing::warn!(blob = %id, error = %e.without_url(), "the blob store is unreachable");
            false
        }
    }
}
