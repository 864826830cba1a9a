//! Opening a WebSocket session: the URL, the token offer, the TCP socket and
//! the `passerelle.v1` upgrade.
//!
//! The handshake is a fixed contract: `GET <base>/v1/ws` offering
//! `Sec-WebSocket-Protocol: passerelle.v1, bearer.<token>` (or
//! `Authorization: Bearer <token>` plus `passerelle.v1` alone), and a `101`
//! that echoes exactly `passerelle.v1`. The token never goes in the URL, and
//! an answer that echoes anything else (above all the token entry) is
//! refused. The socket is opened here rather than by tungstenite so that it
//! can be bound to a chosen source address first: the load generator spreads
//! its sessions over many loopback addresses.

use std::net::{IpAddr, SocketAddr};

use passerelle_api_types::ws::{SUBPROTOCOL, TOKEN_PREFIX};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Uri, header};

use crate::ClientError;
use crate::error::body_text;
use crate::options::{ConnectOptions, TokenTransport};

/// The session URL for a REST base URL: `http://h/p` → `ws://h/p/v1/ws`.
/// `https://` maps to `wss://`, which this client cannot open (it is built
/// without TLS) but reports as such.
pub fn ws_url(base_url: &str) -> Result<String, ClientError> {
    let base = base_url.trim_end_matches('/');
    let rest = [
        ("http://", "ws://"),
        ("https://", "wss://"),
        ("ws://", "ws://"),
        ("wss://", "wss://"),
    ]
    .iter()
    .find_map(|(from, to)| base.strip_prefix(from).map(|rest| format!("{to}{rest}")));
    match rest {
        Some(url) if url.contains('?') || url.contains('#') => Err(ClientError::Protocol(
            "the base URL must not have a query or fragment".into(),
        )),
        Some(url) => Ok(format!("{url}/v1/ws")),
        None => Err(ClientError::Protocol(format!(
            "base URL must start with http:// or https://: {base_url}"
        ))),
    }
}

/// The `Sec-WebSocket-Protocol` value offered for `transport`.
pub fn offered_protocols(token: &str, transport: TokenTransport) -> Result<String, ClientError> {
    check_token(token)?;
    Ok(match transport {
        TokenTransport::Subprotocol => format!("{SUBPROTOCOL}, {TOKEN_PREFIX}{token}"),
        TokenTransport::AuthorizationHeader => SUBPROTOCOL.to_owned(),
    })
}

/// A token must be an HTTP token (RFC 9110 `tchar`s) to be a subprotocol
/// entry; JWTs are. The error never repeats the token.
fn check_token(token: &str) -> Result<(), ClientError> {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if token.is_empty() || !token.chars().all(tchar) {
        return Err(ClientError::Protocol(
            "the access token has characters a WebSocket subprotocol entry cannot hold".into(),
        ));
    }
    Ok(())
}

/// Refuses a `101` that did not echo exactly `passerelle.v1`. The echoed
/// value is not repeated: it could be the token.
pub fn verify_echo(echoed: Option<&HeaderValue>) -> Result<String, ClientError> {
    match echoed.map(HeaderValue::to_str) {
        Some(Ok(p)) if p == SUBPROTOCOL => Ok(p.to_owned()),
        Some(_) => Err(ClientError::Protocol(format!(
            "the server selected a subprotocol other than {SUBPROTOCOL}"
        ))),
        None => Err(ClientError::Protocol(format!(
            "the server selected no subprotocol (expected {SUBPROTOCOL})"
        ))),
    }
}

fn build_request(
    url: &str,
    token: &str,
    transport: TokenTransport,
) -> Result<Request, ClientError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ClientError::Protocol(format!("bad WebSocket URL: {e}")))?;
    let protocols = HeaderValue::from_str(&offered_protocols(token, transport)?)
        .map_err(|_| ClientError::Protocol("unusable access token".into()))?;
    let headers = request.headers_mut();
    headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocols);
    if transport == TokenTransport::AuthorizationHeader {
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ClientError::Protocol("unusable access token".into()))?;
        auth.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, auth);
    }
    Ok(request)
}

/// Resolves `uri`'s host and connects, from `local` when given.
async fn connect_tcp(
    uri: &Uri,
    local: Option<IpAddr>,
    recv_buffer: Option<u32>,
) -> Result<TcpStream, ClientError> {
    let host = uri
        .host()
        .ok_or_else(|| ClientError::Protocol("the WebSocket URL has no host".into()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ClientError::Io(format!("cannot resolve {host}: {e}")))?;
    let mut last = ClientError::Io(format!("{host} resolved to no usable address"));
    for addr in addrs {
        if local.is_some_and(|l| l.is_ipv4() != addr.is_ipv4()) {
            continue;
        }
        match connect_one(addr, local, recv_buffer).await {
            Ok(s) => return Ok(s),
            Err(e) => last = ClientError::Io(format!("cannot connect to {addr}: {e}")),
        }
    }
    Err(last)
}

async fn connect_one(
    addr: SocketAddr,
    local: Option<IpAddr>,
    recv_buffer: Option<u32>,
) -> std::io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(bytes) = recv_buffer {
        socket.set_recv_buffer_size(bytes)?;
    }
    if let Some(ip) = local {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Connects and upgrades; returns the stream and the echoed subprotocol.
pub(crate) async fn open(
    base_url: &str,
    token: &str,
    opts: &ConnectOptions,
) -> Result<(WebSocketStream<TcpStream>, String), ClientError> {
    let work = async {
        let url = ws_url(base_url)?;
        if url.starts_with("wss://") {
            return Err(ClientError::Protocol(
                "wss:// needs TLS, which this client is built without".into(),
            ));
        }
        let request = build_request(&url, token, opts.transport)?;
        let stream = connect_tcp(request.uri(), opts.local_addr, opts.socket_recv_buffer).await?;
        let (ws, response) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(opts.ws_config()))
                .await
                .map_err(handshake_error)?;
        let protocol = verify_echo(response.headers().get(header::SEC_WEBSOCKET_PROTOCOL))?;
        Ok((ws, protocol))
    };
    match opts.timeout {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| ClientError::Io(format!("WebSocket connect timed out after {limit:?}")))?,
        None => work.await,
    }
}

fn handshake_error(e: tokio_tungstenite::tungstenite::Error) -> ClientError {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Http(response) => ClientError::Handshake {
            status: response.status().as_u16(),
            body: response
                .body()
                .as_deref()
                .map(body_text)
                .unwrap_or_default(),
        },
        E::Io(e) => ClientError::Io(e.to_string()),
        // Subprotocol mismatches and malformed answers. tungstenite's
        // messages name headers, never their values.
        other => ClientError::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_base_urls_map_to_ws() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080").expect("url"),
            "ws://127.0.0.1:8080/v1/ws"
        );
        assert_eq!(
            ws_url("http://127.0.0.1:8080/").expect("url"),
            "ws://127.0.0.1:8080/v1/ws"
        );
        assert_eq!(
            ws_url("https://chat.example/api").expect("url"),
            "wss://chat.example/api/v1/ws"
        );
        assert_eq!(ws_url("ws://[::1]:9/").expect("url"), "ws://[::1]:9/v1/ws");
        assert!(matches!(ws_url("ftp://x"), Err(ClientError::Protocol(_))));
        assert!(matches!(
            ws_url("http://x/?token=1"),
            Err(ClientError::Protocol(_))
        ));
    }

    #[test]
    fn the_token_is_offered_as_a_subprotocol_entry_or_not_at_all() {
        assert_eq!(
            offered_protocols("a.b-c_d", TokenTransport::Subprotocol).expect("ok"),
            "passerelle.v1, bearer.a.b-c_d"
        );
        assert_eq!(
            offered_protocols("a.b", TokenTransport::AuthorizationHeader).expect("ok"),
            "passerelle.v1"
        );
    }

    #[test]
    fn tokens_that_cannot_be_entries_are_refused_without_being_repeated() {
        for bad in ["", "a b", "a,b", "sécret", "x\r\ny"] {
            let e = offered_protocols(bad, TokenTransport::Subprotocol).expect_err(bad);
            assert!(matches!(e, ClientError::Protocol(_)));
            if !bad.is_empty() {
                assert!(!e.to_string().contains(bad));
            }
        }
    }

    #[test]
    fn the_request_carries_the_token_only_where_asked() {
        let r = build_request("ws://h:1/v1/ws", "tok", TokenTransport::Subprotocol).expect("req");
        assert_eq!(r.uri().to_string(), "ws://h:1/v1/ws");
        assert_eq!(
            r.headers()[header::SEC_WEBSOCKET_PROTOCOL],
            "passerelle.v1, bearer.tok"
        );
        assert!(r.headers().get(header::AUTHORIZATION).is_none());

        let r = build_request("ws://h:1/v1/ws", "tok", TokenTransport::AuthorizationHeader)
            .expect("req");
        assert_eq!(r.headers()[header::SEC_WEBSOCKET_PROTOCOL], "passerelle.v1");
        assert_eq!(r.headers()[header::AUTHORIZATION], "Bearer tok");
    }

    #[test]
    fn only_an_exact_echo_is_accepted() {
        let ok = HeaderValue::from_static("passerelle.v1");
        assert_eq!(verify_echo(Some(&ok)).expect("ok"), "passerelle.v1");
        let token = HeaderValue::from_static("bearer.secret-token");
        let e = verify_echo(Some(&token)).expect_err("token echoed");
        assert!(!e.to_string().contains("secret-token"), "{e}");
        let both = HeaderValue::from_static("passerelle.v1, bearer.x");
        assert!(verify_echo(Some(&both)).is_err());
        assert!(verify_echo(None).is_err());
    }
}
