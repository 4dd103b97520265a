//! The prober: everything servedby measures about one target.
//!
//! For a target domain the prober asks DNS about the name and its `www.` host (A and
//! AAAA with their CNAME chains, MX, TXT, CAA), about the registrable domain (NS, SOA),
//! follows the SPF record's includes within RFC 7208's limit of ten lookups, opens the
//! web host over TLS (recording the whole presented chain and its verdict), fetches
//! `GET /` with its redirects, extracts the third-party URLs of the landed page, and asks
//! RDAP about the registrable domain. Every failure is an [`Observation`] with an
//! [`Outcome`]; nothing a target does can fail the scan.
//!
//! Each target's observations are its own. Only answers that many targets share by
//! nature are fetched once for all of them (the `shared` module): the RDAP record of a
//! registrable domain, and the SPF records of included domains while their TTL lasts.
//! Each target still records its own observation of such an answer. So what a scan
//! stores does not depend on which target happened to run first; only the time of
//! the query that answered does.

mod config;
mod shared;
mod spf_walk;

pub use config::ProbeConfig;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use servedby_dns::{Lookup, RecordType, Resolver};
use servedby_fetch::{FetchError, Fetcher, HostResolver};
use servedby_model::{Clock, Observation, ObservationData, Outcome, RdapData};
use servedby_net::Network;

use crate::shared::{Keep, Shared};

/// Errors setting up a prober (bad configuration); measurements never fail this way.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The DNS client could not start.
    #[error("DNS client: {0}")]
    Dns(#[from] servedby_dns::DnsError),
    /// The fetcher could not start.
    #[error("HTTP/TLS client: {0}")]
    Fetch(#[from] FetchError),
}

/// Observes targets. Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct Prober {
    config: ProbeConfig,
    resolver: Resolver,
    fetcher: Fetcher,
    clock: Arc<dyn Clock>,
    bootstrap: servedby_rdap::Bootstrap,
    /// RDAP answers by registrable domain: registries rate-limit hard, and many
    /// targets share a registrable domain. Each target still gets its own observation
    /// (with the time of the query that answered it).
    rdap_cache: Shared<Observation>,
    /// TXT answers for SPF includes and redirects, kept for their TTL: thousands of
    /// targets include the same few providers' records.
    spf_cache: Shared<Lookup>,
}

/// RDAP answers kept before the cache starts over: memory stays flat on huge scans (at
/// 65,536 entries peak RSS grew by ~100 MB between 10,000 and 100,000 domains), while
/// targets of one registrable domain, which lists put near each other, still share.
const RDAP_CACHE_MAX: usize = 4_096;

/// SPF records of included domains kept before that cache starts over. Includes name
/// mail providers, a few hundred at most in a scan.
const SPF_CACHE_MAX: usize = 4_096;

/// Resolves redirect targets with servedby's own DNS client (never the system's).
#[derive(Debug, Clone)]
struct DnsHostResolver(Resolver);

impl HostResolver for DnsHostResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<IpAddr>, String>> + Send + 'a>>
    {
        Box::pin(async move {
            let (a, aaaa) = tokio::join!(
                self.0.lookup(host, RecordType::A),
                self.0.lookup(host, RecordType::Aaaa)
            );
            let mut ips = a.addresses();
            ips.extend(aaaa.addresses());
            if ips.is_empty() {
                Err(format!(
                    "{host}: {} {}",
                    a.outcome,
                    a.detail.unwrap_or_default()
                ))
            } else {
                Ok(ips)
            }
        })
    }
}

impl Prober {
    /// Builds a prober. Needs a running tokio runtime (the DNS client starts tasks).
    pub fn new(
        config: ProbeConfig,
        network: Network,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ProbeError> {
        let resolver = Resolver::new(config.dns.clone(), network.clone())?;
        let fetcher = Fetcher::new(
            config.fetch.clone(),
            Arc::new(network),
            Arc::new(DnsHostResolver(resolver.clone())),
        )?;
        Ok(Self {
            config,
            resolver,
            fetcher,
            clock,
            bootstrap: servedby_rdap::Bootstrap::builtin_fallback(),
            rdap_cache: Shared::new(RDAP_CACHE_MAX),
            spf_cache: Shared::new(SPF_CACHE_MAX),
        })
    }

    /// The DNS client (for `servedby resolve`).
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// The configuration.
    pub fn config(&self) -> &ProbeConfig {
        &self.config
    }

    fn obs(
        &self,
        target: &str,
        host: &str,
        resolver: Option<String>,
        outcome: Outcome,
        detail: Option<String>,
        data: ObservationData,
    ) -> Observation {
        Observation {
            target: target.to_string(),
            host: host.to_string(),
            at: self.clock.now(),
            vantage: self.config.vantage.clone(),
            resolver,
            outcome,
            detail,
            data,
        }
    }

    fn dns_obs(&self, target: &str, l: &Lookup) -> Observation {
        self.obs(
            target,
            &l.name,
            l.resolver.map(|r| r.to_string()),
            l.outcome,
            l.detail.clone(),
            ObservationData::Dns(l.data.clone()),
        )
    }

    /// Every observation for one target, in a stable order.
    pub async fn observe(&self, target: &str) -> Vec<Observation> {
        let target = target.trim_end_matches('.').to_ascii_lowercase();
        let registrable = psl::domain_str(&target).unwrap_or(&target).to_string();
        let www = if target.starts_with("www.") {
            None
        } else {
            Some(format!("www.{target}"))
        };
        let r = &self.resolver;
        let www_a = async {
            match &www {
                Some(w) => Some(tokio::join!(
                    r.lookup(w, RecordType::A),
                    r.lookup(w, RecordType::Aaaa)
                )),
                None => None,
            }
        };
        let (a, aaaa, www_addrs, ns, mx, txt, caa, soa, rdap) = tokio::join!(
            r.lookup(&target, RecordType::A),
            r.lookup(&target, RecordType::Aaaa),
            www_a,
            r.lookup(&registrable, RecordType::Ns),
            r.lookup(&target, RecordType::Mx),
            r.lookup(&target, RecordType::Txt),
            r.lookup(&target, RecordType::Caa),
            r.lookup(&registrable, RecordType::Soa),
            self.rdap(&target, &registrable),
        );
        let mut out = Vec::with_capacity(24);
        for l in [&a, &aaaa] {
            out.push(self.dns_obs(&target, l));
        }
        if let Some((wa, waaaa)) = &www_addrs {
            out.push(self.dns_obs(&target, wa));
            out.push(self.dns_obs(&target, waaaa));
        }
        for l in [&ns, &mx, &txt, &caa, &soa] {
            out.push(self.dns_obs(&target, l));
        }

        spf_walk::walk(self, &target, &txt, &mut out).await;

        // The web host is the name itself when it has addresses, else its www host.
        let mut addrs = a.addresses();
        addrs.extend(aaaa.addresses());
        let mut web_host = target.clone();
        if addrs.is_empty() {
            if let (Some(w), Some((wa, waaaa))) = (&www, &www_addrs) {
                addrs = wa.addresses();
                addrs.extend(waaaa.addresses());
                web_host = w.clone();
            }
        }
        if !addrs.is_empty() {
            self.web(&target, &web_host, &addrs, &mut out).await;
        }
        out.push(rdap);
        out
    }

    async fn web(&self, target: &str, host: &str, addrs: &[IpAddr], out: &mut Vec<Observation>) {
        let res = self.fetcher.fetch_site(host, addrs).await;
        if let Some(tls) = res.tls {
            out.push(self.obs(
                target,
                host,
                tls.remote.map(|r| r.to_string()),
                tls.outcome,
                tls.detail,
                ObservationData::Tls(tls.data),
            ));
        }
        let http = res.http;
        let remote = http.remote.map(|r| r.to_string());
        let final_url = http.data.final_url.clone();
        let is_html = res
            .content_type
            .as_deref()
            .is_none_or(|c| c.to_ascii_lowercase().contains("html"));
        let mut http_data = http.data;
        let html = match (final_url, is_html && !res.body.is_empty()) {
            (Some(u), true) => url::Url::parse(&u)
                .ok()
                .map(|page| servedby_html::extract(&page, &res.body)),
            _ => None,
        };
        if let Some(h) = &html {
            http_data.title = h.title.clone();
        }
        out.push(self.obs(
            target,
            host,
            remote.clone(),
            http.outcome,
            http.detail,
            ObservationData::Http(http_data),
        ));
        if let Some(h) = html {
            out.push(self.obs(
                target,
                host,
                remote,
                Outcome::Ok,
                None,
                ObservationData::Html(h),
            ));
        }
    }

    async fn rdap(&self, target: &str, registrable: &str) -> Observation {
        // A failure is shared only by the targets that waited for it; later targets
        // ask again rather than inherit a transient error.
        let mut o = self
            .rdap_cache
            .get(
                registrable,
                || self.rdap_query(registrable),
                |o| {
                    if o.outcome == Outcome::Ok {
                        Keep::Always
                    } else {
                        Keep::No
                    }
                },
            )
            .await;
        o.target = target.to_string();
        o
    }

    /// The TXT answer for an SPF include or redirect target, shared by the targets
    /// that include it for as long as its TTL allows (failures and empty answers are
    /// not kept).
    async fn spf_txt(&self, domain: &str) -> Lookup {
        self.spf_cache
            .get(
                domain,
                || self.resolver.lookup(domain, RecordType::Txt),
                |l| match l.data.answers.iter().map(|r| r.ttl).min() {
                    Some(ttl) if l.outcome == Outcome::Ok => {
                        Keep::For(std::time::Duration::from_secs(u64::from(ttl)))
                    }
                    _ => Keep::No,
                },
            )
            .await
    }

    /// One RDAP query; the observation's target is filled in per target by the caller.
    async fn rdap_query(&self, registrable: &str) -> Observation {
        let target = registrable;
        let base = match &self.config.rdap_server {
            Some(u) => Some(u.clone()),
            None => self.bootstrap.server_for(registrable),
        };
        let mut data = RdapData {
            domain: registrable.to_string(),
            ..RdapData::default()
        };
        let Some(base) = base else {
            return self.obs(
                target,
                registrable,
                None,
                Outcome::Error,
                Some("no RDAP server known for this TLD; use --rdap-server".into()),
                ObservationData::Rdap(data),
            );
        };
        let url = match servedby_rdap::domain_url(&base, registrable) {
            Ok(u) => u,
            Err(e) => {
                return self.obs(
                    target,
                    registrable,
                    None,
                    Outcome::Error,
                    Some(e.to_string()),
                    ObservationData::Rdap(data),
                );
            }
        };
        data.server = url.to_string();
        let (outcome, detail, remote) = match self
            .fetcher
            .get(url.as_str(), servedby_rdap::MAX_RESPONSE_BYTES)
            .await
        {
            Ok(resp) if resp.status == 200 => {
                match servedby_rdap::parse_domain(&resp.body, url.as_str()) {
                    Ok(mut parsed) => {
                        parsed.server = url.to_string();
                        data = parsed;
                        (Outcome::Ok, None, Some(resp.remote))
                    }
                    Err(e) => (
                        Outcome::ProtocolError,
                        Some(e.to_string()),
                        Some(resp.remote),
                    ),
                }
            }
            Ok(resp) if resp.status == 404 => (
                Outcome::Nxdomain,
                Some("RDAP: 404 not found".into()),
                Some(resp.remote),
            ),
            Ok(resp) => (
                Outcome::HttpError,
                Some(format!("RDAP: HTTP {}", resp.status)),
                Some(resp.remote),
            ),
            Err(e) => (e.outcome(), Some(e.to_string()), None),
        };
        self.obs(
            target,
            registrable,
            remote.map(|r: SocketAddr| r.to_string()),
            outcome,
            detail,
            ObservationData::Rdap(data),
        )
    }
}
