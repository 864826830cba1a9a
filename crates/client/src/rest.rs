//! [`Client`]: the REST calls of the auth, device and account API, and the
//! entry point to WebSocket sessions.
//!
//! Each method is one endpoint; bodies are the `passerelle-api-types`
//! structs, so the client cannot drift from the gateway. Any non-2xx answer
//! becomes [`ClientError::Http`] with the documented error code.

use passerelle_api_types::{
    AddMemberRequest, AddMemberResponse, Conversation, CreateConversationRequest,
    CredentialsRequest, DeviceList, Health, Me, RefreshRequest, TokenResponse,
};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::ClientError;
use crate::connection::Connection;
use crate::handshake;
use crate::options::ConnectOptions;

/// A Passerelle gateway at one base URL. Cheap to clone; clones share the
/// HTTP connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for the gateway at `base_url`, e.g. `http://127.0.0.1:8080`
    /// (a trailing `/` is ignored; a path prefix is kept).
    pub fn new(base_url: &str) -> Self {
        Self::with_http(base_url, reqwest::Client::new())
    }

    /// Same, with a `reqwest::Client` configured by the caller (timeouts,
    /// pool sizes, proxies).
    pub fn with_http(base_url: &str, http: reqwest::Client) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
        }
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.call(Method::GET, "/healthz", None, None::<&()>).await
    }

    /// `POST /v1/auth/register`: a new account and its first device.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        device_name: Option<&str>,
    ) -> Result<TokenResponse, ClientError> {
        let body = credentials(username, password, device_name);
        self.register_with(&body).await
    }

    /// `POST /v1/auth/register` with a full body (e.g. with `platform`).
    pub async fn register_with(
        &self,
        body: &CredentialsRequest,
    ) -> Result<TokenResponse, ClientError> {
        self.call(Method::POST, "/v1/auth/register", None, Some(body))
            .await
    }

    /// `POST /v1/auth/login`: always a new device.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        device_name: Option<&str>,
    ) -> Result<TokenResponse, ClientError> {
        let body = credentials(username, password, device_name);
        self.login_with(&body).await
    }

    /// `POST /v1/auth/login` with a full body.
    pub async fn login_with(
        &self,
        body: &CredentialsRequest,
    ) -> Result<TokenResponse, ClientError> {
        self.call(Method::POST, "/v1/auth/login", None, Some(body))
            .await
    }

    /// `POST /v1/auth/refresh`: a new pair; `refresh_token` is dead after.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, ClientError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        self.call(Method::POST, "/v1/auth/refresh", None, Some(&body))
            .await
    }

    /// `POST /v1/auth/logout`: revokes the calling device.
    pub async fn logout(&self, access: &str) -> Result<(), ClientError> {
        self.call_empty(Method::POST, "/v1/auth/logout", access)
            .await
    }

    /// `GET /v1/devices`.
    pub async fn devices(&self, access: &str) -> Result<DeviceList, ClientError> {
        self.call(Method::GET, "/v1/devices", Some(access), None::<&()>)
            .await
    }

    /// `DELETE /v1/devices/{id}`: revokes that device's tokens at once.
    pub async fn revoke_device(&self, access: &str, device_id: Uuid) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &format!("/v1/devices/{device_id}"), access)
            .await
    }

    /// `GET /v1/me`.
    pub async fn me(&self, access: &str) -> Result<Me, ClientError> {
        self.call(Method::GET, "/v1/me", Some(access), None::<&()>)
            .await
    }

    /// `POST /v1/conversations`: a direct conversation (found or created) or
    /// a new group.
    pub async fn create_conversation(
        &self,
        access: &str,
        body: &CreateConversationRequest,
    ) -> Result<Conversation, ClientError> {
        self.call(Method::POST, "/v1/conversations", Some(access), Some(body))
            .await
    }

    /// `POST /v1/conversations/{id}/members`: adds or invites a user.
    pub async fn add_member(
        &self,
        access: &str,
        conversation: Uuid,
        user_id: Uuid,
    ) -> Result<AddMemberResponse, ClientError> {
        self.call(
            Method::POST,
            &format!("/v1/conversations/{conversation}/members"),
            Some(access),
            Some(&AddMemberRequest { user_id }),
        )
        .await
    }

    /// Opens a WebSocket session at `<base>/v1/ws` with the default options
    /// (token as a subprotocol entry).
    pub async fn connect(&self, access_token: &str) -> Result<Connection, ClientError> {
        self.connect_with(access_token, ConnectOptions::default())
            .await
    }

    /// Opens a WebSocket session with `opts`.
    pub async fn connect_with(
        &self,
        access_token: &str,
        opts: ConnectOptions,
    ) -> Result<Connection, ClientError> {
        let (ws, protocol) = handshake::open(&self.base, access_token, &opts).await?;
        Ok(Connection::new(ws, protocol))
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
        body: Option<&B>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = access {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let bytes = resp.bytes().await?;
        Err(ClientError::from_http(status.as_u16(), &bytes))
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let bytes = self.send(method, path, access, body).await?.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| decode_error(path, &e))
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        access: &str,
    ) -> Result<(), ClientError> {
        self.send(method, path, Some(access), None::<&()>).await?;
        Ok(())
    }
}

fn credentials(username: &str, password: &str, device_name: Option<&str>) -> CredentialsRequest {
    CredentialsRequest {
        registration_id: None,
        username: username.to_owned(),
        password: password.to_owned(),
        device_name: device_name.map(str::to_owned),
        platform: None,
    }
}

/// A 2xx body that is not the expected shape. The body is not quoted, and
/// serde's own message only when it names a field rather than a value: a
/// token response must not end up in an error.
fn decode_error(path: &str, e: &serde_json::Error) -> ClientError {
    let msg = e.to_string();
    let detail = if msg.starts_with("missing field") || msg.starts_with("unknown field") {
        msg
    } else {
        format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        )
    };
    ClientError::Protocol(format!("unexpected body from {path}: {detail}"))
}
