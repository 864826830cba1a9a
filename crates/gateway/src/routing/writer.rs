//! The batching writer: sends and acknowledgements from every session of the
//! node go through `writers` queues, each drained by its own task, which
//! takes what has queued up (up to `max_batch`) and applies it in one
//! transaction. A device's operations always go to the same queue (chosen by
//! its id), so what one device sends is stored, numbered and delivered in
//! the order it was sent, while different devices' batches commit in
//! parallel.
//!
//! Under light load a batch is one operation and adds no wait (a writer
//! never sleeps to fill a batch); under heavy load batches grow by
//! themselves, so the commit rate, not the message rate, is what the
//! database sees. A batch that loses a race (deadlock, a concurrent insert of
//! the same message id on another node) is run again. After the commit each
//! sender gets its outcome, then the events are published to the bus.

use std::sync::Arc;
use std::time::{Duration, Instant};

use passerelle_bus::Fanout;
use passerelle_store::batch::{self, Entry, Outcome, Rules, WriteOp};
use passerelle_store::streams::MessageRow;
use passerelle_store::{DeviceId, Store, StoreError, UserId};
use tokio::sync::{mpsc, oneshot};

use super::events;

/// Why an operation was not applied.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Internal(String),
    #[error("the node is shutting down")]
    Closed,
}

impl From<StoreError> for RouteError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) | StoreError::Transient(m) => RouteError::Unavailable(m),
            other => RouteError::Internal(other.to_string()),
        }
    }
}

struct Job {
    op: WriteOp,
    reply: oneshot::Sender<Result<Outcome, RouteError>>,
}

/// Handle to the node's writers. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    queues: Arc<Vec<mpsc::Sender<Job>>>,
}

/// How many times a batch that lost a race is run again.
const RETRIES: usize = 3;

impl Router {
    /// Starts `writers` writer tasks (at least one), each with its queue.
    pub fn start(
        store: Store,
        fanout: Fanout,
        rules: Rules,
        writers: usize,
        max_batch: usize,
        queue: usize,
    ) -> Router {
        let writers = writers.max(1);
        let per_queue = (queue / writers).max(1);
        let queues = (0..writers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(per_queue);
                tokio::spawn(write_loop(
                    store.clone(),
                    fanout.clone(),
                    rules,
                    rx,
                    max_batch.max(1),
                ));
                tx
            })
            .collect();
        Router {
            queues: Arc::new(queues),
        }
    }

    /// Queues `op` on the writer of `device` and waits for its outcome.
    async fn submit(&self, device: DeviceId, op: WriteOp) -> Result<Outcome, RouteError> {
        let (reply, rx) = oneshot::channel();
        let shard = (device.0.as_u128() % self.queues.len() as u128) as usize;
        self.queues[shard]
            .send(Job { op, reply })
            .await
            .map_err(|_| RouteError::Closed)?;
        rx.await.map_err(|_| RouteError::Closed)?
    }

    /// Stores `message` for `recipients` (with a per-device send's
    /// `entries`) and fans it out.
    pub async fn send(
        &self,
        message: MessageRow,
        recipients: Vec<UserId>,
        entries: Option<Vec<Entry>>,
    ) -> Result<Outcome, RouteError> {
        let device = message.sender_device_id;
        self.submit(
            device,
            WriteOp::Send {
                message,
                recipients,
                entries,
            },
        )
        .await
    }

    /// Moves the device's acknowledged cursor to `seq`.
    pub async fn ack(
        &self,
        user: UserId,
        device: DeviceId,
        seq: u64,
    ) -> Result<Outcome, RouteError> {
        self.submit(device, WriteOp::Ack { user, device, seq })
            .await
    }
}

async fn write_loop(
    store: Store,
    fanout: Fanout,
    rules: Rules,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        run_batch(&store, &fanout, &rules, jobs).await;
    }
}

async fn run_batch(store: &Store, fanout: &Fanout, rules: &Rules, jobs: Vec<Job>) {
    let ops: Arc<Vec<WriteOp>> = Arc::new(jobs.iter().map(|j| j.op.clone()).collect());
    let started = Instant::now();
    let mut attempt = 0;
    let result = loop {
        let ops = ops.clone();
        let now = passerelle_store::now();
        let rules = *rules;
        match store
            .transaction(move |c| batch::apply(c, &ops, now, &rules))
            .await
        {
            Err(e) if e.is_retryable() && attempt < RETRIES => {
                attempt += 1;
                metrics::counter!("passerelle_batch_retries_total").increment(1);
                tokio::time::sleep(Duration::from_millis(2 * attempt as u64)).await;
            }
            other => break other,
        }
    };
    metrics::histogram!("passerelle_batch_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("passerelle_batch_size").record(jobs.len() as f64);
    match result {
        Ok(outcomes) => {
            let publish = events::batch_envelopes(&outcomes);
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(Ok(outcome));
            }
            if !publish.is_empty()
                && let Err(e) = fanout.publish(publish).await
            {
                // Committed: sessions catch up from the database.
                tracing::warn!(error = %e, "publish failed after commit");
            }
        }
        Err(e) => {
            tracing::error!(error = %e, size = ops.len(), "batch failed");
            let message = e.to_string();
            let retryable = e.is_retryable() || matches!(e, StoreError::Unavailable(_));
            for job in jobs {
                let err = if retryable {
                    RouteError::Unavailable(message.clone())
                } else {
                    RouteError::Internal(message.clone())
                };
                let _ = job.reply.send(Err(err));
            }
        }
    }
}
