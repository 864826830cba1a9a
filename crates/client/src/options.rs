//! [`ConnectOptions`] and [`TokenTransport`]: how a WebSocket session is
//! opened.
//!
//! Kept apart from the handshake itself so callers see the knobs in one
//! place: how the token travels, which source address the socket is bound to
//! (the load generator spreads its sessions over many loopback addresses),
//! the connect limit, and tungstenite's buffer sizes.

use std::net::IpAddr;
use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How the access token reaches the server during the upgrade.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenTransport {
    /// `Sec-WebSocket-Protocol: passerelle.v1, bearer.<token>`: the only way
    /// a browser can send it, so the default.
    #[default]
    Subprotocol,
    /// `Authorization: Bearer <token>` with `Sec-WebSocket-Protocol:
    /// passerelle.v1`.
    AuthorizationHeader,
}

/// Settings of one WebSocket connection. `ConnectOptions::default()` is what
/// [`Client::connect`](crate::Client::connect) uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    pub transport: TokenTransport,
    /// Bind the TCP socket to this address (port chosen by the system)
    /// before connecting, e.g. `127.0.0.2`.
    pub local_addr: Option<IpAddr>,
    /// Limit on the TCP connect plus the upgrade; `None` waits forever.
    pub timeout: Option<Duration>,
    /// tungstenite's read buffer (bytes); its default when `None`.
    pub read_buffer_size: Option<usize>,
    /// tungstenite's write buffer (bytes); its default when `None`.
    pub write_buffer_size: Option<usize>,
    /// The socket's kernel receive buffer (`SO_RCVBUF`, bytes); the
    /// system's default when `None`. Small values model a slow reader and
    /// save memory per connection in load tests.
    pub socket_recv_buffer: Option<u32>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            transport: TokenTransport::default(),
            local_addr: None,
            timeout: Some(Duration::from_secs(10)),
            read_buffer_size: None,
            write_buffer_size: None,
            socket_recv_buffer: None,
        }
    }
}

impl ConnectOptions {
    pub fn transport(mut self, transport: TokenTransport) -> Self {
        self.transport = transport;
        self
    }

    pub fn local_addr(mut self, addr: IpAddr) -> Self {
        self.local_addr = Some(addr);
        self
    }

    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = Some(bytes);
        self
    }

    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = Some(bytes);
        self
    }

    pub fn socket_recv_buffer(mut self, bytes: u32) -> Self {
        self.socket_recv_buffer = Some(bytes);
        self
    }

    pub(crate) fn ws_config(&self) -> WebSocketConfig {
        let mut c = WebSocketConfig::default();
        if let Some(n) = self.read_buffer_size {
            c = c.read_buffer_size(n);
        }
        if let Some(n) = self.write_buffer_size {
            c = c.write_buffer_size(n);
        }
        c
    }
}
