//! DNS over TCP (RFC 1035 §4.2.2, 2-byte length framing), used after a truncated
//! UDP reply.
//!
//! The connection goes through [`Network::connect_tcp`], so `--connect-to` and the
//! egress scope apply exactly as for UDP. A connection carries one query; a reply
//! that does not match it is a protocol error (unlike UDP, TCP replies cannot be
//! spoofed off-path, so a mismatch means the server is broken).

use std::net::SocketAddr;
use std::time::Duration;

use servedby_model::Outcome;
use servedby_net::{ConnectError, Network};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::reply::{self, Reply};
use crate::wire;

/// Why a TCP exchange failed, as an outcome and an explanation.
#[derive(Debug)]
pub(crate) struct TcpFailure {
    pub(crate) outcome: Outcome,
    pub(crate) detail: String,
    /// The address dialed, if routing got that far.
    pub(crate) server: Option<SocketAddr>,
}

/// Sends `query` (already carrying its id) to nameserver `ns` over TCP and reads the
/// reply, all within `timeout`. Returns the reply and the address dialed.
pub(crate) async fn exchange(
    net: &Network,
    ns: SocketAddr,
    query: &[u8],
    qend: usize,
    timeout: Duration,
) -> Result<(Reply, SocketAddr), TcpFailure> {
    let deadline = tokio::time::Instant::now() + timeout;
    let (mut stream, addr) = net.connect_tcp(ns, timeout).await.map_err(|e| match e {
        ConnectError::Blocked(b) => TcpFailure {
            outcome: Outcome::Blocked,
            detail: b.to_string(),
            server: Some(b.addr),
        },
        ConnectError::Timeout { addr } => TcpFailure {
            outcome: Outcome::Timeout,
            detail: format!("TCP connection to {addr} timed out"),
            server: Some(addr),
        },
        other => TcpFailure {
            outcome: Outcome::Error,
            detail: format!("TCP fallback: {other}"),
            server: None,
        },
    })?;
    let fail = |outcome, detail: String| TcpFailure {
        outcome,
        detail,
        server: Some(addr),
    };
    let io = async {
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
        framed.extend_from_slice(query);
        stream.write_all(&framed).await?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut body).await?;
        Ok::<_, std::io::Error>(body)
    };
    let body = match tokio::time::timeout_at(deadline, io).await {
        Err(_) => {
            return Err(fail(
                Outcome::Timeout,
                format!("no TCP reply from {addr} in time"),
            ))
        }
        Ok(Err(e)) => {
            return Err(fail(
                Outcome::Error,
                format!("TCP exchange with {addr}: {e}"),
            ))
        }
        Ok(Ok(body)) => body,
    };
    let id_matches = body.len() >= wire::HEADER && body[..2] == query[..2];
    if !id_matches || !wire::reply_matches(&body, &query[wire::HEADER..qend]) {
        return Err(fail(
            Outcome::ProtocolError,
            format!("TCP reply from {addr} does not match the query"),
        ));
    }
    reply::decode(&body).map(|m| (m, addr)).map_err(|e| {
        fail(
            Outcome::ProtocolError,
            format!("malformed TCP reply from {addr}: {e}"),
        )
    })
}
