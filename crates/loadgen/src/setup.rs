//! Setup: accounts (register plus extra logins, bounded concurrency,
//! retried when throttled) and sessions (connect → `ready` → `resume` →
//! `synced`), spread over the gateway URLs and the source addresses;
//! for `--per-device`, one message blob granted to each user.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream;
use hdrhistogram::Histogram;
use passerelle_client::ws::ServerFrame;
use passerelle_client::{Client, ClientError, ConnectOptions, Receiver, Sender};
use uuid::Uuid;

use crate::rest::Rest;

/// Password of every load-test account (12+ characters).
const PASSWORD: &str = "loadgen-password-0123";
/// Wait for `ready` and for `synced`.
const FRAME_WAIT: Duration = Duration::from_secs(15);
/// Attempts of a throttled or unavailable REST call.
const ATTEMPTS: u32 = 6;
/// Size asked for each `--per-device` message blob (never uploaded).
const BLOB_SIZE: u64 = 64;

/// One device: who it is and where its session goes.
#[derive(Debug, Clone)]
pub struct Device {
    pub user: usize,
    pub device_id: Uuid,
    pub token: String,
    /// Index into the URL list.
    pub url: usize,
    /// The device's registration number, as register/login returned it
    /// (`None` from a gateway that does not say, or an old tokens file).
    pub registration_id: Option<u32>,
}

/// One user and its devices (indices into [`Population::devices`]).
#[derive(Debug, Clone)]
pub struct User {
    pub user_id: Uuid,
    pub devices: Vec<usize>,
    /// `--per-device`: the message blob every entry this user sends names.
    pub blob_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct Population {
    pub users: Vec<User>,
    pub devices: Vec<Device>,
}

/// A registered user id and its devices' (id, access token, registration
/// number).
type Account = (Uuid, Vec<(Uuid, String, Option<u32>)>);
/// A session and its connect → `ready` time.
type Opened = (Session, Duration);

/// A session past `synced`, ready to be split into tasks.
pub struct Session {
    pub tx: Sender,
    pub rx: Receiver,
}

/// Registers `names` (each with `devices` devices), `concurrency` at a time.
/// Device `k` of the population talks to URL `k % urls`.
pub async fn accounts(
    clients: &[Client],
    names: Vec<String>,
    devices: usize,
    concurrency: usize,
) -> Result<Population, String> {
    let n_urls = clients.len();
    let results: Vec<(usize, Result<Account, String>)> =
        stream::iter(names.into_iter().enumerate())
            .map(|(i, name)| {
                let client = clients[i % n_urls].clone();
                async move { (i, account(&client, &name, devices).await) }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
    let mut sorted = results;
    sorted.sort_by_key(|(i, _)| *i);
    let mut pop = Population::default();
    for (user, r) in sorted {
        let (user_id, devs) = r?;
        let mut idx = Vec::new();
        for (device_id, token, registration_id) in devs {
            idx.push(pop.devices.len());
            let url = pop.devices.len() % n_urls;
            pop.devices.push(Device {
                user,
                device_id,
                token,
                url,
                registration_id,
            });
        }
        pop.users.push(User {
            user_id,
            devices: idx,
            blob_id: None,
        });
    }
    Ok(pop)
}

/// Makes one group of every user of `pop` (the first owns it, everyone
/// else is added), named `name`; returns its id.
pub async fn group(
    client: &Client,
    pop: &Population,
    name: &str,
    concurrency: usize,
) -> Result<Uuid, String> {
    let owner = pop.users.first().ok_or("no users")?;
    let token = &pop.devices[owner.devices[0]].token;
    let others: Vec<Uuid> = pop.users[1..].iter().map(|u| u.user_id).collect();
    group_of(client, token, &others, name, concurrency).await
}

/// Makes a group named `name` owned by `token`'s user with `others` as
/// members (add policy `direct`, capped at its size); returns its id.
pub async fn group_of(
    client: &Client,
    token: &str,
    others: &[Uuid],
    name: &str,
    concurrency: usize,
) -> Result<Uuid, String> {
    use passerelle_client::api::{AddPolicy, CreateConversationRequest, CreateGroup};

    let first = others.len().min(CreateGroup::MAX_MEMBERS);
    let body = CreateConversationRequest::Group(CreateGroup {
        name: name.to_owned(),
        add_policy: Some(AddPolicy::Direct),
        member_cap: Some(u32::try_from((others.len() + 1).max(2)).unwrap_or(u32::MAX)),
        members: others[..first].to_vec(),
        ..CreateGroup::default()
    });
    let created = retry(|| client.create_conversation(token, &body))
        .await
        .map_err(|e| format!("create group {name}: {e}"))?;
    let added: Vec<Result<(), String>> = stream::iter(others[first..].iter().copied())
        .map(|user| async move {
            retry(|| client.add_member(token, created.id, user))
                .await
                .map(|_| ())
                .map_err(|e| format!("add {user} to {name}: {e}"))
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    added.into_iter().collect::<Result<Vec<()>, String>>()?;
    Ok(created.id)
}

async fn account(client: &Client, name: &str, devices: usize) -> Result<Account, String> {
    let first = retry(|| client.register(name, PASSWORD, Some("lg-0")))
        .await
        .map_err(|e| format!("register {name}: {e}"))?;
    let mut devs = vec![(first.device_id, first.access_token, first.registration_id)];
    for d in 1..devices {
        let label = format!("lg-{d}");
        let t = retry(|| client.login(name, PASSWORD, Some(&label)))
            .await
            .map_err(|e| format!("login {name}: {e}"))?;
        devs.push((t.device_id, t.access_token, t.registration_id));
    }
    Ok((first.user_id, devs))
}

/// `--per-device`: grants each user of `pop` one message blob (`POST
/// /v1/blobs`, by its first device, on that device's gateway), which every
/// entry the user sends names. Nothing is uploaded: the gateway only
/// checks that the blob was granted to the sender.
pub async fn blobs(rests: &[Rest], pop: &mut Population, concurrency: usize) -> Result<(), String> {
    let asks: Vec<(usize, Rest, String)> = pop
        .users
        .iter()
        .enumerate()
        .map(|(u, user)| {
            let first = user.devices.first().map(|d| &pop.devices[*d]);
            let (url, token) = first.map_or((0, String::new()), |d| (d.url, d.token.clone()));
            (u, rests[url % rests.len()].clone(), token)
        })
        .collect();
    let granted: Vec<(usize, Result<String, String>)> = stream::iter(asks)
        .map(|(u, rest, token)| async move {
            let r = retry(|| rest.grant_message_blob(&token, BLOB_SIZE))
                .await
                .map_err(|e| format!("POST /v1/blobs for user {u}: {e}"));
            (u, r)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (u, r) in granted {
        pop.users[u].blob_id = Some(r?);
    }
    Ok(())
}

impl Population {
    /// `--per-device` needs every device's registration number: the first
    /// device (in order) without one, as an error that says where it came
    /// from (`what`).
    pub fn registrations(&self, what: &str) -> Result<(), String> {
        match self.devices.iter().find(|d| d.registration_id.is_none()) {
            None => Ok(()),
            Some(d) => Err(format!(
                "--per-device: {what} lack registration numbers (device {} has none); \
                 per-device entries need each device's current number",
                d.device_id
            )),
        }
    }
}

/// Retries 429 and 503 answers and transport errors with a growing pause.
pub async fn retry<T, F, Fut>(mut call: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let mut pause = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e)
                if attempt < ATTEMPTS
                    && (matches!(e.status(), Some(408 | 429 | 502 | 503 | 504))
                        || matches!(e, ClientError::Io(_))) =>
            {
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// How sessions are opened.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub source_addrs: Vec<IpAddr>,
    /// Small kernel and tungstenite buffers (idle sessions).
    pub small_buffers: bool,
    pub concurrency: usize,
}

/// Opens a session for every device in `devices` (in order), `concurrency`
/// at a time. Returns the sessions and the connect → `ready` latencies (µs).
pub async fn sessions(
    clients: &[Client],
    devices: &[Device],
    opts: &SessionOptions,
    address_offset: usize,
) -> Result<(Vec<Session>, Histogram<u64>), String> {
    let results: Vec<(usize, Result<Opened, String>)> = stream::iter(devices.iter().enumerate())
        .map(|(i, dev)| {
            let mut co = ConnectOptions::default();
            if !opts.source_addrs.is_empty() {
                let a = opts.source_addrs[(i + address_offset) % opts.source_addrs.len()];
                co = co.local_addr(a);
            }
            if opts.small_buffers {
                co = co
                    .socket_recv_buffer(4096)
                    .read_buffer_size(4096)
                    .write_buffer_size(4096);
            }
            let client = clients[dev.url].clone();
            async move { (i, open(&client, &dev.token, co).await) }
        })
        .buffer_unordered(opts.concurrency)
        .collect()
        .await;
    let mut sorted = results;
    sorted.sort_by_key(|(i, _)| *i);
    let mut hist = crate::report::new_histogram();
    let mut out = Vec::with_capacity(sorted.len());
    for (i, r) in sorted {
        let (s, ready) = r.map_err(|e| format!("session {i}: {e}"))?;
        hist.saturating_record(u64::try_from(ready.as_micros()).unwrap_or(u64::MAX));
        out.push(s);
    }
    Ok((out, hist))
}

async fn open(client: &Client, token: &str, co: ConnectOptions) -> Result<Opened, String> {
    let start = Instant::now();
    let conn = client
        .connect_with(token, co)
        .await
        .map_err(|e| e.to_string())?;
    let (mut tx, mut rx) = conn.split();
    wait_for(&mut rx, |f| matches!(f, ServerFrame::Ready { .. }), "ready").await?;
    let ready = start.elapsed();
    tx.resume(None).await.map_err(|e| e.to_string())?;
    wait_for(
        &mut rx,
        |f| matches!(f, ServerFrame::Synced { .. }),
        "synced",
    )
    .await?;
    Ok((Session { tx, rx }, ready))
}

async fn wait_for(
    rx: &mut Receiver,
    want: impl Fn(&ServerFrame) -> bool,
    what: &str,
) -> Result<(), String> {
    let deadline = Instant::now() + FRAME_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.next_timeout(left).await {
            Ok(Some(f)) if want(&f) => return Ok(()),
            Ok(Some(ServerFrame::Error { payload, .. })) => {
                return Err(format!("error frame before {what}: {payload:?}"));
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err(format!("no {what} within {FRAME_WAIT:?}")),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Writes one line `user_id device_id token [registration_id]` per device
/// (for `--idle-tokens`, so sessions can be opened on a freshly started
/// gateway).
pub fn save(pop: &Population, path: &std::path::Path) -> Result<(), String> {
    let mut text = String::new();
    for d in &pop.devices {
        let user = pop.users[d.user].user_id;
        text += &format!("{user} {} {}", d.device_id, d.token);
        if let Some(r) = d.registration_id {
            text += &format!(" {r}");
        }
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a [`save`]d file: one single-device user per line; this shard
/// keeps lines `i, i+n, ...`.
pub fn load(
    path: &std::path::Path,
    n_urls: usize,
    (si, sn): (usize, usize),
) -> Result<Population, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut pop = Population::default();
    for (k, line) in text.lines().enumerate().filter(|(k, _)| k % sn == si) {
        let (user_id, device_id, token, registration_id) = parse_line(line).ok_or_else(|| {
            format!(
                "{}:{}: expected `user device token [registration]`",
                path.display(),
                k + 1
            )
        })?;
        let i = pop.devices.len();
        pop.devices.push(Device {
            user: i,
            device_id,
            token,
            url: i % n_urls.max(1),
            registration_id,
        });
        pop.users.push(User {
            user_id,
            devices: vec![i],
            blob_id: None,
        });
    }
    Ok(pop)
}

/// One [`save`]d line; the registration number is optional (files of
/// older versions have none).
fn parse_line(line: &str) -> Option<(Uuid, Uuid, String, Option<u32>)> {
    let mut f = line.split_whitespace();
    let user_id = f.next()?.parse().ok()?;
    let device_id = f.next()?.parse().ok()?;
    let token = f.next()?.to_owned();
    let registration_id = match f.next() {
        None => None,
        Some(r) => Some(r.parse().ok()?),
    };
    if f.next().is_some() {
        return None;
    }
    Some((user_id, device_id, token, registration_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lines_parse_with_and_without_registration() {
        let u = Uuid::from_u128(1);
        let d = Uuid::from_u128(2);
        assert_eq!(
            parse_line(&format!("{u} {d} tok")),
            Some((u, d, "tok".to_owned(), None))
        );
        assert_eq!(
            parse_line(&format!("{u} {d} tok 1203")),
            Some((u, d, "tok".to_owned(), Some(1203)))
        );
        assert_eq!(parse_line(&format!("{u} {d} tok x")), None);
        assert_eq!(parse_line(&format!("{u} {d} tok 1 2")), None);
        assert_eq!(parse_line(&format!("{u} {d}")), None);
        assert_eq!(parse_line("x y z"), None);
    }

    #[test]
    fn per_device_needs_every_registration() {
        let mut pop = Population::default();
        for (i, registration_id) in [Some(7), None].into_iter().enumerate() {
            pop.devices.push(Device {
                user: i,
                device_id: Uuid::from_u128(i as u128),
                token: String::new(),
                url: 0,
                registration_id,
            });
        }
        let e = pop
            .registrations("the --idle-tokens file's devices")
            .unwrap_err();
        assert!(e.contains("lack registration numbers"), "{e}");
        pop.devices.pop();
        assert!(pop.registrations("x").is_ok());
    }
}
