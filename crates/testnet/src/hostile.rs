//! A hostile world: one domain per way a broken or adversarial internet can hurt a
//! scanner, for the robustness tests.
//!
//! [`HostileWorld::start`] serves, on loopback only, DNS that truncates, loops, lies about
//! ids and never answers; TLS peers with expired, self-signed, misnamed, ten-deep and
//! oversized chains, stalled handshakes and garbage; HTTP servers that drip, stream a
//! gibibyte, send compression bombs, loop redirects, break the protocol and reset in the
//! middle of a body; pages with 100,000 elements, 10,000 levels of nesting and every
//! kind of awkward URL; strings crafted to attack terminals, spreadsheets and HTML
//! reports; and DNS answers and redirects that try to steer the scanner into the
//! user's own network. Each [`Case`] names its domain and the outcomes a correct
//! prober records for it.
//!
//! Most cases use the ordinary testnet servers ([`DnsServer`], [`WebServer`],
//! [`RdapServer`]). What those cannot do is added here: a raw HTTP server that answers
//! with canned bytes (malformed headers, header bytes that are not UTF-8), a *trap*
//! listener on `127.0.0.2` that must never see a connection, and relays on `127.0.0.3`
//! and `127.0.0.4` in front of the web and RDAP servers, so a `--deny-egress` test can
//! refuse one server's address while the others stay reachable.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::dns::{DnsServer, Zone};
use crate::pki::{Preset, TestCa, TestChain, Validity};
use crate::rdap::{RdapRecord, RdapServer};
use crate::web::{Response, Site, WebServer};

/// What a case is about; the robustness test scans every group but [`Group::Scope`]
/// with `--allow-egress 127.0.0.0/8`, and the scope group without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Group {
    /// Misbehaving DNS.
    Dns,
    /// Broken or hostile TLS.
    Tls,
    /// Broken or hostile HTTP.
    Http,
    /// Pages that are costly or awkward to analyse.
    Html,
    /// Strings crafted to attack terminals, spreadsheets and HTML reports.
    Output,
    /// DNS answers and redirects that point into the user's own network.
    Scope,
}

/// One hostile domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// What the case is about.
    pub group: Group,
    /// The name as given to `servedby` (Unicode for the IDN case).
    pub input: String,
    /// The target as servedby records it (ASCII, lowercase).
    pub target: String,
    /// What the domain does, in a few words.
    pub what: &'static str,
    /// The outcomes a correct prober records, as `kind=outcome` with `kind` one of
    /// `dns:A` (the target's own A lookup), `dns:TXT`, `tls`, `http`, `html` and
    /// `rdap`; `kind=absent` means no such observation at all.
    pub expect: Vec<&'static str>,
}

/// The zones of the hostile world (registrable domains; one RDAP record each).
pub const ZONES: [&str; 6] = [
    "dns-hostile.com",
    "tls-hostile.com",
    "http-hostile.com",
    "html-hostile.com",
    "out-hostile.com",
    "scope-hostile.com",
];

/// Addresses in this range are answered by the raw HTTP server on port 80 (and by the
/// web server, which knows none of their names, on 443).
pub const RAW_RANGE: &str = "93.184.217.0/24";

/// The registrar the output-safety zone's RDAP record names: a spreadsheet formula,
/// terminal escapes, markup and a bidi override around a name the catalog knows, so
/// it reaches reports as relationship evidence.
pub const HOSTILE_REGISTRAR: &str = "=cmd|' /C calc'!A0 GoDaddy.com, LLC \u{1b}[2J\u{1b}]0;owned\u{7} <script>alert(1)</script> \u{202e}fdp.exe";

/// The issuer organisation of the output-safety site's certificate (matches the
/// catalog's `DigiCert` issuer rule).
pub const HOSTILE_ISSUER_ORG: &str =
    "DigiCert Inc \u{1b}[31m<img src=x onerror=alert(1)>\u{202e} =HYPERLINK(\"http://evil.example\")";

/// The `<title>` of the output-safety pages.
pub const HOSTILE_TITLE: &str =
    "=cmd|' /C calc'!A0 \u{1b}[2J\u{1b}]0;owned\u{7} <b>bold</b> \u{202e}fdp.exe\u{9b}31m";

/// The `server` header of the raw output-safety site (matches the catalog's
/// `server: cloudflare` rule); sent as raw UTF-8 bytes.
pub const HOSTILE_SERVER_HEADER: &str =
    "cloudflare \u{202e}=cmd|' /C calc'!A0 <script>alert(1)</script>";

/// A brotli stream that decodes to 1 GiB of `<p>AAAA…` (1,024-byte lines), 818 bytes
/// on the wire: a real decompression bomb, made once with the reference encoder
/// (quality 5, 16 MiB window).
const BROTLI_BOMB: [u8; 818] = [
    0xcf, 0xff, 0xff, 0x7f, 0x00, 0xa4, 0x79, 0x7c, 0x82, 0xe0, 0xd4, 0x61, 0xa5, 0x15, 0x02, 0xb6,
    0xcd, 0x86, 0xee, 0xfc, 0xff, 0x01, 0xfc, 0xff, 0xff, 0x07, 0x40, 0x02, 0x20, 0x0e, 0x0b, 0x40,
    0xf7, 0xfe, 0x9f, 0xff, 0xff, 0xff, 0x00, 0x48, 0x00, 0xc4, 0x61, 0x01, 0xe8, 0xde, 0xff, 0xf3,
    0xff, 0xff, 0x1f, 0x00, 0x09, 0x80, 0x38, 0x2c, 0x00, 0xdd, 0xfb, 0x7f, 0xfe, 0xff, 0xff, 0x03,
    0x20, 0x01, 0x10, 0x87, 0x05, 0xa0, 0x7b, 0xff, 0xcf, 0xff, 0xff, 0x7f, 0x00, 0x24, 0x00, 0xe2,
    0xb0, 0x00, 0x74, 0xef, 0xff, 0xf9, 0xff, 0xff, 0x0f, 0x80, 0x04, 0x40, 0x1c, 0x16, 0x80, 0xee,
    0xfd, 0x3f, 0xff, 0xff, 0xff, 0x01, 0x90, 0x00, 0x88, 0xc3, 0x02, 0xd0, 0xbd, 0xff, 0xe7, 0xff,
    0xff, 0x3f, 0x00, 0x12, 0x00, 0x71, 0x58, 0x00, 0xba, 0xf7, 0xff, 0xfc, 0xff, 0xff, 0x07, 0x40,
    0x02, 0x20, 0x0e, 0x0b, 0x40, 0xf7, 0xfe, 0x9f, 0xff, 0xff, 0xff, 0x00, 0x48, 0x00, 0xc4, 0x61,
    0x01, 0xe8, 0xde, 0xff, 0xf3, 0xff, 0xff, 0x1f, 0x00, 0x09, 0x80, 0x38, 0x2c, 0x00, 0xdd, 0xfb,
    0x7f, 0xfe, 0xff, 0xff, 0x03, 0x20, 0x01, 0x10, 0x87, 0x05, 0xa0, 0x7b, 0xff, 0xcf, 0xff, 0xff,
    0x7f, 0x00, 0x24, 0x00, 0xe2, 0xb0, 0x00, 0x74, 0xef, 0xff, 0xf9, 0xff, 0xff, 0x0f, 0x80, 0x04,
    0x40, 0x1c, 0x16, 0x80, 0xee, 0xfd, 0x3f, 0xff, 0xff, 0xff, 0x01, 0x90, 0x00, 0x88, 0xc3, 0x02,
    0xd0, 0xbd, 0xff, 0xe7, 0xff, 0xff, 0x3f, 0x00, 0x12, 0x00, 0x71, 0x58, 0x00, 0xba, 0xf7, 0xff,
    0xfc, 0xff, 0xff, 0x07, 0x40, 0x02, 0x20, 0x0e, 0x0b, 0x40, 0xf7, 0xfe, 0x9f, 0xff, 0xff, 0xff,
    0x00, 0x48, 0x00, 0xc4, 0x61, 0x01, 0xe8, 0xde, 0xff, 0xf3, 0xff, 0xff, 0x1f, 0x00, 0x09, 0x80,
    0x38, 0x2c, 0x00, 0xdd, 0xfb, 0x7f, 0xfe, 0xff, 0xff, 0x03, 0x20, 0x01, 0x10, 0x87, 0x05, 0xa0,
    0x7b, 0xff, 0xcf, 0xff, 0xff, 0x7f, 0x00, 0x24, 0x00, 0xe2, 0xb0, 0x00, 0x74, 0xef, 0xff, 0xf9,
    0xff, 0xff, 0x0f, 0x80, 0x04, 0x40, 0x1c, 0x16, 0x80, 0xee, 0xfd, 0x3f, 0xff, 0xff, 0xff, 0x01,
    0x90, 0x00, 0x88, 0xc3, 0x02, 0xd0, 0xbd, 0xff, 0xe7, 0xff, 0xff, 0x3f, 0x00, 0x12, 0x00, 0x71,
    0x58, 0x00, 0xba, 0xf7, 0xff, 0xfc, 0xff, 0xff, 0x07, 0x40, 0x02, 0x20, 0x0e, 0x0b, 0x40, 0xf7,
    0xfe, 0x9f, 0xff, 0xff, 0xff, 0x00, 0x48, 0x00, 0xc4, 0x61, 0x01, 0xe8, 0xde, 0xff, 0xf3, 0xff,
    0xff, 0x1f, 0x00, 0x09, 0x80, 0x38, 0x2c, 0x00, 0xdd, 0xfb, 0x7f, 0xfe, 0xff, 0xff, 0x03, 0x20,
    0x01, 0x10, 0x87, 0x05, 0xa0, 0x7b, 0xff, 0xcf, 0xff, 0xff, 0x7f, 0x00, 0x24, 0x00, 0xe2, 0xb0,
    0x00, 0x74, 0xef, 0xff, 0xf9, 0xff, 0xff, 0x0f, 0x80, 0x04, 0x40, 0x1c, 0x16, 0x80, 0xee, 0xfd,
    0x3f, 0xff, 0xff, 0xff, 0x01, 0x90, 0x00, 0x88, 0xc3, 0x02, 0xd0, 0xbd, 0xff, 0xe7, 0xff, 0xff,
    0x3f, 0x00, 0x12, 0x00, 0x71, 0x58, 0x00, 0xba, 0xf7, 0xff, 0xfc, 0xff, 0xff, 0x07, 0x40, 0x02,
    0x20, 0x0e, 0x0b, 0x40, 0xf7, 0xfe, 0x9f, 0xff, 0xff, 0xff, 0x00, 0x48, 0x00, 0xc4, 0x61, 0x01,
    0xe8, 0xde, 0xff, 0xf3, 0xff, 0xff, 0x1f, 0x00, 0x09, 0x80, 0x38, 0x2c, 0x00, 0xdd, 0xfb, 0x7f,
    0xfe, 0xff, 0xff, 0x03, 0x20, 0x01, 0x10, 0x87, 0x05, 0xa0, 0x7b, 0xff, 0xcf, 0xff, 0xff, 0x7f,
    0x00, 0x24, 0x00, 0xe2, 0xb0, 0x00, 0x74, 0xef, 0xff, 0xf9, 0xff, 0xff, 0x0f, 0x80, 0x04, 0x40,
    0x1c, 0x16, 0x80, 0xee, 0xfd, 0x3f, 0xff, 0xff, 0xff, 0x01, 0x90, 0x00, 0x88, 0xc3, 0x02, 0xd0,
    0xbd, 0xff, 0xe7, 0xff, 0xff, 0x3f, 0x00, 0x12, 0x00, 0x71, 0x58, 0x00, 0xba, 0xf7, 0xff, 0xfc,
    0xff, 0xff, 0x07, 0x40, 0x02, 0x20, 0x0e, 0x0b, 0x40, 0xf7, 0xfe, 0x9f, 0xff, 0xff, 0xff, 0x00,
    0x48, 0x00, 0xc4, 0x61, 0x01, 0xe8, 0xde, 0xff, 0xf3, 0xff, 0xff, 0x1f, 0x00, 0x09, 0x80, 0x38,
    0x2c, 0x00, 0xdd, 0xfb, 0x7f, 0xfe, 0xff, 0xff, 0x03, 0x20, 0x01, 0x10, 0x87, 0x05, 0xa0, 0x7b,
    0xff, 0xcf, 0xff, 0xff, 0x7f, 0x00, 0x24, 0x00, 0xe2, 0xb0, 0x00, 0x74, 0xef, 0xff, 0xf9, 0xff,
    0xff, 0x0f, 0x80, 0x04, 0x40, 0x1c, 0x16, 0x80, 0xee, 0xfd, 0x3f, 0xff, 0xff, 0xff, 0x01, 0x90,
    0x00, 0x88, 0xc3, 0x02, 0xd0, 0xbd, 0xff, 0xe7, 0xff, 0xff, 0x3f, 0x00, 0x12, 0x00, 0x71, 0x58,
    0x00, 0xba, 0xf7, 0xff, 0xfc, 0xff, 0xff, 0x07, 0x40, 0x02, 0x20, 0x0e, 0x0b, 0x40, 0xf7, 0xfe,
    0x9f, 0xff, 0xff, 0xff, 0x00, 0x48, 0x00, 0xc4, 0x61, 0x01, 0xe8, 0xde, 0xff, 0xf3, 0xff, 0xff,
    0x1f, 0x00, 0x09, 0x80, 0x38, 0x2c, 0x00, 0xdd, 0xfb, 0x7f, 0xfe, 0xff, 0xff, 0x03, 0x20, 0x01,
    0x10, 0x87, 0x05, 0xa0, 0x7b, 0xff, 0xcf, 0xff, 0xff, 0x7f, 0x00, 0x24, 0x00, 0xe2, 0xb0, 0x00,
    0x74, 0xef, 0xff, 0xf9, 0xff, 0xff, 0x0f, 0x80, 0x04, 0x40, 0x1c, 0x16, 0x80, 0xee, 0xfd, 0x3f,
    0xff, 0xff, 0xff, 0x01, 0x90, 0x00, 0x88, 0xc3, 0x02, 0xd0, 0xbd, 0xff, 0xe7, 0xff, 0xff, 0x3f,
    0x00, 0x12, 0x00, 0x71, 0x58, 0x00, 0xba, 0xf7, 0xff, 0xfc, 0xff, 0xff, 0x07, 0x40, 0x02, 0x20,
    0x0e, 0x0b, 0x40, 0xf7, 0xfe, 0x9f, 0xff, 0xff, 0xff, 0x00, 0x48, 0x00, 0xc4, 0x61, 0x01, 0xe8,
    0xde, 0xff, 0xf3, 0xff, 0xff, 0x1f, 0x00, 0x09, 0x80, 0x38, 0x2c, 0x00, 0xdd, 0xfb, 0x7f, 0xfe,
    0xff, 0xff, 0x03, 0x20, 0x01, 0x10, 0x87, 0x05, 0xa0, 0x7b, 0xff, 0xcf, 0xff, 0xff, 0x7f, 0x00,
    0x24, 0x00, 0xe2, 0xb0, 0x00, 0x74, 0xef, 0xff, 0xf9, 0xff, 0xff, 0x0f, 0x80, 0x04, 0x40, 0x1c,
    0x16, 0x80, 0xee, 0xfd, 0x3f, 0xff, 0xff, 0xff, 0x01, 0x90, 0x00, 0x88, 0xc3, 0x02, 0xd0, 0xbd,
    0xff, 0x1f,
];

/// A running hostile world.
#[derive(Debug)]
pub struct HostileWorld {
    /// The authoritative DNS server for every hostile zone.
    pub dns: DnsServer,
    /// The HTTPS and HTTP server for the hostile sites.
    pub web: WebServer,
    /// The RDAP server for the hostile zones.
    pub rdap: RdapServer,
    /// The raw HTTP server behind [`RAW_RANGE`] port 80.
    pub raw: RawHttpServer,
    /// A listener on `127.0.0.2` that a correctly scoped scan never reaches.
    pub trap: Listener,
    /// A relay on `127.0.0.3` in front of the web server's HTTPS listener.
    pub web_relay: Listener,
    /// A relay on `127.0.0.4` in front of the RDAP server.
    pub rdap_relay: Listener,
    cases: Vec<Case>,
    ca_file: PathBuf,
}

/// Zone lines, sites and RDAP records being collected.
#[derive(Default)]
struct Builder {
    lines: BTreeMap<&'static str, Vec<String>>,
    sites: Vec<Site>,
    cases: Vec<Case>,
}

impl Builder {
    fn zone(&mut self, origin: &'static str, line: String) {
        self.lines.entry(origin).or_default().push(line);
    }

    fn case(&mut self, group: Group, target: &str, what: &'static str, expect: &[&'static str]) {
        self.cases.push(Case {
            group,
            input: target.to_string(),
            target: target.to_string(),
            what,
            expect: expect.to_vec(),
        });
    }
}

/// The zone a hostile name lives in.
fn origin_of(name: &str) -> &'static str {
    ZONES
        .iter()
        .find(|z| name == **z || name.ends_with(&format!(".{z}")))
        .copied()
        .unwrap_or(ZONES[0])
}

impl HostileWorld {
    /// Starts every server; the roots of the test CAs are written to
    /// `dir/hostile-ca.pem` (for `--ca-file`).
    pub async fn start(dir: &Path) -> io::Result<Self> {
        let trap = Listener::trap(Ipv4Addr::new(127, 0, 0, 2)).await?;
        let mut b = Builder::default();
        let ca = TestCa::preset(Preset::LetsEncryptR11);
        let mut roots = vec![ca.root_pem()];
        // One address per site: the web server picks the site by name, so any public-
        // looking address works; distinct ones keep the evidence readable.
        let mut next_ip = 0u32;
        let mut ip = move || {
            next_ip += 1;
            Ipv4Addr::new(93, 184, 215 + (next_ip / 250) as u8, (next_ip % 250) as u8)
        };
        let mut web = |b: &mut Builder, host: &str, chain: Option<TestChain>, page: Response| {
            let zone = origin_of(host);
            b.zone(zone, format!("{host}. 300 A {}", ip()));
            let mut site = Site::new(host).route("/", page);
            if let Some(c) = chain {
                site = site.chain(c);
            }
            b.sites.push(site);
        };
        let valid = |host: &str| Some(ca.issue_leaf(&[host], Validity::current()));
        let page = |title: &str, body: &str| {
            Response::html(format!(
                "<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"
            ))
        };

        // DNS.
        let d = "dns-hostile.com";
        let h = "tc.dns-hostile.com";
        b.zone(d, format!("{h}. BEHAVIOR truncate-udp"));
        web(&mut b, h, valid(h), page("truncated", ""));
        b.case(
            Group::Dns,
            h,
            "every UDP answer truncated: TCP fallback",
            &["dns:A=ok", "tls=ok", "http=ok"],
        );
        b.zone(
            d,
            "cname-loop.dns-hostile.com. CNAME loop-b.dns-hostile.com.".into(),
        );
        b.zone(
            d,
            "loop-b.dns-hostile.com. CNAME cname-loop.dns-hostile.com.".into(),
        );
        b.case(
            Group::Dns,
            "cname-loop.dns-hostile.com",
            "a CNAME loop",
            &["dns:A=limit-exceeded", "tls=absent", "http=absent"],
        );
        b.zone(
            d,
            "cname-chain.dns-hostile.com. CNAME c1.dns-hostile.com.".into(),
        );
        for i in 1..30 {
            b.zone(
                d,
                format!("c{i}.dns-hostile.com. CNAME c{}.dns-hostile.com.", i + 1),
            );
        }
        b.zone(d, "c30.dns-hostile.com. A 93.184.214.30".into());
        b.case(
            Group::Dns,
            "cname-chain.dns-hostile.com",
            "a 30-deep CNAME chain",
            &["dns:A=limit-exceeded", "tls=absent", "http=absent"],
        );
        // Three distinct 21,000-byte strings: an answer of about 63 KiB, as much TXT as a
        // 64 KiB DNS message can carry.
        for c in ['a', 'b', 'c'] {
            let text = c.to_string().repeat(21_000);
            b.zone(d, format!("big-txt.dns-hostile.com. TXT \"{text}\""));
        }
        b.case(
            Group::Dns,
            "big-txt.dns-hostile.com",
            "a TXT RRset of 63,000 bytes (64 KiB message)",
            &["dns:TXT=ok", "dns:A=no-data"],
        );
        b.zone(d, "malformed.dns-hostile.com. BEHAVIOR malformed".into());
        b.case(
            Group::Dns,
            "malformed.dns-hostile.com",
            "replies that do not parse",
            &["dns:A=protocol-error", "http=absent"],
        );
        let h = "wrong-id.dns-hostile.com";
        b.zone(d, format!("{h}. BEHAVIOR wrong-id"));
        web(&mut b, h, valid(h), page("wrong id first", ""));
        b.case(
            Group::Dns,
            h,
            "a reply with a mismatched id before the right one",
            &["dns:A=ok", "http=ok"],
        );
        b.zone(
            d,
            "wrong-id-only.dns-hostile.com. BEHAVIOR wrong-id-only".into(),
        );
        b.zone(d, "wrong-id-only.dns-hostile.com. A 93.184.214.31".into());
        b.case(
            Group::Dns,
            "wrong-id-only.dns-hostile.com",
            "only replies with a mismatched id",
            &["dns:A=timeout", "http=absent"],
        );
        b.case(
            Group::Dns,
            "nxdomain.dns-hostile.com",
            "a name that does not exist",
            &["dns:A=nxdomain", "http=absent"],
        );
        b.zone(d, "servfail.dns-hostile.com. BEHAVIOR servfail".into());
        b.case(
            Group::Dns,
            "servfail.dns-hostile.com",
            "SERVFAIL",
            &["dns:A=servfail", "http=absent"],
        );
        b.zone(d, "refused.dns-hostile.com. BEHAVIOR refused".into());
        b.case(
            Group::Dns,
            "refused.dns-hostile.com",
            "REFUSED",
            &["dns:A=refused", "http=absent"],
        );
        b.zone(d, "silent.dns-hostile.com. BEHAVIOR drop".into());
        b.case(
            Group::Dns,
            "silent.dns-hostile.com",
            "a server that never answers",
            &["dns:A=timeout", "http=absent"],
        );
        let h = "anything.wild.dns-hostile.com";
        b.zone(d, "*.wild.dns-hostile.com. 60 A 93.184.214.32".into());
        b.sites.push(
            Site::new(h)
                .chain(ca.issue_leaf(&[h], Validity::current()))
                .route("/", page("wildcard", "")),
        );
        b.case(
            Group::Dns,
            h,
            "a name answered from a wildcard",
            &["dns:A=ok", "tls=ok", "http=ok"],
        );
        let h = "xn--bcher-kva.dns-hostile.com";
        web(&mut b, h, valid(h), page("IDN", ""));
        b.cases.push(Case {
            group: Group::Dns,
            input: "BÜCHER.dns-hostile.com".into(),
            target: h.into(),
            what: "an IDN given in Unicode (upper case)",
            expect: vec!["dns:A=ok", "tls=ok", "http=ok"],
        });
        let long = long_name();
        web(&mut b, &long, valid(&long), page("long name", ""));
        b.case(
            Group::Dns,
            &long,
            "a name of exactly 253 bytes (its www. name is too long)",
            &["dns:A=ok", "tls=ok", "http=ok"],
        );

        // TLS.
        let issue = |host: &str, v: Validity| Some(ca.issue_leaf(&[host], v));
        for (h, v, what, verdict) in [
            (
                "expired.tls-hostile.com",
                Validity::expired(),
                "an expired certificate",
                "tls=bad-certificate",
            ),
            (
                "not-yet-valid.tls-hostile.com",
                Validity::not_yet_valid(),
                "a certificate not valid yet",
                "tls=bad-certificate",
            ),
        ] {
            web(&mut b, h, issue(h, v), page(what, ""));
            b.case(Group::Tls, h, what, &[verdict, "http=ok"]);
        }
        let h = "self-signed.tls-hostile.com";
        let chain = TestChain::self_signed(&[h], Validity::current());
        web(&mut b, h, Some(chain), page("self-signed", ""));
        b.case(
            Group::Tls,
            h,
            "a self-signed certificate",
            &["tls=bad-certificate", "http=ok"],
        );
        let h = "wrong-host.tls-hostile.com";
        web(
            &mut b,
            h,
            issue("someone-else.example", Validity::current()),
            page("wrong host", ""),
        );
        b.case(
            Group::Tls,
            h,
            "a certificate for another name",
            &["tls=bad-certificate", "http=ok"],
        );
        let h = "deep-chain.tls-hostile.com";
        let mut deep = TestCa::root("servedby hostile deep root", "servedby testnet");
        roots.push(deep.root_pem());
        for i in 1..=9 {
            deep = deep.intermediate(&format!("Deep Intermediate {i}"), "servedby testnet");
        }
        web(
            &mut b,
            h,
            Some(deep.issue_leaf(&[h], Validity::current())),
            page("deep chain", ""),
        );
        b.case(
            Group::Tls,
            h,
            "a 10-certificate chain (leaf and 9 intermediates)",
            &["tls=bad-certificate", "http=ok"],
        );
        let h = "stall.tls-hostile.com";
        web(&mut b, h, valid(h), page("stalled handshake", ""));
        let last = b.sites.pop().expect("just pushed");
        b.sites.push(last.stall_tls());
        b.case(
            Group::Tls,
            h,
            "a handshake that stalls (then plain HTTP works)",
            &["tls=timeout", "http=ok"],
        );
        let h = "garbage.tls-hostile.com";
        web(&mut b, h, None, page("garbage instead of TLS", ""));
        let last = b.sites.pop().expect("just pushed");
        b.sites.push(last.garbage_tls());
        b.case(
            Group::Tls,
            h,
            "a peer that answers the ClientHello with plain text",
            &["tls=tls-error", "http=ok"],
        );
        let h = "huge-cert.tls-hostile.com";
        web(&mut b, h, Some(many_sans(&ca, h, 3_000)), page("huge", ""));
        b.case(
            Group::Tls,
            h,
            "a certificate with 3,000 SANs (about 40 KB)",
            &["tls=ok", "http=ok"],
        );
        let h = "giant-cert.tls-hostile.com";
        web(&mut b, h, Some(many_sans(&ca, h, 8_000)), page("giant", ""));
        b.case(
            Group::Tls,
            h,
            "a certificate with 8,000 SANs (over the 64 KiB handshake message limit)",
            &["tls=tls-error", "http=ok"],
        );

        // HTTP.
        let html_type = "text/html; charset=utf-8";
        let http_cases: Vec<(&str, Response, &str, &[&str])> = vec![
            (
                "drip.http-hostile.com",
                page("drip", &"x".repeat(100)).drip(Duration::from_secs(1)),
                "a body dripped at one byte a second",
                &["tls=ok", "http=timeout"],
            ),
            (
                "huge-body.http-hostile.com",
                Response::new(200)
                    .header("content-type", html_type)
                    .huge(1 << 30),
                "a 1 GiB body",
                &["tls=ok", "http=oversize", "html=ok"],
            ),
            (
                "gzip-bomb.http-hostile.com",
                Response::new(200)
                    .header("content-type", html_type)
                    .huge(1 << 30)
                    .gzip(),
                "1 GiB gzip-compressed on the fly",
                &["tls=ok", "http=oversize", "html=ok"],
            ),
            (
                "brotli-bomb.http-hostile.com",
                Response::new(200)
                    .header("content-type", html_type)
                    .header("content-encoding", "br")
                    .body(BROTLI_BOMB.to_vec()),
                "818 bytes of brotli that decode to 1 GiB",
                &["tls=ok", "http=oversize", "html=ok"],
            ),
            (
                "invalid-utf8.http-hostile.com",
                Response::new(200)
                    .header("content-type", html_type)
                    .body(
                        b"<html><head><title>caf\xe9 \xff\xfe\xc3</title></head><body>\x80\x81<script src=\"https://cdn.utf8.example/\xff.js\"></script></body></html>".to_vec(),
                    ),
                "a page that is not valid UTF-8",
                &["tls=ok", "http=ok", "html=ok"],
            ),
            (
                "not-html.http-hostile.com",
                Response::new(200)
                    .header("content-type", "application/octet-stream")
                    .body(
                        b"\x00\x01<script src=\"https://not-loaded.example/x.js\"></script>\xff".to_vec(),
                    ),
                "a binary body (not HTML)",
                &["tls=ok", "http=ok", "html=absent"],
            ),
            (
                "reset.http-hostile.com",
                page("reset", &"<p>cut</p>".repeat(10_000)).reset_after(20_000),
                "a connection closed in the middle of the body",
                &["tls=ok", "http=protocol-error"],
            ),
        ];
        for (h, r, what, expect) in http_cases {
            web(&mut b, h, valid(h), r);
            b.case(Group::Http, h, what, expect);
        }
        let h = "redirect-loop.http-hostile.com";
        web(&mut b, h, valid(h), Response::redirect(302, "/again"));
        let last = b.sites.pop().expect("just pushed");
        b.sites
            .push(last.route("/again", Response::redirect(302, "/")));
        b.case(
            Group::Http,
            h,
            "a redirect loop",
            &["tls=ok", "http=http-error"],
        );
        let h = "redirect-chain.http-hostile.com";
        web(&mut b, h, valid(h), Response::redirect(301, "/hop/1"));
        let mut site = b.sites.pop().expect("just pushed");
        for i in 1..100 {
            site = site.route(
                &format!("/hop/{i}"),
                Response::redirect(301, &format!("/hop/{}", i + 1)),
            );
        }
        b.sites
            .push(site.route("/hop/100", page("after 100 hops", "")));
        b.case(
            Group::Http,
            h,
            "a chain of 100 redirects",
            &["tls=ok", "http=http-error"],
        );

        // Raw HTTP: what a well-behaved server library cannot be made to send.
        let mut raw = Vec::new();
        let raw_ip = |n: u8| Ipv4Addr::new(93, 184, 217, n);
        let h = "malformed-headers.http-hostile.com";
        b.zone(origin_of(h), format!("{h}. A {}", raw_ip(1)));
        raw.push((
            h.to_string(),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nthis line is no header\r\nX-Broken : \x01\x02\r\nContent-Length: 5\r\n\r\nhello"
                .to_vec(),
        ));
        b.case(
            Group::Http,
            h,
            "malformed response headers (no TLS: the web server does not know the name)",
            &["tls=tls-error", "http=protocol-error"],
        );
        let h = "header-bytes.http-hostile.com";
        b.zone(origin_of(h), format!("{h}. A {}", raw_ip(2)));
        raw.push((
            h.to_string(),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Latin1: caf\xe9 \xff\xfe\r\nContent-Length: 24\r\n\r\n<title>bytes</title>\xff\xfe\xfd\xfc"
                .to_vec(),
        ));
        b.case(
            Group::Http,
            h,
            "header values that are not UTF-8",
            &["tls=tls-error", "http=ok", "html=ok"],
        );

        // HTML.
        let html_cases: Vec<(&str, String, &str)> = vec![
            (
                "many-elements.html-hostile.com",
                format!(
                    "<html><head><title>many</title></head><body>{}<script src=\"https://cdn.many.example/end.js\"></script></body></html>",
                    "<b>x</b>".repeat(100_000)
                ),
                "100,000 elements",
            ),
            (
                "deep-nesting.html-hostile.com",
                format!(
                    "<html><body>{}<script src=\"https://cdn.deep.example/x.js\"></script>{}</body></html>",
                    "<div>".repeat(10_000),
                    "</div>".repeat(10_000)
                ),
                "10,000 levels of nesting",
            ),
            (
                "script-urls.html-hostile.com",
                concat!(
                    "<html><body><script src=\"javascript:alert(1)\"></script>",
                    "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
                    "<a href=\"javascript:void(0)\">x</a><iframe src=\"data:text/html,<script src=https://inner.example/a.js></script>\"></iframe>",
                    "<a href=\"vbscript:msgbox\">y</a><img src=\"  JaVaScRiPt:alert(2)\">",
                    "<script src=\"https://cdn.legit.example/app.js\"></script></body></html>"
                )
                .to_string(),
                "javascript:, data: and vbscript: URLs",
            ),
            (
                "idn-hosts.html-hostile.com",
                concat!(
                    "<html><body><script src=\"https://bücher.example/a.js\"></script>",
                    "<img src=\"https://XN--MLLER-KVA.example/b.png\">",
                    "<link rel=\"stylesheet\" href=\"https://例え.テスト/c.css\">",
                    "<a href=\"https://xn--zz-invalid.example/\">bad punycode</a></body></html>"
                )
                .to_string(),
                "Unicode and punycode hosts",
            ),
            (
                "relative-urls.html-hostile.com",
                concat!(
                    "<html><body><img src=\"/img/logo.png\"><script src=\"//cdn.protocol-relative.example/lib.js\"></script>",
                    "<link rel=\"stylesheet\" href=\"../css/site.css\"><script src=\"?v=2\"></script>",
                    "<script src=\"https://cdn.dots.example/a/../b/./c.js\"></script><img src=\"\\\\cdn.backslash.example\\x.png\"></body></html>"
                )
                .to_string(),
                "relative and protocol-relative URLs",
            ),
            (
                "base-href.html-hostile.com",
                concat!(
                    "<html><head><base href=\"https://static.base-cdn.example/assets/\"><base href=\"https://second-base.example/\"></head>",
                    "<body><script src=\"app.js\"></script><img src=\"/root.png\"></body></html>"
                )
                .to_string(),
                "a <base href> (the first one counts)",
            ),
        ];
        for (h, body, what) in html_cases {
            web(&mut b, h, valid(h), Response::html(body));
            b.case(Group::Html, h, what, &["tls=ok", "http=ok", "html=ok"]);
        }

        // Output safety: hostile strings that reach relationship evidence.
        let h = "evil.out-hostile.com";
        let evil_ca = TestCa::root("servedby hostile output root", "servedby testnet")
            .intermediate("DigiCert \u{1b}[2J =cmd|' /C calc'!A0", HOSTILE_ISSUER_ORG);
        roots.push(evil_ca.root_pem());
        web(
            &mut b,
            h,
            Some(evil_ca.issue_leaf(&[h], Validity::current())),
            Response::html(format!(
                "<html><head><title>{HOSTILE_TITLE}</title></head><body><script src=\"https://cdn.jsdelivr.net/npm/x@1/\u{1b}[2J.js\"></script></body></html>"
            )),
        );
        b.case(
            Group::Output,
            h,
            "hostile issuer, title and registrar",
            &["tls=ok", "http=ok", "html=ok", "rdap=ok"],
        );
        let h = "evil-header.out-hostile.com";
        b.zone(origin_of(h), format!("{h}. A {}", raw_ip(3)));
        let body = format!("<html><head><title>{HOSTILE_TITLE}</title></head><body></body></html>");
        let mut resp = format!(
            "HTTP/1.1 200 OK\r\nServer: {HOSTILE_SERVER_HEADER}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        resp.extend_from_slice(body.as_bytes());
        raw.push((h.to_string(), resp));
        b.case(
            Group::Output,
            h,
            "a hostile server header",
            &["tls=tls-error", "http=ok", "html=ok"],
        );

        // Scope: answers and redirects into the user's own network.
        let s = "scope-hostile.com";
        for (h, rtype, addr, what) in [
            (
                "private.scope-hostile.com",
                "A",
                "10.0.0.1",
                "an A record in 10/8",
            ),
            (
                "lan.scope-hostile.com",
                "A",
                "192.168.1.1",
                "an A record in 192.168/16",
            ),
            (
                "metadata.scope-hostile.com",
                "A",
                "169.254.169.254",
                "the cloud metadata address",
            ),
            (
                "loopback.scope-hostile.com",
                "A",
                "127.0.0.2",
                "a loopback A record",
            ),
            (
                "loopback6.scope-hostile.com",
                "AAAA",
                "::1",
                "a loopback AAAA record",
            ),
        ] {
            b.zone(s, format!("{h}. 300 {rtype} {addr}"));
            b.sites.push(
                Site::new(h)
                    .chain(ca.issue_leaf(&[h], Validity::current()))
                    .route("/", page("must not be reached", "")),
            );
            b.case(Group::Scope, h, what, &["tls=blocked", "http=blocked"]);
        }
        b.zone(s, "intranet.scope-hostile.com. 300 A 10.20.30.40".into());
        b.zone(
            s,
            "cname.scope-hostile.com. 300 CNAME intranet.scope-hostile.com.".into(),
        );
        b.case(
            Group::Scope,
            "cname.scope-hostile.com",
            "a CNAME to a private address",
            &["dns:A=ok", "tls=blocked", "http=blocked"],
        );
        for (h, to, what) in [
            (
                "redirect-trap.scope-hostile.com",
                format!("http://{}/", trap.addr()),
                "a redirect to a listener on 127.0.0.2",
            ),
            (
                "redirect-v6.scope-hostile.com",
                "http://[::1]/".to_string(),
                "a redirect to [::1]",
            ),
            (
                "redirect-metadata.scope-hostile.com",
                "http://169.254.169.254/latest/meta-data/".to_string(),
                "a redirect to the cloud metadata address",
            ),
            (
                "redirect-name.scope-hostile.com",
                "https://intranet.scope-hostile.com/".to_string(),
                "a redirect to a name with a private address",
            ),
        ] {
            web(&mut b, h, valid(h), Response::redirect(302, &to));
            b.case(Group::Scope, h, what, &["tls=ok", "http=blocked"]);
        }
        b.zone(
            s,
            "spf.scope-hostile.com. 300 TXT \"v=spf1 include:_spf.scope-hostile.com a:intranet.scope-hostile.com ip4:10.0.0.0/8 -all\"".into(),
        );
        b.zone(
            s,
            "_spf.scope-hostile.com. 300 TXT \"v=spf1 ip4:192.168.0.0/16 mx:loopback.scope-hostile.com -all\"".into(),
        );
        b.case(
            Group::Scope,
            "spf.scope-hostile.com",
            "SPF that names private ranges and hosts",
            &["dns:TXT=ok", "http=absent"],
        );
        let h = "public.scope-hostile.com";
        web(&mut b, h, valid(h), page("public", ""));
        b.case(
            Group::Scope,
            h,
            "a public address (reachable through --connect-to)",
            &["dns:A=ok", "tls=ok", "http=ok", "rdap=ok"],
        );

        let zones = b
            .lines
            .iter()
            .map(|(origin, lines)| {
                Zone::parse(origin, &lines.join("\n"))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let dns = DnsServer::start(zones)?;
        let web = WebServer::start(b.sites).await?;
        let records = ZONES
            .iter()
            .map(|z| RdapRecord {
                domain: (*z).to_string(),
                registrar: Some(if *z == "out-hostile.com" {
                    HOSTILE_REGISTRAR.to_string()
                } else {
                    "Hostile Test Registrar, Inc.".to_string()
                }),
                registrar_iana_id: None,
                registrant_org: None,
                created: Some("2020-01-01T00:00:00Z".into()),
                expires: Some("2030-01-01T00:00:00Z".into()),
                nameservers: vec![format!("ns1.{z}")],
            })
            .collect();
        let rdap = RdapServer::start(records).await?;
        let raw = RawHttpServer::start(raw).await?;
        let web_relay = Listener::relay(Ipv4Addr::new(127, 0, 0, 3), web.https_addr()).await?;
        let rdap_relay = Listener::relay(Ipv4Addr::new(127, 0, 0, 4), rdap.addr()).await?;
        let ca_file = dir.join("hostile-ca.pem");
        std::fs::write(&ca_file, roots.concat())?;
        Ok(Self {
            dns,
            web,
            rdap,
            raw,
            trap,
            web_relay,
            rdap_relay,
            cases: b.cases,
            ca_file,
        })
    }

    /// Every case, in a stable order.
    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// The cases of one group.
    pub fn group(&self, group: Group) -> impl Iterator<Item = &Case> {
        self.cases.iter().filter(move |c| c.group == group)
    }

    /// The PEM file with the roots of every test CA used.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Flags that point the prober at this world with `--allow-egress 127.0.0.0/8`
    /// (every loopback address may be dialed: for the non-scope groups).
    pub fn net_args(&self) -> Vec<String> {
        let mut a = self.scoped_net_args();
        a.extend(["--allow-egress".to_string(), "127.0.0.0/8".to_string()]);
        a
    }

    /// Flags that point the prober at this world with no `--allow-egress`: the default
    /// scope, in which only the configured servers are reachable on loopback.
    pub fn scoped_net_args(&self) -> Vec<String> {
        self.args(self.web.https_addr(), &self.rdap.base_url())
    }

    /// Like [`scoped_net_args`](Self::scoped_net_args), but HTTPS goes through the relay
    /// on `127.0.0.3` and RDAP through the relay on `127.0.0.4` (for `--deny-egress`).
    pub fn relayed_net_args(&self) -> Vec<String> {
        self.args(
            self.web_relay.addr(),
            &format!("http://{}/", self.rdap_relay.addr()),
        )
    }

    fn args(&self, https: SocketAddr, rdap: &str) -> Vec<String> {
        [
            "--nameserver".to_string(),
            self.dns.addr().to_string(),
            "--connect-to".into(),
            format!("{RAW_RANGE}:80={}", self.raw.addr()),
            "--connect-to".into(),
            format!("*:443={https}"),
            "--connect-to".into(),
            format!("*:80={}", self.web.http_addr()),
            "--rdap-server".into(),
            rdap.to_string(),
            "--ca-file".into(),
            self.ca_file.display().to_string(),
        ]
        .to_vec()
    }
}

/// The 253-byte name `aaa….bbb….ccc….ddd….dns-hostile.com` (labels of 63, 63, 63 and
/// 45 bytes).
fn long_name() -> String {
    let labels = [("a", 63), ("b", 63), ("c", 63), ("d", 45)];
    let mut name: String = labels
        .iter()
        .map(|(c, n)| format!("{}.", c.repeat(*n)))
        .collect();
    name.push_str("dns-hostile.com");
    debug_assert_eq!(name.len(), 253);
    name
}

/// A leaf for `host` plus `n - 1` short extra names.
fn many_sans(ca: &TestCa, host: &str, n: usize) -> TestChain {
    let extra: Vec<String> = (1..n).map(|i| format!("s{i}.hc.example")).collect();
    let names: Vec<&str> = std::iter::once(host)
        .chain(extra.iter().map(String::as_str))
        .collect();
    ca.issue_leaf(&names, Validity::current())
}

/// Aborts a task when dropped.
#[derive(Debug)]
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long a connection to the raw server or a relay may live.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// A plain-HTTP server on `127.0.0.1` that answers each request with canned bytes
/// chosen by its `Host` header (`404` for unknown hosts), then closes.
#[derive(Debug)]
pub struct RawHttpServer {
    addr: SocketAddr,
    connections: Arc<AtomicU64>,
    _task: Task,
}

impl RawHttpServer {
    /// Serves `responses` (host, raw response bytes). Must be called in a tokio runtime.
    pub async fn start(responses: Vec<(String, Vec<u8>)>) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicU64::new(0));
        let table: Arc<BTreeMap<String, Vec<u8>>> = Arc::new(responses.into_iter().collect());
        let count = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                count.fetch_add(1, Ordering::Relaxed);
                let table = table.clone();
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(CONNECTION_LIFETIME, answer_raw(tcp, &table)).await;
                });
            }
        });
        Ok(Self {
            addr,
            connections,
            _task: Task(task),
        })
    }

    /// The listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Reads one request head, writes the canned answer for its host, closes.
async fn answer_raw(mut tcp: TcpStream, table: &BTreeMap<String, Vec<u8>>) -> io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let host = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("host").then(|| v.trim())
        })
        .map(|h| {
            h.rsplit_once(':')
                .map_or(h, |(h, _)| h)
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let not_found: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
    let answer = table.get(&host).map_or(not_found, Vec::as_slice);
    tcp.write_all(answer).await?;
    tcp.shutdown().await
}

/// A TCP listener on a chosen loopback address that either only counts connections
/// (a trap) or relays them to another address.
#[derive(Debug)]
pub struct Listener {
    addr: SocketAddr,
    connections: Arc<AtomicU64>,
    _task: Task,
}

impl Listener {
    /// Binds `ip:0` and closes every connection at once, counting it.
    pub async fn trap(ip: Ipv4Addr) -> io::Result<Self> {
        Self::start(ip, None).await
    }

    /// Binds `ip:0` and relays every connection to `to`.
    pub async fn relay(ip: Ipv4Addr, to: SocketAddr) -> io::Result<Self> {
        Self::start(ip, Some(to)).await
    }

    async fn start(ip: Ipv4Addr, to: Option<SocketAddr>) -> io::Result<Self> {
        let listener = TcpListener::bind((IpAddr::V4(ip), 0)).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicU64::new(0));
        let count = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut tcp, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                count.fetch_add(1, Ordering::Relaxed);
                let Some(to) = to else {
                    continue;
                };
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(CONNECTION_LIFETIME, async {
                        let mut up = TcpStream::connect(to).await?;
                        tokio::io::copy_bidirectional(&mut tcp, &mut up).await
                    })
                    .await;
                });
            }
        });
        Ok(Self {
            addr,
            connections,
            _task: Task(task),
        })
    }

    /// The listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}
