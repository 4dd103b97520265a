//! servedby's DNS stub client: fast, bounded, and safe on a hostile network.
//!
//! A [`Resolver`] asks its configured nameservers (recursive resolvers, or the
//! testnet's authoritative servers) directly, over a fixed pool of UDP sockets with
//! EDNS0 (1232-byte payload) and a TCP retry when a reply is truncated. Every lookup
//! has one total deadline covering retries, TCP fallback and CNAME following, and
//! always returns a [`Lookup`]: a failure (NXDOMAIN, SERVFAIL, timeout, blocked by the
//! egress scope, a malformed reply, a CNAME loop) is an [`Outcome`], not an error.
//!
//! - **Routing.** Every destination goes through [`servedby_net::Network::route`], so
//!   `--connect-to` applies and a nameserver outside `--allow-egress` is reported as
//!   `blocked` without a packet being sent.
//! - **Hostile replies.** A reply is accepted only from the address asked, with the
//!   id of a pending query and the same question; anything else is dropped and the
//!   query keeps waiting. When only malformed or mismatched replies arrive, the
//!   outcome is `protocol-error` instead of `timeout`.
//! - **Bounded.** A global rate limit, a per-nameserver concurrency limit and a cap
//!   on queries in flight; no unbounded queue anywhere.
//! - **Presentation.** Names are lowercase without the trailing dot; record values
//!   follow [`servedby_model::DnsRecord`] (`10 mx.example.com`, concatenated TXT,
//!   `0 issue "letsencrypt.org"`, `mname rname serial refresh retry expire minimum`).
//!
//! ```no_run
//! use std::time::Duration;
//! use servedby_dns::{RecordType, Resolver, ResolverConfig};
//! use servedby_model::Outcome;
//! use servedby_net::Network;
//!
//! # async fn demo() -> Result<(), servedby_dns::DnsError> {
//! let cfg = ResolverConfig::new(vec!["127.0.0.1:5353".parse().unwrap()])
//!     .timeout(Duration::from_secs(3))
//!     .rate(1000);
//! let resolver = Resolver::new(cfg, Network::default())?;
//!
//! let www = resolver.lookup("www.example.com", RecordType::A).await;
//! match www.outcome {
//!     Outcome::Ok => {
//!         println!("via {:?}: {:?}", www.data.cname_chain, www.addresses());
//!     }
//!     other => println!("{other}: {}", www.detail.unwrap_or_default()),
//! }
//! let mx = resolver.lookup("example.com", RecordType::Mx).await;
//! for r in &mx.data.answers {
//!     println!("{} {} {}", r.name, r.rtype, r.value); // example.com MX 10 mx1.example.com
//! }
//! println!("{:?}", resolver.stats());
//! # Ok(()) }
//! ```

mod inflight;
mod reply;
mod resolver;
mod rtype;
mod stats;
mod tcp;
mod udp;
mod wire;

use std::net::{IpAddr, SocketAddr};

pub use resolver::{Lookup, Resolver, ResolverConfig, MAX_CNAME_CHAIN};
pub use rtype::{RecordType, UnknownRecordType};
pub use servedby_model::Outcome;
pub use stats::Stats;

/// Errors setting up a [`Resolver`]. Lookups themselves never fail; see [`Lookup`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// The configuration lists no nameserver.
    #[error("no nameservers configured")]
    NoNameservers,
    /// [`Resolver::new`] was called outside a tokio runtime.
    #[error("the DNS resolver must be created inside a tokio runtime")]
    NoRuntime,
    /// A UDP socket could not be bound.
    #[error("cannot bind a UDP socket on {addr}: {source}")]
    Bind {
        /// The local address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// The nameservers listed in a `resolv.conf` text (`nameserver IP` lines), port 53,
/// in order and without duplicates. A zone index (`fe80::1%eth0`) is dropped.
///
/// This only parses; servedby never queries the system resolver implicitly.
///
/// ```
/// let ns = servedby_dns::system_nameservers("# comment\nnameserver 192.0.2.53\nnameserver ::1\n");
/// assert_eq!(ns, vec!["192.0.2.53:53".parse().unwrap(), "[::1]:53".parse().unwrap()]);
/// ```
pub fn system_nameservers(text: &str) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            continue;
        }
        let Some(addr) = words.next() else { continue };
        let addr = addr.split('%').next().unwrap_or(addr);
        if let Ok(ip) = addr.parse::<IpAddr>() {
            let sa = SocketAddr::new(ip, 53);
            if !out.contains(&sa) {
                out.push(sa);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_parsing() {
        let text = "search example.com\nnameserver 10.0.0.2 # office\n  nameserver\tfe80::1%eth0\nnameserver bogus\nnameserver 10.0.0.2\noptions ndots:1\n";
        assert_eq!(
            system_nameservers(text),
            vec![
                "10.0.0.2:53".parse::<SocketAddr>().unwrap(),
                "[fe80::1]:53".parse().unwrap()
            ]
        );
        assert!(system_nameservers("").is_empty());
    }
}
