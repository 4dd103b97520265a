//! Where servedby may send packets, and where it actually sends them.
//!
//! Every connection the prober opens — DNS over UDP or TCP, TLS, HTTP, RDAP — goes
//! through a [`Network`]: first the curl-like `--connect-to` rules rewrite the
//! destination (so tests can send `93.184.216.34:443` to `127.0.0.1:8443` while the TLS
//! server name and HTTP `Host` stay the original), then the [`EgressPolicy`] decides,
//! on the address that would really be dialed, whether a packet may leave at all. A
//! refused destination is reported before any socket is opened.
//!
//! The crate also holds the small concurrency tools shared by the probers: a global
//! token-bucket [`RateLimiter`] and a per-key concurrency limit ([`KeyedLimiter`]),
//! optionally opened gradually (slow start).

mod connect_to;
mod egress;
mod limit;

pub use connect_to::{ConnectRule, ConnectTo, FromSpec};
pub use egress::{is_special_purpose, Blocked, EgressPolicy};
pub use limit::{KeyedLimiter, RateLimiter, Slot, MIN_WINDOW};

use std::net::SocketAddr;
use std::time::Duration;

/// Errors in network option values (bad `--connect-to`, bad CIDR).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionError {
    /// A `--connect-to` value is not of the form `FROM=TO`.
    #[error("invalid --connect-to {value:?}: {reason}")]
    ConnectTo {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A CIDR or address could not be parsed.
    #[error("invalid address range {value:?}: expected an IP address or CIDR such as 127.0.0.0/8")]
    Cidr {
        /// The value given.
        value: String,
    },
}

/// The routing and scope every connection goes through.
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// `--connect-to` rewriting rules.
    pub connect_to: ConnectTo,
    /// What may be dialed.
    pub egress: EgressPolicy,
}

/// Why a TCP connection could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The destination is outside the egress scope; nothing was sent.
    #[error(transparent)]
    Blocked(#[from] Blocked),
    /// The connection did not open within the deadline.
    #[error("connecting to {addr} timed out")]
    Timeout {
        /// The address dialed.
        addr: SocketAddr,
    },
    /// The operating system reported an error.
    #[error("connecting to {addr}: {source}")]
    Io {
        /// The address dialed.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

impl Network {
    /// Applies `--connect-to`, then checks the egress policy. Returns the address to
    /// dial.
    ///
    /// The allow and deny lists judge the address actually dialed (after rewriting).
    /// The default refusal of special-purpose ranges judges both the destination that a
    /// DNS answer or redirect named and the dialed address, so a hostile answer of
    /// `10.0.0.1` is refused even when a `--connect-to` rule would send it elsewhere,
    /// while explicitly configured destinations (exemptions) stay reachable.
    pub fn route(&self, dest: SocketAddr) -> Result<SocketAddr, Blocked> {
        let dialed = self.connect_to.rewrite(dest);
        if dialed != dest {
            self.egress.check_special(dest)?;
        }
        self.egress.check(dialed)?;
        Ok(dialed)
    }

    /// Routes `dest` and opens a TCP connection to it within `timeout`.
    /// Returns the stream and the address actually dialed.
    pub async fn connect_tcp(
        &self,
        dest: SocketAddr,
        timeout: Duration,
    ) -> Result<(tokio::net::TcpStream, SocketAddr), ConnectError> {
        let addr = self.route(dest)?;
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
            Err(_) => Err(ConnectError::Timeout { addr }),
            Ok(Err(source)) => Err(ConnectError::Io { addr, source }),
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                Ok((s, addr))
            }
        }
    }
}

/// Parses an IP address or CIDR (`10.0.0.0/8`, `::1`, `127.0.0.1`).
pub fn parse_cidr(s: &str) -> Result<ipnet::IpNet, OptionError> {
    let s = s.trim();
    if let Ok(n) = s.parse::<ipnet::IpNet>() {
        return Ok(n.trunc());
    }
    s.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| OptionError::Cidr {
            value: s.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn hostile_private_answer_is_refused_even_when_rewritten() {
        let net = Network {
            connect_to: ConnectTo::parse(&["*:443=127.0.0.1:8443"]).unwrap(),
            egress: EgressPolicy::new().exempt("127.0.0.1".parse().unwrap()),
        };
        assert_eq!(
            net.route(sa("93.184.216.34:443")).unwrap(),
            sa("127.0.0.1:8443")
        );
        assert!(net.route(sa("10.0.0.1:443")).is_err());
        assert!(net.route(sa("169.254.169.254:443")).is_err());
        // Configured destinations themselves stay reachable.
        assert!(net.route(sa("127.0.0.1:8443")).is_ok());
    }

    #[test]
    fn allow_list_judges_the_dialed_address() {
        let net = Network {
            connect_to: ConnectTo::parse(&["*:443=127.0.0.1:8443"]).unwrap(),
            egress: EgressPolicy::new().allow("127.0.0.0/8".parse().unwrap()),
        };
        assert!(net.route(sa("93.184.216.34:443")).is_ok());
        assert!(net.route(sa("93.184.216.34:80")).is_err());
    }
}
