//! Turning network flags into the prober's configuration.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use servedby_net::{ConnectTo, EgressPolicy, Network};
use servedby_probe::ProbeConfig;

use crate::args::NetArgs;
use crate::usage;

/// The default User-Agent: says who we are, so operators can recognise the scanner.
pub(crate) const USER_AGENT: &str = concat!(
    "servedby/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/servedby/servedby; infrastructure attribution)"
);

/// The network routing and scope from the flags. Configured nameservers, the RDAP
/// server and `--connect-to` destinations are exempt from the default refusal of
/// special-purpose ranges (but not from an explicit allow/deny list).
pub(crate) fn network(a: &NetArgs, nameservers: &[SocketAddr]) -> anyhow::Result<Network> {
    let connect_to = ConnectTo::parse(&a.connect_to).map_err(|e| usage(e.to_string()))?;
    let mut egress = EgressPolicy::new();
    for c in &a.allow_egress {
        egress = egress
            .allow(servedby_net::parse_cidr(c).map_err(|e| usage(format!("--allow-egress: {e}")))?);
    }
    for c in &a.deny_egress {
        egress = egress
            .deny(servedby_net::parse_cidr(c).map_err(|e| usage(format!("--deny-egress: {e}")))?);
    }
    for ns in nameservers {
        egress = egress.exempt(ns.ip());
    }
    for ip in connect_to.destinations().collect::<Vec<_>>() {
        egress = egress.exempt(ip);
    }
    if let Some(host) = rdap_url(a)?
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
    {
        if let Ok(ip) = host.trim_matches(['[', ']']).parse() {
            egress = egress.exempt(ip);
        }
    }
    Ok(Network { connect_to, egress })
}

fn rdap_url(a: &NetArgs) -> anyhow::Result<Option<url::Url>> {
    a.rdap_server
        .as_deref()
        .map(|s| url::Url::parse(s).map_err(|e| usage(format!("--rdap-server {s:?}: {e}"))))
        .transpose()
}

/// The nameservers from the flags, or the system's.
pub(crate) fn nameservers(a: &NetArgs) -> anyhow::Result<Vec<SocketAddr>> {
    if a.nameservers.is_empty() {
        let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let ns = servedby_dns::system_nameservers(&text);
        if ns.is_empty() {
            return Err(usage(
                "no --nameserver given and none found in /etc/resolv.conf",
            ));
        }
        return Ok(ns);
    }
    a.nameservers
        .iter()
        .map(|s| {
            s.parse::<SocketAddr>()
                .or_else(|_| {
                    s.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| {
                    usage(format!(
                        "--nameserver {s:?}: expected IP:PORT, e.g. 127.0.0.1:5353"
                    ))
                })
        })
        .collect()
}

/// Builds the prober configuration and network from the flags.
pub(crate) fn probe_config(a: &NetArgs) -> anyhow::Result<(ProbeConfig, Network)> {
    if !(a.timeout > 0.0 && a.timeout <= 3600.0) {
        return Err(usage("--timeout must be between 0 and 3600 seconds"));
    }
    if a.concurrency == 0 {
        return Err(usage("--concurrency must be at least 1"));
    }
    let ns = nameservers(a)?;
    let network = network(a, &ns)?;
    let timeout = Duration::from_secs_f64(a.timeout);
    let mut cfg = ProbeConfig::default();
    cfg.dns.nameservers = ns;
    cfg.dns.timeout = timeout;
    cfg.dns.rate = a.rate;
    cfg.dns.per_server_limit = a.per_server;
    cfg.fetch.timeout = timeout;
    cfg.fetch.max_body = usize::try_from(a.max_body).unwrap_or(usize::MAX);
    cfg.fetch.per_host_limit = a.per_host;
    cfg.fetch.user_agent = a
        .user_agent
        .clone()
        .unwrap_or_else(|| USER_AGENT.to_string());
    if let Some(p) = &a.ca_file {
        cfg.fetch.extra_roots = servedby_fetch::load_ca_file(p)
            .with_context(|| format!("--ca-file {}", p.display()))
            .map_err(|e| usage(format!("{e:#}")))?;
    }
    cfg.rdap_server = rdap_url(a)?;
    cfg.vantage = a.vantage.clone();
    Ok((cfg, network))
}

/// The options worth recording with a scan (and reusing on `--resume`).
pub(crate) fn record(a: &NetArgs) -> serde_json::Value {
    serde_json::json!({
        "nameservers": a.nameservers,
        "connect_to": a.connect_to,
        "allow_egress": a.allow_egress,
        "deny_egress": a.deny_egress,
        "rdap_server": a.rdap_server,
        "concurrency": a.concurrency,
        "rate": a.rate,
        "timeout": a.timeout,
        "max_body": a.max_body,
        "vantage": a.vantage,
    })
}
