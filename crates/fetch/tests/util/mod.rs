//! Shared helpers for the fetch tests: a network that routes every https and http
//! destination to a loopback [`WebServer`], and a fetcher built on it.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use servedby_fetch::{FetchConfig, Fetcher, HostResolver, StaticResolver};
use servedby_net::{ConnectTo, EgressPolicy, Network};
use servedby_testnet::pki::TestCa;
use servedby_testnet::web::WebServer;

/// A real public address (example.com's former address), never dialed: the
/// `--connect-to` rules send it to loopback.
pub(crate) const PUBLIC_IP: &str = "93.184.216.34";

/// The public address as an `IpAddr`.
pub(crate) fn public_ip() -> IpAddr {
    PUBLIC_IP.parse().expect("valid IP")
}

/// `--connect-to '*:443=<https>' --connect-to '*:80=<http>' --allow-egress 127.0.0.0/8`.
pub(crate) fn loopback_network(server: &WebServer) -> Network {
    Network {
        connect_to: ConnectTo::parse(&[
            format!("*:443={}", server.https_addr()),
            format!("*:80={}", server.http_addr()),
        ])
        .expect("valid rules"),
        egress: EgressPolicy::new().allow(servedby_net::parse_cidr("127.0.0.0/8").expect("cidr")),
    }
}

/// A fetcher trusting `roots`' test roots, with a short timeout suitable for tests.
pub(crate) fn fetcher(server: &WebServer, roots: &[&TestCa]) -> Fetcher {
    fetcher_with(
        server,
        roots,
        base_config(),
        Arc::new(StaticResolver::new()),
    )
}

/// The test configuration: a 5-second deadline.
pub(crate) fn base_config() -> FetchConfig {
    FetchConfig::default().timeout(Duration::from_secs(5))
}

/// A fetcher with a custom configuration and resolver.
pub(crate) fn fetcher_with(
    server: &WebServer,
    roots: &[&TestCa],
    config: FetchConfig,
    resolver: Arc<dyn HostResolver>,
) -> Fetcher {
    let config = config.extra_roots(roots.iter().map(|ca| ca.root_der().clone()));
    Fetcher::new(config, Arc::new(loopback_network(server)), resolver).expect("fetcher")
}
