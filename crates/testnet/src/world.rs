//! A whole simulated world: the DNS zones, web sites and registration data of a set of
//! domains and of the providers they use, started together on loopback.
//!
//! Tests, the benchmark and `servedby demo` describe a world as data ([`WorldSpec`]):
//! DNS records as absolute zone lines (grouped into zones by registrable domain), and
//! per domain its web certificate (issued by a test CA with a realistic issuer name),
//! response headers, home page, redirect and registrar. [`World::start`] turns it into
//! running servers and tells the prober how to reach them ([`World::net_args`]): every
//! connection goes to loopback through `--connect-to`, and `--allow-egress 127.0.0.0/8`
//! refuses anything else, so the real-world IPs inside the answers are never dialed.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::dns::{DnsServer, Zone};
use crate::pki::{Preset, TestCa, TestChain, Validity};
use crate::rdap::{RdapRecord, RdapServer};
use crate::web::{Response, Site, WebServer};

/// The kind of certificate a simulated site presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CertKind {
    /// Valid for the name and `www.` name, issued by the chosen CA.
    #[default]
    Valid,
    /// Expired.
    Expired,
    /// Issued for another name.
    WrongHost,
    /// Self-signed.
    SelfSigned,
}

/// One simulated domain of the world.
#[derive(Debug, Clone, Default)]
pub struct DomainSpec {
    /// The domain (its apex and `www.` host are served).
    pub name: String,
    /// DNS records as absolute zone lines (`hikvision.com. 300 A 13.35.1.1`); they may
    /// be in any zone (the world groups lines by registrable domain).
    pub records: Vec<String>,
    /// The CA that issues the web certificate; `None` serves no HTTPS for the site
    /// (the prober falls back to plain HTTP).
    pub ca: Option<Preset>,
    /// What kind of certificate.
    pub cert: CertKind,
    /// Extra response headers on every page of the site.
    pub headers: Vec<(String, String)>,
    /// The home page (HTML); `None` for an empty 200 page.
    pub html: Option<String>,
    /// When set, `/` answers `301` to this URL instead of the page.
    pub redirect: Option<String>,
    /// Registrar name and IANA id for RDAP; `None` leaves the domain out of RDAP (404).
    pub registrar: Option<(String, Option<u32>)>,
    /// Registrant organisation, when public.
    pub registrant: Option<String>,
}

/// The description of a world.
#[derive(Debug, Clone, Default)]
pub struct WorldSpec {
    /// The simulated domains.
    pub domains: Vec<DomainSpec>,
    /// Records outside any domain's own description (provider zones: CNAME targets,
    /// SPF include records), as absolute zone lines.
    pub records: Vec<String>,
    /// Extra sites (e.g. redirect landing hosts), with the CA that issues their
    /// certificate.
    pub sites: Vec<(DomainSpec, Preset)>,
}

/// A running world.
#[derive(Debug)]
pub struct World {
    /// The authoritative DNS server for every zone.
    pub dns: DnsServer,
    /// The HTTPS and HTTP server for every site.
    pub web: WebServer,
    /// The RDAP server for every domain with a registrar.
    pub rdap: RdapServer,
    ca_file: PathBuf,
    has_cas: bool,
}

/// The zone a record line belongs to: the registrable domain of its owner name.
fn zone_of(line: &str) -> Option<String> {
    let owner = line
        .split_whitespace()
        .next()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let owner = owner.trim_start_matches("*.");
    Some(psl::domain_str(owner).unwrap_or(owner).to_string())
}

impl World {
    /// Starts the servers of `spec`; the roots of the test CAs used are written to
    /// `dir/testnet-ca.pem` (for `--ca-file`).
    pub async fn start(spec: &WorldSpec, dir: &Path) -> io::Result<Self> {
        let bad = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
        let mut lines: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for l in spec
            .domains
            .iter()
            .chain(spec.sites.iter().map(|(d, _)| d))
            .flat_map(|d| d.records.iter())
            .chain(spec.records.iter())
        {
            let z = zone_of(l).ok_or_else(|| bad(format!("empty record line {l:?}")))?;
            lines.entry(z).or_default().push(l);
        }
        let zones = lines
            .into_iter()
            .map(|(origin, ls)| {
                Zone::parse(&origin, &ls.join("\n")).map_err(|e| bad(e.to_string()))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let dns = DnsServer::start(zones)?;

        // One CA per preset used, created on first use (key generation costs time).
        let mut cas: BTreeMap<usize, TestCa> = BTreeMap::new();
        let mut ca_for = |p: Preset| -> TestCa {
            let i = Preset::ALL.iter().position(|x| *x == p).unwrap_or(0);
            cas.entry(i).or_insert_with(|| TestCa::preset(p)).clone()
        };
        let mut sites = Vec::new();
        let site_specs = spec
            .domains
            .iter()
            .map(|d| (d, d.ca))
            .chain(spec.sites.iter().map(|(d, p)| (d, Some(*p))));
        for (d, preset) in site_specs {
            let www = format!("www.{}", d.name);
            let names = [d.name.as_str(), www.as_str()];
            let chain: Option<TestChain> = preset.map(|p| match d.cert {
                CertKind::Valid => ca_for(p).issue_leaf(&names, Validity::current()),
                CertKind::Expired => ca_for(p).issue_leaf(&names, Validity::expired()),
                CertKind::WrongHost => {
                    ca_for(p).issue_leaf(&["unrelated.example"], Validity::current())
                }
                CertKind::SelfSigned => TestChain::self_signed(&names, Validity::current()),
            });
            let mut page = match &d.redirect {
                Some(to) => Response::redirect(301, to),
                None => Response::html(d.html.clone().unwrap_or_default()),
            };
            for (k, v) in &d.headers {
                page = page.header(k, v);
            }
            for host in names {
                let mut site = Site::new(host).route("/", page.clone());
                match &chain {
                    Some(c) => site = site.chain(c.clone()),
                    // No HTTPS for this site: the handshake fails, the prober falls back.
                    None => site = site.garbage_tls(),
                }
                sites.push(site);
            }
        }
        let web = WebServer::start(sites).await?;

        let records = spec
            .domains
            .iter()
            .filter_map(|d| {
                let (registrar, iana) = d.registrar.clone()?;
                let nameservers = d
                    .records
                    .iter()
                    .filter_map(|l| {
                        let f: Vec<&str> = l.split_whitespace().collect();
                        let i = f.iter().position(|t| t.eq_ignore_ascii_case("NS"))?;
                        let owner = f[0].trim_end_matches('.');
                        (owner == d.name)
                            .then(|| f.get(i + 1).map(|n| n.trim_end_matches('.').to_string()))?
                    })
                    .collect();
                Some(RdapRecord {
                    domain: d.name.clone(),
                    registrar: Some(registrar),
                    registrar_iana_id: iana,
                    registrant_org: d.registrant.clone(),
                    created: Some("2010-03-01T00:00:00Z".into()),
                    expires: Some("2030-03-01T00:00:00Z".into()),
                    nameservers,
                })
            })
            .collect();
        let rdap = RdapServer::start(records).await?;

        let ca_file = dir.join("testnet-ca.pem");
        let pem: String = cas.values().map(TestCa::root_pem).collect();
        std::fs::write(&ca_file, pem)?;
        Ok(Self {
            dns,
            web,
            rdap,
            ca_file,
            has_cas: !cas.is_empty(),
        })
    }

    /// The PEM file with the roots of the world's test CAs.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The DNS server's address.
    pub fn nameserver(&self) -> SocketAddr {
        self.dns.addr()
    }

    /// The network flags that point the prober at this world and nowhere else.
    pub fn net_args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--nameserver".into(),
            self.dns.addr().to_string(),
            "--connect-to".into(),
            format!("*:443={}", self.web.https_addr()),
            "--connect-to".into(),
            format!("*:80={}", self.web.http_addr()),
            "--allow-egress".into(),
            "127.0.0.0/8".into(),
            "--rdap-server".into(),
            self.rdap.base_url().to_string(),
        ];
        // A world without test CAs has no roots to add (an empty file is refused).
        if self.has_cas {
            args.extend(["--ca-file".into(), self.ca_file.display().to_string()]);
        }
        args
    }
}
