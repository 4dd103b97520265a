//! An authoritative DNS server on loopback, built from declarative zones.
//!
//! [`DnsServer::start`] binds UDP and TCP on the same port of `127.0.0.1` and answers
//! from memory like a real authoritative server: the AA flag, NXDOMAIN with the zone's
//! SOA in the authority section, NODATA, REFUSED for names outside every served zone,
//! wildcards, CNAME chains followed through the served data and placed in the answer
//! section, and truncation (TC) when a UDP answer exceeds the client's EDNS payload
//! size (512 bytes without EDNS), with the full answer over TCP.
//!
//! Zones are written as BIND-like lines (see [`Zone::parse`]). Per-name
//! [`Behavior`]s make the server misbehave on purpose (SERVFAIL, silence, truncation,
//! wrong ids, garbage, delays) so the client's robustness can be tested.
//!
//! The server is meant for tests *and* benchmarks, so every answer is encoded once at
//! start-up: a query costs a hash lookup and a copy into a reused buffer. The first
//! owner name of an answer is written as a compression pointer to the question, which
//! is what lets one prepared answer serve every name a wildcard matches.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

/// Record type codes served by the testnet.
mod rt {
    pub(super) const A: u16 = 1;
    pub(super) const NS: u16 = 2;
    pub(super) const CNAME: u16 = 5;
    pub(super) const SOA: u16 = 6;
    pub(super) const PTR: u16 = 12;
    pub(super) const MX: u16 = 15;
    pub(super) const TXT: u16 = 16;
    pub(super) const AAAA: u16 = 28;
    pub(super) const OPT: u16 = 41;
    pub(super) const CAA: u16 = 257;
    /// Every type with a prepared answer per name.
    pub(super) const SERVED: [u16; 9] = [A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, CAA];
}

const RCODE_NOERROR: u8 = 0;
const RCODE_FORMERR: u8 = 1;
const RCODE_SERVFAIL: u8 = 2;
const RCODE_NXDOMAIN: u8 = 3;
const RCODE_NOTIMP: u8 = 4;
const RCODE_REFUSED: u8 = 5;

/// The longest CNAME chain the server follows inside one answer.
const MAX_CHAIN: usize = 16;
/// The UDP payload size the server advertises in its own OPT record.
const SERVER_EDNS_PAYLOAD: u16 = 1232;
/// TCP connections served at once; more wait in the listen backlog.
const MAX_TCP_CONNECTIONS: usize = 256;
/// An idle TCP connection is closed after this long.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// How the server treats queries for one name, for robustness tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behavior {
    /// Answer from the zone data.
    Normal,
    /// Answer SERVFAIL.
    Servfail,
    /// Answer REFUSED.
    Refused,
    /// Never answer (over TCP: read the query and stay silent).
    Drop,
    /// Over UDP, answer with TC=1 and no records; over TCP, answer normally.
    TruncateUdp,
    /// Over UDP, first send the answer with a different id, then the right answer.
    /// Over TCP, answer normally.
    WrongId,
    /// Over UDP, send only the answer with a different id, never the right one.
    /// Over TCP, answer normally.
    WrongIdOnly,
    /// Reply with the right id and question followed by garbage that does not parse.
    Malformed,
    /// Answer normally after this delay.
    Delay(Duration),
    /// Over UDP, drop the next this-many queries, then answer normally (a lost
    /// datagram). Over TCP, answer normally.
    DropFirst(u32),
}

impl Behavior {
    /// Parses the zone-file spelling: `normal`, `servfail`, `refused`, `drop`,
    /// `truncate-udp`, `wrong-id`, `wrong-id-only`, `malformed`, `delay 250ms`
    /// (`ms` or `s`), `drop-first 2` (`args` holds the tokens after the keyword).
    fn parse(keyword: &str, args: &[String]) -> Result<Self, String> {
        let b = match keyword.to_ascii_lowercase().as_str() {
            "normal" => Self::Normal,
            "servfail" => Self::Servfail,
            "refused" => Self::Refused,
            "drop" => Self::Drop,
            "truncate-udp" => Self::TruncateUdp,
            "wrong-id" => Self::WrongId,
            "wrong-id-only" => Self::WrongIdOnly,
            "malformed" => Self::Malformed,
            "delay" => {
                let arg = args.first().ok_or("delay needs a duration such as 250ms")?;
                return parse_duration(arg).map(Self::Delay);
            }
            "drop-first" => {
                let arg = args.first().ok_or("drop-first needs a count such as 1")?;
                return arg
                    .parse()
                    .map(Self::DropFirst)
                    .map_err(|_| format!("bad count {arg:?}"));
            }
            other => return Err(format!("unknown behavior {other:?}")),
        };
        if args.is_empty() {
            Ok(b)
        } else {
            Err(format!("behavior {keyword} takes no argument"))
        }
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("bad duration {s:?}: expected e.g. 250ms or 2s");
    if let Some(ms) = s.strip_suffix("ms") {
        ms.parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| bad())
    } else if let Some(secs) = s.strip_suffix('s') {
        secs.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| bad())
    } else {
        Err(bad())
    }
}

/// A zone-description line that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("zone {origin}, line {line}: {message}")]
pub struct ZoneError {
    /// The zone's origin.
    pub origin: String,
    /// The 1-based line number (0 for builder calls).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One resource record with its data already in wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rr {
    /// Lowercase, absolute, no trailing dot.
    name: String,
    ttl: u32,
    rtype: u16,
    rdata: Vec<u8>,
}

/// A served zone: its records and per-name behaviours.
///
/// ```
/// use servedby_testnet::dns::Zone;
///
/// let zone = Zone::parse("example.com", r#"
///     $TTL 300
///     @        IN SOA  ns1 hostmaster 2024010101 7200 3600 1209600 300
///     @           NS   ns1
///     @           MX   10 mx1
///     @           TXT  "v=spf1 " "include:_spf.example.net -all"
///     @           CAA  0 issue "letsencrypt.org"
///     www      60 CNAME cdn.example.net.
///     ns1         A    192.0.2.53
///     *.dyn       AAAA 2001:db8::1
///     broken      BEHAVIOR servfail
/// "#).unwrap();
/// assert_eq!(zone.origin(), "example.com");
/// ```
#[derive(Debug, Clone)]
pub struct Zone {
    origin: String,
    default_ttl: u32,
    records: Vec<Rr>,
    behaviors: Vec<(String, Behavior)>,
    last_owner: Option<String>,
}

impl Zone {
    /// An empty zone for `origin` (e.g. `example.com`; a trailing dot is allowed).
    ///
    /// A zone without an SOA record at its apex gets a synthetic one when served, so
    /// negative answers always carry an SOA like a real server's.
    pub fn new(origin: &str) -> Self {
        let origin = origin.trim().trim_end_matches('.').to_ascii_lowercase();
        Self {
            origin,
            default_ttl: 300,
            records: Vec::new(),
            behaviors: Vec::new(),
            last_owner: None,
        }
    }

    /// Parses a zone description: one record per line, `name [ttl] [IN] TYPE rdata`.
    ///
    /// - `name` is `@` for the origin, relative (`www`), absolute with a trailing dot
    ///   (`www.example.com.`) or a wildcard (`*.dyn`); a line indented more than the
    ///   least indented line reuses the previous name, as in BIND.
    /// - Types: `A`, `AAAA`, `CNAME`, `NS`, `PTR` (a name), `MX` (`10 mx1`), `TXT` (one
    ///   or more quoted strings; strings longer than 255 bytes are split on the wire),
    ///   `CAA` (`0 issue "ca.example"`), `SOA` (`mname rname serial refresh retry
    ///   expire minimum`).
    /// - The pseudo-type `BEHAVIOR` sets the name's [`Behavior`]: `servfail`,
    ///   `refused`, `drop`, `truncate-udp`, `wrong-id`, `wrong-id-only`, `malformed`,
    ///   `delay 250ms`.
    /// - `$TTL n` sets the default TTL (300 unless given); `;` starts a comment.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ZoneError> {
        let mut zone = Self::new(origin);
        // The text is usually an indented raw string in a test: measure indentation
        // from the least indented record line, so that only *extra* indentation means
        // "same owner as the previous line".
        let indent = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with(';'))
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        for (i, line) in text.lines().enumerate() {
            let line = match line.get(..indent) {
                Some(prefix) if prefix.trim().is_empty() => &line[indent..],
                _ => line.trim_start(),
            };
            zone.add_line(i + 1, line)?;
        }
        Ok(zone)
    }

    /// Adds one line in the [`Zone::parse`] syntax (a builder step).
    pub fn push(&mut self, line: &str) -> Result<&mut Self, ZoneError> {
        self.add_line(0, line)?;
        Ok(self)
    }

    /// Adds one line in the [`Zone::parse`] syntax, consuming and returning the zone.
    pub fn with(mut self, line: &str) -> Result<Self, ZoneError> {
        self.add_line(0, line)?;
        Ok(self)
    }

    /// Sets the behaviour of queries for `name` (relative to the origin, `@`, or
    /// absolute with a trailing dot).
    pub fn behavior(mut self, name: &str, behavior: Behavior) -> Self {
        let name = self.absolute(name);
        self.behaviors.push((name, behavior));
        self
    }

    /// The zone's origin (lowercase, no trailing dot).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    fn err(&self, line: usize, message: impl Into<String>) -> ZoneError {
        ZoneError {
            origin: self.origin.clone(),
            line,
            message: message.into(),
        }
    }

    /// Resolves a zone-file name against the origin.
    fn absolute(&self, name: &str) -> String {
        let name = name.to_ascii_lowercase();
        if name == "@" {
            self.origin.clone()
        } else if let Some(abs) = name.strip_suffix('.') {
            abs.to_string()
        } else if self.origin.is_empty() {
            name
        } else {
            format!("{name}.{}", self.origin)
        }
    }

    fn add_line(&mut self, line_no: usize, line: &str) -> Result<(), ZoneError> {
        let continues_owner = line.starts_with([' ', '\t']);
        let tokens = tokenize(line).map_err(|m| self.err(line_no, m))?;
        let Some(first) = tokens.first() else {
            return Ok(());
        };
        if first.eq_ignore_ascii_case("$TTL") {
            self.default_ttl = tokens
                .get(1)
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| self.err(line_no, "$TTL needs a number of seconds"))?;
            return Ok(());
        }
        if first.starts_with('$') {
            return Err(self.err(line_no, format!("unsupported directive {first}")));
        }
        let (owner, mut rest) = match (&self.last_owner, continues_owner) {
            (Some(prev), true) => (prev.clone(), &tokens[..]),
            _ => (self.absolute(first), &tokens[1..]),
        };
        check_name(&owner, true).map_err(|m| self.err(line_no, m))?;
        if !in_zone(&owner, &self.origin) {
            return Err(self.err(line_no, format!("{owner} is outside the zone")));
        }
        let mut ttl = self.default_ttl;
        if let Some(t) = rest.first().and_then(|t| t.parse::<u32>().ok()) {
            ttl = t;
            rest = &rest[1..];
        }
        if rest.first().is_some_and(|t| t.eq_ignore_ascii_case("IN")) {
            rest = &rest[1..];
        }
        let Some((rtype, args)) = rest.split_first() else {
            return Err(self.err(line_no, "missing record type"));
        };
        self.last_owner = Some(owner.clone());
        if rtype.eq_ignore_ascii_case("BEHAVIOR") {
            let (kw, bargs) = args
                .split_first()
                .ok_or_else(|| self.err(line_no, "BEHAVIOR needs a kind"))?;
            let b = Behavior::parse(kw, bargs).map_err(|m| self.err(line_no, m))?;
            self.behaviors.push((owner, b));
            return Ok(());
        }
        let (code, rdata) = self
            .rdata(&rtype.to_ascii_uppercase(), args)
            .map_err(|m| self.err(line_no, m))?;
        self.records.push(Rr {
            name: owner,
            ttl,
            rtype: code,
            rdata,
        });
        Ok(())
    }

    /// Encodes record data given in presentation form.
    fn rdata(&self, rtype: &str, args: &[String]) -> Result<(u16, Vec<u8>), String> {
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("{rtype} takes {n} value(s), got {}", args.len()))
            }
        };
        let name = |s: &str| -> Result<Vec<u8>, String> {
            let abs = self.absolute(s);
            check_name(&abs, false)?;
            let mut out = Vec::with_capacity(abs.len() + 2);
            encode_name(&abs, &mut out);
            Ok(out)
        };
        let num = |s: &str| s.parse::<u32>().map_err(|_| format!("bad number {s:?}"));
        let mut out = Vec::new();
        let code = match rtype {
            "A" => {
                want(1)?;
                let ip: Ipv4Addr = args[0]
                    .parse()
                    .map_err(|_| format!("bad IPv4 {:?}", args[0]))?;
                out.extend_from_slice(&ip.octets());
                rt::A
            }
            "AAAA" => {
                want(1)?;
                let ip: Ipv6Addr = args[0]
                    .parse()
                    .map_err(|_| format!("bad IPv6 {:?}", args[0]))?;
                out.extend_from_slice(&ip.octets());
                rt::AAAA
            }
            "CNAME" | "NS" | "PTR" => {
                want(1)?;
                out = name(&args[0])?;
                match rtype {
                    "CNAME" => rt::CNAME,
                    "NS" => rt::NS,
                    _ => rt::PTR,
                }
            }
            "MX" => {
                want(2)?;
                let pref = u16::try_from(num(&args[0])?).map_err(|_| "MX preference over 65535")?;
                out.extend_from_slice(&pref.to_be_bytes());
                out.extend(name(&args[1])?);
                rt::MX
            }
            "TXT" => {
                if args.is_empty() {
                    return Err("TXT needs at least one string".into());
                }
                for s in args {
                    let bytes = s.as_bytes();
                    if bytes.is_empty() {
                        out.push(0);
                    }
                    for chunk in bytes.chunks(255) {
                        out.push(chunk.len() as u8);
                        out.extend_from_slice(chunk);
                    }
                }
                rt::TXT
            }
            "CAA" => {
                want(3)?;
                let flags = u8::try_from(num(&args[0])?).map_err(|_| "CAA flags over 255")?;
                let tag = args[1].as_bytes();
                if tag.is_empty() || tag.len() > 15 || !tag.iter().all(u8::is_ascii_alphanumeric) {
                    return Err(format!("bad CAA tag {:?}", args[1]));
                }
                out.push(flags);
                out.push(tag.len() as u8);
                out.extend_from_slice(tag);
                out.extend_from_slice(args[2].as_bytes());
                rt::CAA
            }
            "SOA" => {
                want(7)?;
                out.extend(name(&args[0])?);
                out.extend(name(&args[1])?);
                for v in &args[2..] {
                    out.extend_from_slice(&num(v)?.to_be_bytes());
                }
                rt::SOA
            }
            other => return Err(format!("unsupported record type {other}")),
        };
        if out.len() > 60_000 {
            return Err("record data too large".into());
        }
        Ok((code, out))
    }
}

/// Splits a zone line into tokens: quoted strings (with `\"` and `\\` escapes) are one
/// token each; `;` outside quotes starts a comment.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == ';' {
            break;
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated quoted string".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(e) => s.push(e),
                        None => return Err("dangling backslash".into()),
                    },
                    Some(ch) => s.push(ch),
                }
            }
            tokens.push(s);
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == ';' || ch == '"' {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            tokens.push(s);
        }
    }
    Ok(tokens)
}

/// Checks a lowercase absolute name: labels of 1–63 bytes of `[a-z0-9_-]` (and `*` as
/// the whole first label when `wildcard_ok`), at most 253 characters.
fn check_name(name: &str, wildcard_ok: bool) -> Result<(), String> {
    if name.is_empty() {
        return Ok(());
    }
    if name.len() > 253 {
        return Err(format!("name longer than 253 characters: {name}"));
    }
    for (i, label) in name.split('.').enumerate() {
        let ok_chars = label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        let wildcard = wildcard_ok && i == 0 && label == "*";
        if label.is_empty() || label.len() > 63 || !(ok_chars || wildcard) {
            return Err(format!("bad name {name:?}"));
        }
    }
    Ok(())
}

/// Whether `name` equals `origin` or lies under it (label boundary).
fn in_zone(name: &str, origin: &str) -> bool {
    origin.is_empty()
        || name == origin
        || (name.len() > origin.len()
            && name.ends_with(origin)
            && name.as_bytes()[name.len() - origin.len() - 1] == b'.')
}

/// Appends `name` (lowercase, no trailing dot; empty for the root) in wire form.
fn encode_name(name: &str, out: &mut Vec<u8>) {
    if !name.is_empty() {
        for label in name.split('.') {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
}

/// The parent of a name (`a.b.c` → `b.c`, `c` → the root ``); `None` for the root.
fn parent(name: &str) -> Option<&str> {
    if name.is_empty() {
        None
    } else {
        Some(name.split_once('.').map_or("", |(_, p)| p))
    }
}

/// An answer encoded once: everything after the question except the OPT record.
#[derive(Debug)]
struct Prepared {
    rcode: u8,
    authoritative: bool,
    answer: Vec<u8>,
    ancount: u16,
    authority: Vec<u8>,
    nscount: u16,
}

/// Every name the server knows, with its records grouped by type.
/// Records of one type at one name: (TTL, wire RDATA) pairs.
type RrSet = Vec<(u32, Vec<u8>)>;

#[derive(Debug, Default)]
struct Node {
    zone: usize,
    rrsets: Vec<(u16, RrSet)>,
}

impl Node {
    fn rrset(&self, rtype: u16) -> Option<&[(u32, Vec<u8>)]> {
        self.rrsets
            .iter()
            .find(|(t, _)| *t == rtype)
            .map(|(_, v)| v.as_slice())
    }
}

/// The served data and its prepared answers.
#[derive(Debug)]
struct Db {
    /// Zone origins, longest first so the most specific zone wins.
    origins: Vec<String>,
    /// Apex SOA record of each zone, in wire form with its owner (for authority).
    soa: Vec<Vec<u8>>,
    nodes: HashMap<String, Node>,
    /// Prepared answers per existing name (including wildcard owners such as `*.dyn.example.com`).
    answers: HashMap<String, Vec<(u16, Arc<Prepared>)>>,
    /// Prepared NXDOMAIN per zone (same order as `origins`).
    nxdomain: Vec<Arc<Prepared>>,
    refused: Arc<Prepared>,
}

/// Where a name leads in the served data.
enum Found<'a> {
    /// The name exists (or is synthesised from a wildcard).
    Node(&'a Node),
    /// The name lies in a served zone but does not exist.
    Nx(usize),
    /// The name is outside every served zone.
    Outside,
}

impl Db {
    fn build(zones: Vec<Zone>) -> Result<(Self, Vec<(String, Behavior)>), io::Error> {
        let mut zones = zones;
        zones.sort_by_key(|z| std::cmp::Reverse(z.origin.len()));
        let mut origins = Vec::new();
        let mut soa = Vec::new();
        let mut nodes: HashMap<String, Node> = HashMap::new();
        let mut behaviors = Vec::new();
        for (zi, zone) in zones.iter_mut().enumerate() {
            if origins.contains(&zone.origin) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("zone {} given twice", zone.origin),
                ));
            }
            if !zone
                .records
                .iter()
                .any(|r| r.rtype == rt::SOA && r.name == zone.origin)
            {
                let o = &zone.origin;
                let mut rdata = Vec::new();
                encode_name(format!("ns1.{o}").trim_end_matches('.'), &mut rdata);
                encode_name(format!("hostmaster.{o}").trim_end_matches('.'), &mut rdata);
                for v in [1u32, 7200, 3600, 1_209_600, 300] {
                    rdata.extend_from_slice(&v.to_be_bytes());
                }
                zone.records.push(Rr {
                    name: o.clone(),
                    ttl: zone.default_ttl,
                    rtype: rt::SOA,
                    rdata,
                });
            }
            origins.push(zone.origin.clone());
            behaviors.extend(zone.behaviors.iter().cloned());
            // Every name and its ancestors up to the apex exist (empty non-terminals
            // answer NODATA, not NXDOMAIN).
            for rr in &zone.records {
                let mut n = Some(rr.name.as_str());
                while let Some(name) = n {
                    nodes.entry(name.to_string()).or_insert_with(|| Node {
                        zone: zi,
                        rrsets: Vec::new(),
                    });
                    if name == zone.origin {
                        break;
                    }
                    n = parent(name);
                }
                let node = nodes.get_mut(&rr.name).expect("inserted above");
                let rdata = (rr.ttl, rr.rdata.clone());
                match node.rrsets.iter_mut().find(|(t, _)| *t == rr.rtype) {
                    Some((_, set)) => {
                        if !set.iter().any(|(_, d)| *d == rr.rdata) {
                            set.push(rdata);
                        }
                    }
                    None => node.rrsets.push((rr.rtype, vec![rdata])),
                }
            }
        }
        for (zi, origin) in origins.iter().enumerate() {
            let node = &nodes[origin];
            let (ttl, data) = &node.rrset(rt::SOA).expect("every zone has an SOA")[0];
            let mut rr = Vec::new();
            encode_name(origin, &mut rr);
            push_rr_tail(&mut rr, rt::SOA, *ttl, data);
            soa.push(rr);
            debug_assert_eq!(soa.len(), zi + 1);
        }
        let mut db = Self {
            origins,
            soa,
            nodes,
            answers: HashMap::new(),
            nxdomain: Vec::new(),
            refused: Arc::new(Prepared {
                rcode: RCODE_REFUSED,
                authoritative: false,
                answer: Vec::new(),
                ancount: 0,
                authority: Vec::new(),
                nscount: 0,
            }),
        };
        db.nxdomain = (0..db.origins.len())
            .map(|zi| {
                Arc::new(Prepared {
                    rcode: RCODE_NXDOMAIN,
                    authoritative: true,
                    answer: Vec::new(),
                    ancount: 0,
                    authority: db.soa[zi].clone(),
                    nscount: 1,
                })
            })
            .collect();
        let mut answers = HashMap::with_capacity(db.nodes.len());
        for name in db.nodes.keys() {
            let per_type = rt::SERVED
                .iter()
                .map(|&t| (t, Arc::new(db.prepare(name, t))))
                .collect();
            answers.insert(name.clone(), per_type);
        }
        db.answers = answers;
        Ok((db, behaviors))
    }

    /// The zone a name belongs to (the most specific one).
    fn zone_of(&self, name: &str) -> Option<usize> {
        self.origins.iter().position(|o| in_zone(name, o))
    }

    /// Finds the node answering for `name`: an exact node, else the wildcard at the
    /// closest existing ancestor.
    fn find(&self, name: &str) -> Found<'_> {
        let Some(zi) = self.zone_of(name) else {
            return Found::Outside;
        };
        if let Some(n) = self.nodes.get(name) {
            return Found::Node(n);
        }
        match self.wildcard_for(name, &mut String::new()) {
            Some(n) => Found::Node(n),
            None => Found::Nx(zi),
        }
    }

    /// The wildcard node synthesising `name`, if any: `*.` + the closest existing
    /// ancestor (RFC 4592). `scratch` avoids an allocation per query.
    fn wildcard_for(&self, name: &str, scratch: &mut String) -> Option<&Node> {
        let mut anc = parent(name);
        while let Some(a) = anc {
            if self.nodes.contains_key(a) {
                scratch.clear();
                scratch.push_str("*.");
                scratch.push_str(a);
                return self.nodes.get(scratch.as_str());
            }
            anc = parent(a);
        }
        None
    }

    /// Encodes the answer to (`name`, `qtype`) for an existing node `name`, following
    /// CNAMEs through the served data.
    fn prepare(&self, name: &str, qtype: u16) -> Prepared {
        let mut p = Prepared {
            rcode: RCODE_NOERROR,
            authoritative: true,
            answer: Vec::new(),
            ancount: 0,
            authority: Vec::new(),
            nscount: 0,
        };
        let mut cur = name.to_string();
        let mut first = true;
        let mut seen = HashSet::new();
        seen.insert(cur.clone());
        loop {
            let node = match self.find(&cur) {
                Found::Node(n) => n,
                Found::Nx(zi) => {
                    p.rcode = RCODE_NXDOMAIN;
                    p.authority = self.soa[zi].clone();
                    p.nscount = 1;
                    return p;
                }
                Found::Outside => return p,
            };
            let owner = |out: &mut Vec<u8>, first: bool| {
                if first {
                    // A pointer to the question name, which is at offset 12.
                    out.extend_from_slice(&[0xc0, 0x0c]);
                } else {
                    encode_name(&cur, out);
                }
            };
            if qtype != rt::CNAME {
                if let Some(&[(ttl, ref target)]) = node.rrset(rt::CNAME) {
                    owner(&mut p.answer, first);
                    push_rr_tail(&mut p.answer, rt::CNAME, ttl, target);
                    p.ancount += 1;
                    let next = decode_plain_name(target);
                    if seen.len() > MAX_CHAIN || !seen.insert(next.clone()) {
                        return p;
                    }
                    cur = next;
                    first = false;
                    continue;
                }
            }
            match node.rrset(qtype) {
                Some(set) => {
                    for (ttl, data) in set {
                        owner(&mut p.answer, first);
                        push_rr_tail(&mut p.answer, qtype, *ttl, data);
                        p.ancount += 1;
                    }
                }
                None => {
                    p.authority = self.soa[node.zone].clone();
                    p.nscount = 1;
                }
            }
            return p;
        }
    }
}

/// Appends type, class IN, TTL, RDLENGTH and RDATA.
fn push_rr_tail(out: &mut Vec<u8>, rtype: u16, ttl: u32, rdata: &[u8]) {
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

/// Decodes an uncompressed wire name written by [`encode_name`].
fn decode_plain_name(wire: &[u8]) -> String {
    let mut labels = Vec::new();
    let mut i = 0;
    while i < wire.len() && wire[i] != 0 {
        let len = wire[i] as usize;
        let end = (i + 1 + len).min(wire.len());
        labels.push(String::from_utf8_lossy(&wire[i + 1..end]).into_owned());
        i = end;
    }
    labels.join(".")
}

/// A parsed query: what the answer needs from it.
struct Query {
    id: u16,
    rd: bool,
    /// End of the question section in the query buffer.
    qend: usize,
    qtype: u16,
    /// The client's UDP payload limit (512 without EDNS).
    udp_limit: usize,
    edns: bool,
}

/// Parses a query, writing the lowercase question name into `name`. `Err` carries the
/// response code for a query that cannot be answered normally (with the id, if read).
fn parse_query(buf: &[u8], name: &mut String) -> Result<Query, Option<(u16, u8)>> {
    if buf.len() < 12 {
        return Err(None);
    }
    let id = u16::from_be_bytes([buf[0], buf[1]]);
    if buf[2] & 0x80 != 0 {
        // A response sent to us: never answer it (that could start a reply loop).
        return Err(None);
    }
    let opcode = (buf[2] >> 3) & 0x0f;
    if opcode != 0 {
        return Err(Some((id, RCODE_NOTIMP)));
    }
    let qdcount = u16::from_be_bytes([buf[4], buf[5]]);
    let arcount = u16::from_be_bytes([buf[10], buf[11]]);
    if qdcount != 1 {
        return Err(Some((id, RCODE_FORMERR)));
    }
    name.clear();
    let mut i = 12;
    loop {
        let len = *buf.get(i).ok_or(Some((id, RCODE_FORMERR)))? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 || i + len > buf.len() || name.len() + len > 254 {
            return Err(Some((id, RCODE_FORMERR)));
        }
        if !name.is_empty() {
            name.push('.');
        }
        for &b in &buf[i..i + len] {
            // Bytes that can never appear in a served name become '?', so they
            // cannot be confused with a label separator or match anything.
            let c = if b.is_ascii_graphic() && b != b'.' {
                b.to_ascii_lowercase() as char
            } else {
                '?'
            };
            name.push(c);
        }
        i += len;
    }
    let Some(q) = buf.get(i..i + 4) else {
        return Err(Some((id, RCODE_FORMERR)));
    };
    let qtype = u16::from_be_bytes([q[0], q[1]]);
    let qend = i + 4;
    // An OPT record directly after the question (the usual and only supported place).
    let mut udp_limit = 512;
    let mut edns = false;
    if arcount >= 1 && buf.len() >= qend + 11 && buf[qend] == 0 {
        let t = u16::from_be_bytes([buf[qend + 1], buf[qend + 2]]);
        if t == rt::OPT {
            edns = true;
            let size = u16::from_be_bytes([buf[qend + 3], buf[qend + 4]]);
            udp_limit = usize::from(size).max(512);
        }
    }
    Ok(Query {
        id,
        rd: buf[2] & 1 != 0,
        qend,
        qtype,
        udp_limit,
        edns,
    })
}

/// Shared server state: data, behaviours and counters.
#[derive(Debug)]
struct Shared {
    db: Db,
    behaviors: RwLock<HashMap<String, Behavior>>,
    udp_queries: AtomicU64,
    tcp_queries: AtomicU64,
    tcp_connections: AtomicU64,
}

/// What to do with one query.
enum Action {
    /// Send these bytes (already in `out`).
    Reply,
    /// Send the wrong-id copy in `out`, then (if `then_right`) the right answer.
    WrongId { then_right: bool },
    /// Send nothing.
    Silent,
    /// Send `out` after a delay.
    Delayed(Duration),
}

impl Shared {
    /// Builds the response to `buf` into `out`. `limit` is the UDP size limit, or
    /// `None` over TCP.
    fn respond(
        &self,
        buf: &[u8],
        out: &mut Vec<u8>,
        name: &mut String,
        scratch: &mut String,
        udp: bool,
    ) -> Action {
        out.clear();
        let q = match parse_query(buf, name) {
            Ok(q) => q,
            Err(None) => return Action::Silent,
            Err(Some((id, rcode))) => {
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&[0x80, rcode, 0, 0, 0, 0, 0, 0, 0, 0]);
                return Action::Reply;
            }
        };
        let behavior = {
            let map = self.behaviors.read().unwrap_or_else(|e| e.into_inner());
            if map.is_empty() {
                Behavior::Normal
            } else {
                map.get(name.as_str()).copied().unwrap_or(Behavior::Normal)
            }
        };
        let limit = if udp { q.udp_limit } else { 65_535 };
        match behavior {
            Behavior::Normal | Behavior::DropFirst(0) => {}
            Behavior::DropFirst(_) if !udp => {}
            Behavior::DropFirst(_) => {
                let mut map = self.behaviors.write().unwrap_or_else(|e| e.into_inner());
                if let Some(Behavior::DropFirst(n)) = map.get_mut(name.as_str()) {
                    if *n > 0 {
                        *n -= 1;
                        return Action::Silent;
                    }
                }
            }
            Behavior::Drop => return Action::Silent,
            Behavior::Servfail | Behavior::Refused => {
                let rcode = if behavior == Behavior::Servfail {
                    RCODE_SERVFAIL
                } else {
                    RCODE_REFUSED
                };
                let p = Prepared {
                    rcode,
                    authoritative: false,
                    answer: Vec::new(),
                    ancount: 0,
                    authority: Vec::new(),
                    nscount: 0,
                };
                write_response(out, buf, &q, &p, limit, false);
                return Action::Reply;
            }
            Behavior::Malformed => {
                out.extend_from_slice(&buf[..2]);
                out.extend_from_slice(&[0x84, 0x00, 0, 1, 0, 3, 0, 0, 0, 0]);
                out.extend_from_slice(&buf[12..q.qend]);
                // An answer record cut off in the middle of its fixed fields.
                out.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00]);
                return Action::Reply;
            }
            Behavior::Delay(d) => {
                self.answer(out, buf, &q, name, scratch, limit, false);
                return Action::Delayed(d);
            }
            Behavior::TruncateUdp | Behavior::WrongId | Behavior::WrongIdOnly if !udp => {}
            Behavior::TruncateUdp => {
                self.answer(out, buf, &q, name, scratch, limit, true);
                return Action::Reply;
            }
            Behavior::WrongId | Behavior::WrongIdOnly => {
                self.answer(out, buf, &q, name, scratch, limit, false);
                let wrong = q.id ^ 0x5a5a;
                out[..2].copy_from_slice(&wrong.to_be_bytes());
                return Action::WrongId {
                    then_right: behavior == Behavior::WrongId,
                };
            }
        }
        self.answer(out, buf, &q, name, scratch, limit, false);
        Action::Reply
    }

    /// Writes the authoritative answer for the parsed query.
    #[allow(clippy::too_many_arguments)]
    fn answer(
        &self,
        out: &mut Vec<u8>,
        buf: &[u8],
        q: &Query,
        name: &str,
        scratch: &mut String,
        limit: usize,
        force_tc: bool,
    ) {
        let db = &self.db;
        let by_type = |types: &[(u16, Arc<Prepared>)]| {
            types
                .iter()
                .find(|(t, _)| *t == q.qtype)
                .map(|(_, p)| p.clone())
        };
        let prepared: Arc<Prepared> = if let Some(types) = db.answers.get(name) {
            by_type(types).unwrap_or_else(|| Arc::new(db.prepare(name, q.qtype)))
        } else {
            match db.zone_of(name) {
                None => db.refused.clone(),
                Some(zi) => {
                    // Synthesise from a wildcard: its prepared answer starts with a
                    // pointer to the question, so it fits any matching name.
                    // `wildcard_for` leaves the wildcard's name in `scratch`.
                    let types = db
                        .wildcard_for(name, scratch)
                        .and_then(|_| db.answers.get(scratch.as_str()));
                    match types {
                        Some(types) => {
                            by_type(types).unwrap_or_else(|| Arc::new(db.prepare(scratch, q.qtype)))
                        }
                        None => db.nxdomain[zi].clone(),
                    }
                }
            }
        };
        write_response(out, buf, q, &prepared, limit, force_tc);
    }
}

/// Writes header, question (copied from the query, in its original case), the
/// prepared sections and an OPT record when the client sent one. Falls back to an
/// empty truncated answer when the result would exceed `limit`.
fn write_response(
    out: &mut Vec<u8>,
    buf: &[u8],
    q: &Query,
    p: &Prepared,
    limit: usize,
    force_tc: bool,
) {
    let opt_len = if q.edns { 11 } else { 0 };
    let full = 12 + (q.qend - 12) + p.answer.len() + p.authority.len() + opt_len;
    let tc = force_tc || full > limit;
    out.clear();
    out.extend_from_slice(&q.id.to_be_bytes());
    let mut flags1 = 0x80;
    if p.authoritative {
        flags1 |= 0x04;
    }
    if tc {
        flags1 |= 0x02;
    }
    if q.rd {
        flags1 |= 0x01;
    }
    out.push(flags1);
    out.push(p.rcode);
    let (an, ns) = if tc { (0, 0) } else { (p.ancount, p.nscount) };
    for count in [1, an, ns, u16::from(q.edns)] {
        out.extend_from_slice(&count.to_be_bytes());
    }
    out.extend_from_slice(&buf[12..q.qend]);
    if !tc {
        out.extend_from_slice(&p.answer);
        out.extend_from_slice(&p.authority);
    }
    if q.edns {
        out.push(0);
        out.extend_from_slice(&rt::OPT.to_be_bytes());
        out.extend_from_slice(&SERVER_EDNS_PAYLOAD.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
}

/// An authoritative DNS server on `127.0.0.1`, UDP and TCP on the same port.
///
/// Dropping it (or calling [`DnsServer::shutdown`]) stops its tasks.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use servedby_testnet::dns::{Behavior, DnsServer, Zone};
///
/// let zone = Zone::parse("example.com", "www A 93.184.216.34").unwrap();
/// let server = DnsServer::start([zone])?;
/// server.set_behavior("slow.example.com", Behavior::Drop);
/// println!("nameserver at {}", server.addr());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl DnsServer {
    /// Starts serving `zones`. Must be called inside a tokio runtime.
    pub fn start(zones: impl IntoIterator<Item = Zone>) -> io::Result<Self> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            io::Error::other("DnsServer::start must be called inside a tokio runtime")
        })?;
        let (db, zone_behaviors) = Db::build(zones.into_iter().collect())?;
        let (udp, tcp) = bind_pair()?;
        let addr = udp.local_addr()?;
        let _guard = handle.enter();
        let udp = Arc::new(UdpSocket::from_std(udp)?);
        let tcp = TcpListener::from_std(tcp)?;
        let shared = Arc::new(Shared {
            db,
            behaviors: RwLock::new(
                zone_behaviors
                    .into_iter()
                    .filter(|(_, b)| *b != Behavior::Normal)
                    .collect(),
            ),
            udp_queries: AtomicU64::new(0),
            tcp_queries: AtomicU64::new(0),
            tcp_connections: AtomicU64::new(0),
        });
        // Two workers share the UDP socket so a benchmark can use both cores.
        let mut tasks = Vec::new();
        for _ in 0..2 {
            tasks.push(handle.spawn(udp_loop(udp.clone(), shared.clone())));
        }
        tasks.push(handle.spawn(tcp_loop(tcp, shared.clone())));
        Ok(Self {
            addr,
            shared,
            tasks,
        })
    }

    /// The address the server listens on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets how queries for `name` (absolute, e.g. `www.example.com`) are treated.
    pub fn set_behavior(&self, name: &str, behavior: Behavior) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut map = self
            .shared
            .behaviors
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if behavior == Behavior::Normal {
            map.remove(&name);
        } else {
            map.insert(name, behavior);
        }
    }

    /// UDP datagrams received (including ones that were not valid queries).
    pub fn udp_queries(&self) -> u64 {
        self.shared.udp_queries.load(Ordering::Relaxed)
    }

    /// Queries received over TCP.
    pub fn tcp_queries(&self) -> u64 {
        self.shared.tcp_queries.load(Ordering::Relaxed)
    }

    /// TCP connections accepted.
    pub fn tcp_connections(&self) -> u64 {
        self.shared.tcp_connections.load(Ordering::Relaxed)
    }

    /// Every query received, over UDP and TCP.
    pub fn queries(&self) -> u64 {
        self.udp_queries() + self.tcp_queries()
    }

    /// Stops the server's tasks.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Binds UDP on an ephemeral loopback port, then TCP on the same port, retrying with
/// a new port when TCP finds it taken.
fn bind_pair() -> io::Result<(std::net::UdpSocket, std::net::TcpListener)> {
    let mut last = None;
    for _ in 0..50 {
        let udp = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = udp.local_addr()?.port();
        match std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(tcp) => {
                udp.set_nonblocking(true)?;
                tcp.set_nonblocking(true)?;
                return Ok((udp, tcp));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free port pair")))
}

async fn udp_loop(sock: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 65_535];
    let mut out = Vec::with_capacity(4096);
    let mut name = String::with_capacity(256);
    let mut scratch = String::with_capacity(256);
    let mut delayed = JoinSet::new();
    loop {
        let Ok((len, src)) = sock.recv_from(&mut buf).await else {
            // Transient errors (e.g. ICMP-reported unreachable peers) must not spin
            // the loop.
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        shared.udp_queries.fetch_add(1, Ordering::Relaxed);
        while delayed.try_join_next().is_some() {}
        match shared.respond(&buf[..len], &mut out, &mut name, &mut scratch, true) {
            Action::Silent => {}
            Action::Reply => {
                let _ = sock.send_to(&out, src).await;
            }
            Action::WrongId { then_right } => {
                let _ = sock.send_to(&out, src).await;
                if then_right {
                    out[..2].copy_from_slice(&buf[..2]);
                    let _ = sock.send_to(&out, src).await;
                }
            }
            Action::Delayed(d) => {
                let reply = out.clone();
                let sock = sock.clone();
                delayed.spawn(async move {
                    tokio::time::sleep(d).await;
                    let _ = sock.send_to(&reply, src).await;
                });
            }
        }
    }
}

async fn tcp_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connection tasks live in this set, so aborting the accept loop ends them too.
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        shared.tcp_connections.fetch_add(1, Ordering::Relaxed);
        if conns.len() >= MAX_TCP_CONNECTIONS {
            continue;
        }
        conns.spawn(tcp_conn(stream, shared.clone()));
    }
}

async fn tcp_conn(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 65_535];
    let mut out = Vec::with_capacity(4096);
    let mut name = String::new();
    let mut scratch = String::new();
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let len = usize::from(u16::from_be_bytes(len));
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut buf[..len])).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        shared.tcp_queries.fetch_add(1, Ordering::Relaxed);
        let delay = match shared.respond(&buf[..len], &mut out, &mut name, &mut scratch, false) {
            Action::Silent => continue,
            Action::Reply | Action::WrongId { .. } => None,
            Action::Delayed(d) => Some(d),
        };
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let mut framed = Vec::with_capacity(out.len() + 2);
        framed.extend_from_slice(&(out.len() as u16).to_be_bytes());
        framed.extend_from_slice(&out);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message, MessageType, Query as HQuery, ResponseCode};
    use hickory_proto::rr::{Name, RData, RecordType};

    fn zone() -> Zone {
        Zone::parse(
            "example.com",
            r#"
            $TTL 120
            @       SOA   ns1 hostmaster 7 7200 3600 1209600 300
            @       NS    ns1
                    NS    ns2.example.net.
            @       MX    10 mx1
            @       TXT   "v=spf1 " "-all"  ; a comment
            @       CAA   0 issue "letsencrypt.org"
            www 60  CNAME cdn
            cdn     A     93.184.216.34
            a.b.c   A     192.0.2.1
            *.dyn   AAAA  2001:db8::1
            loop1   CNAME loop2
            loop2   CNAME loop1
            big     TXT   "BIG"
            bad     BEHAVIOR servfail
            "#,
        )
        .unwrap()
    }

    fn query(name: &str, t: RecordType, edns: bool) -> Vec<u8> {
        let mut m = Message::new();
        m.set_id(4242)
            .set_message_type(MessageType::Query)
            .set_recursion_desired(true);
        m.add_query(HQuery::query(Name::from_ascii(name).unwrap(), t));
        if edns {
            let mut e = Edns::new();
            e.set_max_payload(1232);
            m.set_edns(e);
        }
        m.to_vec().unwrap()
    }

    fn ask(shared: &Shared, name: &str, t: RecordType, udp: bool) -> Message {
        let q = query(name, t, true);
        let mut out = Vec::new();
        let (mut n, mut s) = (String::new(), String::new());
        assert!(matches!(
            shared.respond(&q, &mut out, &mut n, &mut s, udp),
            Action::Reply
        ));
        Message::from_vec(&out).unwrap()
    }

    fn shared(zones: Vec<Zone>) -> Shared {
        let (db, beh) = Db::build(zones).unwrap();
        Shared {
            db,
            behaviors: RwLock::new(beh.into_iter().collect()),
            udp_queries: AtomicU64::new(0),
            tcp_queries: AtomicU64::new(0),
            tcp_connections: AtomicU64::new(0),
        }
    }

    #[test]
    fn parse_errors_name_the_line() {
        let e = Zone::parse("example.com", "ok A 192.0.2.1\nbad A not-an-ip").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("IPv4"), "{e}");
        assert!(Zone::parse("example.com", "x.other.org. A 192.0.2.1").is_err());
        assert!(Zone::parse("example.com", "x TXT \"open").is_err());
        assert!(Zone::parse("example.com", "x FOO bar").is_err());
        assert!(Zone::parse("example.com", "x BEHAVIOR delay soon").is_err());
    }

    #[test]
    fn answers_positive_cname_chain_and_aa() {
        let s = shared(vec![zone()]);
        let m = ask(&s, "WWW.example.com", RecordType::A, true);
        assert!(m.authoritative());
        assert_eq!(m.response_code(), ResponseCode::NoError);
        assert_eq!(m.answers().len(), 2);
        assert_eq!(m.answers()[0].name().to_ascii(), "WWW.example.com.");
        assert!(
            matches!(m.answers()[1].data(), RData::A(a) if a.0 == Ipv4Addr::new(93, 184, 216, 34))
        );
        assert_eq!(m.answers()[0].ttl(), 60);
        assert_eq!(m.answers()[1].ttl(), 120);
        let ns = ask(&s, "example.com", RecordType::NS, true);
        assert_eq!(ns.answers().len(), 2);
    }

    #[test]
    fn negative_answers() {
        let s = shared(vec![zone()]);
        let nx = ask(&s, "nope.example.com", RecordType::A, true);
        assert_eq!(nx.response_code(), ResponseCode::NXDomain);
        assert_eq!(nx.name_servers()[0].record_type(), RecordType::SOA);
        let nodata = ask(&s, "cdn.example.com", RecordType::MX, true);
        assert_eq!(nodata.response_code(), ResponseCode::NoError);
        assert!(nodata.answers().is_empty());
        assert_eq!(nodata.name_servers().len(), 1);
        // An empty non-terminal exists.
        let ent = ask(&s, "b.c.example.com", RecordType::A, true);
        assert_eq!(ent.response_code(), ResponseCode::NoError);
        let refused = ask(&s, "example.org", RecordType::A, true);
        assert_eq!(refused.response_code(), ResponseCode::Refused);
        assert!(!refused.authoritative());
        let sf = ask(&s, "bad.example.com", RecordType::A, true);
        assert_eq!(sf.response_code(), ResponseCode::ServFail);
    }

    #[test]
    fn wildcard_synthesis_uses_the_question_name() {
        let s = shared(vec![zone()]);
        let m = ask(&s, "host7.dyn.example.com", RecordType::AAAA, true);
        assert_eq!(m.answers().len(), 1);
        assert_eq!(m.answers()[0].name().to_ascii(), "host7.dyn.example.com.");
        // Not below the wildcard's parent: NXDOMAIN.
        let nx = ask(&s, "host7.other.example.com", RecordType::AAAA, true);
        assert_eq!(nx.response_code(), ResponseCode::NXDomain);
    }

    #[test]
    fn cname_loop_terminates() {
        let s = shared(vec![zone()]);
        let m = ask(&s, "loop1.example.com", RecordType::A, true);
        assert_eq!(m.answers().len(), 2);
    }

    #[test]
    fn truncates_over_the_client_payload_size() {
        let big = "x".repeat(4000);
        let z = Zone::parse("example.com", &format!("big TXT \"{big}\"")).unwrap();
        let s = shared(vec![z]);
        let q = query("big.example.com", RecordType::TXT, false);
        let mut out = Vec::new();
        let (mut n, mut sc) = (String::new(), String::new());
        s.respond(&q, &mut out, &mut n, &mut sc, true);
        let m = Message::from_vec(&out).unwrap();
        assert!(m.truncated());
        assert!(m.answers().is_empty());
        assert!(out.len() <= 512);
        let m = ask(&s, "big.example.com", RecordType::TXT, false);
        assert!(!m.truncated());
        let RData::TXT(txt) = m.answers()[0].data() else {
            panic!("not TXT")
        };
        assert_eq!(txt.txt_data().iter().map(|s| s.len()).sum::<usize>(), 4000);
    }

    #[test]
    fn behaviors_shape_the_reply() {
        let s = shared(vec![zone()]);
        let q = query("cdn.example.com", RecordType::A, true);
        let (mut n, mut sc) = (String::new(), String::new());
        let mut out = Vec::new();
        let set = |b| {
            s.behaviors
                .write()
                .unwrap()
                .insert("cdn.example.com".to_string(), b);
        };
        set(Behavior::WrongId);
        let a = s.respond(&q, &mut out, &mut n, &mut sc, true);
        assert!(matches!(a, Action::WrongId { then_right: true }));
        assert_ne!(out[..2], q[..2]);
        // Over TCP the misbehaviour is UDP-only.
        let a = s.respond(&q, &mut out, &mut n, &mut sc, false);
        assert!(matches!(a, Action::Reply));
        assert_eq!(out[..2], q[..2]);
        set(Behavior::WrongIdOnly);
        let a = s.respond(&q, &mut out, &mut n, &mut sc, true);
        assert!(matches!(a, Action::WrongId { then_right: false }));
        set(Behavior::Malformed);
        s.respond(&q, &mut out, &mut n, &mut sc, true);
        assert_eq!(out[..2], q[..2]);
        assert!(Message::from_vec(&out).is_err());
        set(Behavior::Drop);
        assert!(matches!(
            s.respond(&q, &mut out, &mut n, &mut sc, true),
            Action::Silent
        ));
        set(Behavior::Delay(Duration::from_millis(5)));
        let a = s.respond(&q, &mut out, &mut n, &mut sc, true);
        assert!(matches!(a, Action::Delayed(d) if d == Duration::from_millis(5)));
        set(Behavior::TruncateUdp);
        s.respond(&q, &mut out, &mut n, &mut sc, true);
        let m = Message::from_vec(&out).unwrap();
        assert!(m.truncated() && m.answers().is_empty());
        s.respond(&q, &mut out, &mut n, &mut sc, false);
        assert_eq!(Message::from_vec(&out).unwrap().answers().len(), 1);
        // Behaviours from the zone text.
        let m = ask(&s, "bad.example.com", RecordType::A, false);
        assert_eq!(m.response_code(), ResponseCode::ServFail);
    }

    #[test]
    fn garbage_queries_do_not_panic() {
        let s = shared(vec![zone()]);
        let mut rng = fastrand::Rng::with_seed(7);
        let mut out = Vec::new();
        let (mut n, mut sc) = (String::new(), String::new());
        for len in 0..600 {
            let mut pkt: Vec<u8> = (0..len % 300).map(|_| rng.u8(..)).collect();
            if pkt.len() > 2 {
                pkt[2] &= 0x7f;
            }
            let _ = s.respond(&pkt, &mut out, &mut n, &mut sc, true);
        }
    }

    #[tokio::test]
    async fn serves_udp_and_tcp_on_one_port() {
        let big = "y".repeat(3000);
        let z = zone().with(&format!("huge TXT \"{big}\"")).unwrap();
        let server = DnsServer::start([z]).unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sock.send_to(
            &query("huge.example.com", RecordType::TXT, true),
            server.addr(),
        )
        .await
        .unwrap();
        let mut buf = vec![0; 2048];
        let (n, _) = sock.recv_from(&mut buf).await.unwrap();
        assert!(Message::from_vec(&buf[..n]).unwrap().truncated());
        let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
        let q = query("huge.example.com", RecordType::TXT, true);
        tcp.write_all(&(q.len() as u16).to_be_bytes())
            .await
            .unwrap();
        tcp.write_all(&q).await.unwrap();
        let mut len = [0; 2];
        tcp.read_exact(&mut len).await.unwrap();
        let mut body = vec![0; usize::from(u16::from_be_bytes(len))];
        tcp.read_exact(&mut body).await.unwrap();
        let m = Message::from_vec(&body).unwrap();
        assert!(!m.truncated());
        assert_eq!(m.answers().len(), 1);
        assert_eq!(server.udp_queries(), 1);
        assert_eq!(server.tcp_queries(), 1);
        assert_eq!(server.queries(), 2);
    }
}
