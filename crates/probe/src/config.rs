//! Prober configuration: every knob, injectable.

use servedby_dns::ResolverConfig;
use servedby_fetch::FetchConfig;

/// How the prober measures.
#[derive(Debug, Clone, Default)]
pub struct ProbeConfig {
    /// DNS client settings (nameservers, timeout, rate, per-server limit).
    pub dns: ResolverConfig,
    /// TLS/HTTP settings (timeout, max body, user agent, extra roots, per-host limit).
    pub fetch: FetchConfig,
    /// The RDAP server to use for every TLD (`--rdap-server`); else IANA bootstrap.
    pub rdap_server: Option<url::Url>,
    /// The label of where the scan runs from (`--vantage`).
    pub vantage: Option<String>,
}
