//! The resolver: retries, nameserver rotation, limits, TCP fallback and CNAME chains.

use std::fmt;
use std::future::{poll_fn, Future};
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use crate::inflight::InFlight;
use servedby_model::hash::BuildPlainHasher;
use servedby_model::{DnsData, DnsRecord, Outcome};
use servedby_net::{KeyedLimiter, Network, RateLimiter};
use tokio::time::error::Elapsed;
use tokio::time::{timeout_at, Instant};

use crate::reply::{rcode, Answer as Rr, Reply};
use crate::stats::{Counters, Stats};
use crate::udp::{Exchange, Pool, MAX_PENDING_PER_SOCKET};
use crate::{tcp, wire, DnsError, RecordType};

/// The longest CNAME chain a lookup follows.
pub const MAX_CNAME_CHAIN: usize = 16;

/// Queries a nameserver may have in flight before its first reply; each valid reply
/// opens one more, up to `per_server_limit` (slow start). Without it, the first burst
/// (hundreds of datagrams in a few system calls) reaches the server before any round
/// trip is measured, and what its socket drops waits out the initial one-second
/// retransmission interval. A query that gets no answer in time halves the window
/// (once per window), which then grows by one per window of replies (congestion
/// avoidance, as TCP does): a server whose socket overflows, or that rate-limits, is
/// sent fewer at once instead of the same burst again.
const INITIAL_WINDOW: usize = 32;

/// How the resolver talks to its nameservers.
///
/// Build it from [`Default`] and the builder methods:
///
/// ```
/// use std::time::Duration;
/// use servedby_dns::ResolverConfig;
///
/// let cfg = ResolverConfig::new(vec!["127.0.0.1:5353".parse().unwrap()])
///     .timeout(Duration::from_secs(2))
///     .attempts(2)
///     .rate(500);
/// assert_eq!(cfg.per_server_limit, 128);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// The nameservers asked, in rotation (recursive resolvers, or authoritative
    /// servers in tests). Required.
    pub nameservers: Vec<SocketAddr>,
    /// The total deadline of one lookup, including retries, TCP fallback and CNAME
    /// following. Default 5 s.
    pub timeout: Duration,
    /// UDP attempts per query, rotating over the nameservers; each gets an equal
    /// share of the time left, and the last one keeps retransmitting to its server
    /// with backoff until the deadline. Default 3.
    pub attempts: u32,
    /// Queries per second overall (0 = unlimited, the default).
    pub rate: u32,
    /// Queries in flight per nameserver (0 = unlimited). Default 128: more than a
    /// server's worker sockets usually buffer (knotd's 212 KB receive buffer dropped
    /// part of 256 in flight, and each drop costs a retransmission interval), and far
    /// more than most servers answer one client for. A server starts with a window of
    /// 32 that every valid reply widens by one, up to this limit; a query unanswered
    /// in time halves it.
    pub per_server_limit: usize,
    /// UDP sockets per address family, each with its own receive and send task.
    /// Default 8: servers that spread queries over worker sockets by source port
    /// (SO_REUSEPORT) see the load spread evenly enough that no worker overflows.
    pub udp_sockets: usize,
    /// Queries in flight overall (at most 60,000). Default 1024.
    pub max_in_flight: usize,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        Self {
            nameservers: Vec::new(),
            timeout: Duration::from_secs(5),
            attempts: 3,
            rate: 0,
            per_server_limit: 128,
            udp_sockets: 8,
            max_in_flight: 1024,
        }
    }
}

impl ResolverConfig {
    /// The default configuration for these nameservers.
    pub fn new(nameservers: Vec<SocketAddr>) -> Self {
        Self {
            nameservers,
            ..Self::default()
        }
    }

    /// Sets the total deadline of one lookup.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the UDP attempts per query (at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// Sets the overall query rate (0 = unlimited).
    pub fn rate(mut self, per_second: u32) -> Self {
        self.rate = per_second;
        self
    }

    /// Sets the in-flight limit per nameserver (0 = unlimited).
    pub fn per_server_limit(mut self, limit: usize) -> Self {
        self.per_server_limit = limit;
        self
    }

    /// Sets the number of UDP sockets per address family.
    pub fn udp_sockets(mut self, sockets: usize) -> Self {
        self.udp_sockets = sockets;
        self
    }

    /// Sets the overall in-flight limit.
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.max_in_flight = limit;
        self
    }
}

/// The result of one lookup: always a value, failures included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The name asked (lowercase, no trailing dot).
    pub name: String,
    /// The type asked.
    pub rtype: RecordType,
    /// How the lookup ended.
    pub outcome: Outcome,
    /// Why, when the outcome is not `ok`.
    pub detail: Option<String>,
    /// The nameserver address that gave the final answer (the address dialed, after
    /// `--connect-to`), or the last one tried when the lookup failed.
    pub resolver: Option<SocketAddr>,
    /// The CNAME chain and the records, in presentation form.
    pub data: DnsData,
}

impl Lookup {
    /// The A and AAAA addresses among the answers.
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.data
            .answers
            .iter()
            .filter(|r| r.rtype == "A" || r.rtype == "AAAA")
            .filter_map(|r| r.value.parse().ok())
            .collect()
    }

    /// Whether the lookup ended with records.
    pub fn is_ok(&self) -> bool {
        self.outcome == Outcome::Ok
    }
}

/// A DNS stub resolver over a fixed pool of UDP sockets. Cheap to clone; clones share
/// sockets, limits and counters. The sockets' tasks stop when the last clone drops.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ResolverConfig,
    net: Network,
    /// Each nameserver's route (`--connect-to` and the egress policy), worked out once:
    /// neither changes while the resolver lives, and every query needs it.
    routes: Vec<Result<SocketAddr, servedby_net::Blocked>>,
    pool: Pool,
    rate: RateLimiter,
    per_server: KeyedLimiter<SocketAddr, BuildPlainHasher>,
    in_flight: InFlight,
    counters: Arc<Counters>,
    /// Spreads queries over the nameservers: each query starts at the next one.
    rotor: AtomicUsize,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.pool.shutdown();
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("config", &self.inner.cfg)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A reply worth interpreting (NOERROR or NXDOMAIN).
struct Answer {
    reply: Reply,
    server: SocketAddr,
    tcp: bool,
}

/// Why a query got no usable reply.
struct Failure {
    outcome: Outcome,
    detail: String,
    server: Option<SocketAddr>,
}

impl Failure {
    fn new(outcome: Outcome, detail: String, server: Option<SocketAddr>) -> Self {
        Self {
            outcome,
            detail,
            server,
        }
    }
}

impl Resolver {
    /// Binds the UDP sockets and starts their receive tasks. Must be called inside a
    /// tokio runtime. Sockets are bound for each address family the nameservers use
    /// (after `--connect-to` rewriting).
    pub fn new(cfg: ResolverConfig, net: Network) -> Result<Self, DnsError> {
        if cfg.nameservers.is_empty() {
            return Err(DnsError::NoNameservers);
        }
        tokio::runtime::Handle::try_current().map_err(|_| DnsError::NoRuntime)?;
        let routed: Vec<SocketAddr> = cfg
            .nameservers
            .iter()
            .map(|&ns| net.connect_to.rewrite(ns))
            .collect();
        let counters = Arc::new(Counters::default());
        let pool = Pool::bind(
            cfg.udp_sockets.max(1),
            routed.iter().any(SocketAddr::is_ipv4),
            routed.iter().any(SocketAddr::is_ipv6),
            &counters,
        )
        .map_err(|(addr, source)| DnsError::Bind { addr, source })?;
        let routes = cfg.nameservers.iter().map(|&ns| net.route(ns)).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                routes,
                rate: RateLimiter::new(cfg.rate),
                per_server: KeyedLimiter::slow_start(cfg.per_server_limit, INITIAL_WINDOW).hashed(),
                in_flight: InFlight::new(cfg.max_in_flight.clamp(1, MAX_PENDING_PER_SOCKET)),
                counters,
                rotor: AtomicUsize::new(0),
                pool,
                net,
                cfg,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ResolverConfig {
        &self.inner.cfg
    }

    /// The counters since the resolver was created.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// Looks up `name` (ASCII; a trailing dot and upper case are accepted) for
    /// `rtype`, following CNAMEs up to [`MAX_CNAME_CHAIN`] hops, within the
    /// configured total deadline. Never fails: failures are outcomes.
    pub async fn lookup(&self, name: &str, rtype: RecordType) -> Lookup {
        let deadline = Instant::now() + self.inner.cfg.timeout;
        let mut current = wire::normalize(name);
        let mut out = Lookup {
            name: current.clone(),
            rtype,
            outcome: Outcome::Error,
            detail: None,
            resolver: None,
            data: DnsData {
                rtype: rtype.as_str().to_string(),
                ..DnsData::default()
            },
        };
        loop {
            let ans = match self.query(&current, rtype, deadline).await {
                Ok(a) => a,
                Err(f) => {
                    out.outcome = f.outcome;
                    out.detail = Some(f.detail);
                    out.resolver = f.server.or(out.resolver);
                    return out;
                }
            };
            out.resolver = Some(ans.server);
            out.data.tcp = ans.tcp;
            let records = ans.reply.answers;
            // The chain so far ends at `current`; the links this reply adds go onto
            // it, and `end` is where it ends now.
            let chained = out.data.cname_chain.len();
            if rtype != RecordType::Cname {
                let mut end: &str = &current;
                while let Some(target) = cname_of(&records, end) {
                    if target == out.name || out.data.cname_chain.iter().any(|c| c == target) {
                        out.outcome = Outcome::LimitExceeded;
                        out.detail = Some(format!("CNAME loop: {end} points back to {target}"));
                        return out;
                    }
                    if out.data.cname_chain.len() >= MAX_CNAME_CHAIN {
                        out.outcome = Outcome::LimitExceeded;
                        out.detail =
                            Some(format!("CNAME chain longer than {MAX_CNAME_CHAIN} hops"));
                        return out;
                    }
                    out.data.cname_chain.push(target.to_string());
                    end = target;
                }
            }
            let end: &str = match out.data.cname_chain.get(chained..) {
                Some([.., last]) => last,
                _ => &current,
            };
            out.data.answers = records
                .into_iter()
                .filter(|r| r.rtype == rtype && r.owner == end)
                .map(|r| DnsRecord {
                    name: r.owner,
                    rtype: rtype.as_str().to_string(),
                    ttl: r.ttl,
                    value: r.value,
                })
                .collect();
            if !out.data.answers.is_empty() {
                out.outcome = Outcome::Ok;
                return out;
            }
            if ans.reply.rcode == rcode::NXDOMAIN {
                out.outcome = Outcome::Nxdomain;
                out.detail = Some(format!("{end} does not exist"));
                return out;
            }
            // The chain ends in a name this server did not follow (typically in
            // another zone): ask for that name. An SOA in the authority section means
            // the server did follow and found nothing, so asking again is pointless.
            if end != current && !ans.reply.negative {
                current = end.to_string();
                continue;
            }
            out.outcome = Outcome::NoData;
            out.detail = Some(format!("{end} has no {rtype} records"));
            return out;
        }
    }

    /// Asks the nameservers one question, with retries, limits and TCP fallback.
    async fn query(
        &self,
        name: &str,
        rtype: RecordType,
        deadline: Instant,
    ) -> Result<Answer, Failure> {
        let inner = &*self.inner;
        let servers = &inner.cfg.nameservers;
        let n = servers.len();
        let attempts = inner.cfg.attempts.max(1) as usize;
        let mut buf = Vec::with_capacity(name.len() + 40);
        let qend = wire::encode_query(0, name, rtype.code(), &mut buf).map_err(|e| {
            Failure::new(Outcome::Error, format!("invalid name {name:?}: {e}"), None)
        })?;
        // Servers that answered SERVFAIL/REFUSED/an error, or are blocked, are not
        // asked again for this question.
        let mut done = Done::new(n);
        let mut pos = inner.rotor.fetch_add(1, Ordering::Relaxed) % n;
        let mut last: Option<Failure> = None;
        let mut saw_bad = false;
        // The registered query, kept across attempts to the same server so that a late
        // reply to an earlier transmission still counts.
        let mut waiter: Option<crate::udp::Waiter<'_>> = None;
        for attempt in 0..attempts {
            if Instant::now() >= deadline {
                break;
            }
            let Some(idx) = (0..n).map(|k| (pos + k) % n).find(|&i| !done.get(i)) else {
                break;
            };
            pos = idx + 1;
            let ns = servers[idx];
            let dest = match &inner.routes[idx] {
                Ok(d) => *d,
                Err(b) => {
                    done.set(idx);
                    last = Some(Failure::new(Outcome::Blocked, b.to_string(), Some(b.addr)));
                    continue;
                }
            };
            let waited = |what: &str| {
                Failure::new(
                    Outcome::Timeout,
                    format!("deadline passed while waiting for {what}"),
                    Some(dest),
                )
            };
            let Ok(slot) = within(deadline, inner.per_server.acquire(&dest)).await else {
                last = Some(waited("a per-nameserver slot"));
                break;
            };
            if within(deadline, inner.rate.acquire()).await.is_err() {
                last = Some(waited("the rate limit"));
                break;
            }
            let Ok(_place) = within(deadline, inner.in_flight.acquire()).await else {
                last = Some(waited("an in-flight slot"));
                break;
            };
            if waiter.as_ref().map(|w| w.dest()) != Some(dest) {
                waiter = None;
                match inner.pool.register(dest, &mut buf, qend) {
                    Ok(w) => waiter = Some(w),
                    Err(e) => {
                        done.set(idx);
                        last = Some(Failure::new(
                            Outcome::Error,
                            format!("sending to {dest}: {e}"),
                            Some(dest),
                        ));
                        continue;
                    }
                }
            }
            let Some(w) = waiter.as_mut() else { continue };
            let exchange = match w.send(&buf) {
                Err(e) => Exchange::Io(e),
                Ok(()) if attempt + 1 == attempts => {
                    self.wait_to_deadline(w, &buf, attempt, deadline, slot.as_ref(), &mut saw_bad)
                        .await
                }
                Ok(()) => {
                    // Retransmit early and back off (RTO, 2·RTO, … with the RTO measured
                    // per server, RFC 6298), but never give one attempt more than its
                    // share of what is left: a lost datagram must not cost a third of
                    // the whole deadline.
                    let left = deadline.saturating_duration_since(Instant::now());
                    let share = left / (attempts - attempt) as u32;
                    w.wait(share.min(backoff(inner.pool.rto(dest), attempt)))
                        .await
                }
            };
            if !matches!(exchange, Exchange::Timeout { .. }) {
                waiter = None;
            }
            match exchange {
                Exchange::Reply(reply) => {
                    // The server keeps up: let one more query to it be in flight.
                    if let Some(s) = &slot {
                        s.grow();
                    }
                    let (reply, server, tcp) = if reply.truncated {
                        inner.counters.inc_tcp_fallbacks();
                        let left = deadline.saturating_duration_since(Instant::now());
                        match Box::pin(tcp::exchange(&inner.net, ns, &buf, qend, left)).await {
                            Ok((m, addr)) => (m, addr, true),
                            Err(f) => {
                                last = Some(Failure::new(
                                    f.outcome,
                                    f.detail,
                                    f.server.or(Some(dest)),
                                ));
                                continue;
                            }
                        }
                    } else {
                        (reply, dest, false)
                    };
                    let code = reply.rcode;
                    let outcome = match code {
                        rcode::NOERROR | rcode::NXDOMAIN => {
                            return Ok(Answer { reply, server, tcp });
                        }
                        rcode::SERVFAIL => Outcome::Servfail,
                        rcode::REFUSED => Outcome::Refused,
                        _ => Outcome::Error,
                    };
                    done.set(idx);
                    let detail = format!("{server} answered {}", rcode_name(code));
                    last = Some(Failure::new(outcome, detail, Some(server)));
                }
                Exchange::Timeout { bad } => {
                    inner.counters.inc_timeouts();
                    // The server, or the path to it, is dropping: fewer in flight.
                    if let Some(s) = &slot {
                        s.lost();
                    }
                    saw_bad |= bad;
                    last = Some(Failure::new(
                        Outcome::Timeout,
                        format!("no reply from {dest} within {:?}", inner.cfg.timeout),
                        Some(dest),
                    ));
                }
                Exchange::Io(e) => {
                    done.set(idx);
                    last = Some(Failure::new(
                        Outcome::Error,
                        format!("sending to {dest}: {e}"),
                        Some(dest),
                    ));
                }
            }
        }
        let mut f = last.unwrap_or_else(|| {
            Failure::new(
                Outcome::Timeout,
                format!("no query could be sent within {:?}", inner.cfg.timeout),
                None,
            )
        });
        if f.outcome == Outcome::Timeout && saw_bad {
            f.outcome = Outcome::ProtocolError;
            f.detail = format!(
                "only malformed or mismatched replies within {:?} (last server {})",
                inner.cfg.timeout,
                f.server
                    .map_or_else(|| "unknown".to_string(), |s| s.to_string())
            );
        }
        Err(f)
    }

    /// The last attempt: it has the rest of the deadline, and keeps retransmitting
    /// with backoff (RTO·2^k from the attempt's own k) rather than waiting it all out
    /// on one datagram: losses at an overloaded server come in bursts, and one more
    /// lost datagram must not cost seconds. Each resend goes through the rate limit.
    async fn wait_to_deadline(
        &self,
        w: &mut crate::udp::Waiter<'_>,
        query: &[u8],
        mut k: usize,
        deadline: Instant,
        slot: Option<&servedby_net::Slot>,
        saw_bad: &mut bool,
    ) -> Exchange {
        let inner = &*self.inner;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let step = backoff(inner.pool.rto(w.dest()), k).min(left);
            match w.wait(step).await {
                Exchange::Timeout { bad } if Instant::now() < deadline => {
                    inner.counters.inc_timeouts();
                    if let Some(s) = slot {
                        s.lost();
                    }
                    *saw_bad |= bad;
                    k += 1;
                    let paced = within(deadline, inner.rate.acquire()).await;
                    if paced.is_err() || w.send(query).is_err() {
                        return Exchange::Timeout { bad };
                    }
                }
                other => return other,
            }
        }
    }
}

/// `f` by `deadline`, as `timeout_at`, but without setting up a timer when `f` is
/// ready at once: the limits a query passes are rarely full, and a timer for each of
/// them on every query was a measurable part of a bulk lookup's cost.
async fn within<F: Future>(deadline: Instant, f: F) -> Result<F::Output, Elapsed> {
    let mut f = pin!(f);
    if let Poll::Ready(v) = poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await {
        return Ok(v);
    }
    timeout_at(deadline, f).await
}

/// Which of the nameservers are done with one question: a word of bits for up to 64
/// of them (no allocation on every query), a vector beyond.
struct Done {
    bits: u64,
    more: Vec<bool>,
}

impl Done {
    fn new(n: usize) -> Self {
        Self {
            bits: 0,
            more: if n > 64 { vec![false; n] } else { Vec::new() },
        }
    }

    fn get(&self, i: usize) -> bool {
        match self.more.get(i) {
            Some(&d) => d,
            None => i < 64 && self.bits & (1 << i) != 0,
        }
    }

    fn set(&mut self, i: usize) {
        match self.more.get_mut(i) {
            Some(d) => *d = true,
            None if i < 64 => self.bits |= 1 << i,
            None => {}
        }
    }
}

/// The retransmission interval of attempt `k`: RTO·2^k (capped at 2^8).
fn backoff(rto: Duration, k: usize) -> Duration {
    rto * (1u32 << k.min(8))
}

/// The CNAME target of `owner` among the answer records, if any.
fn cname_of<'a>(records: &'a [Rr], owner: &str) -> Option<&'a str> {
    records
        .iter()
        .find(|r| r.rtype == RecordType::Cname && r.owner == owner)
        .map(|r| r.value.as_str())
}

/// The conventional mnemonic of a response code.
fn rcode_name(code: u16) -> String {
    match code {
        rcode::FORMERR => "FORMERR".to_string(),
        rcode::SERVFAIL => "SERVFAIL".to_string(),
        rcode::NOTIMP => "NOTIMP".to_string(),
        rcode::REFUSED => "REFUSED".to_string(),
        other => format!("rcode {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_marks_each_server_alone_with_few_and_with_many() {
        for n in [1usize, 3, 63, 64, 65, 200] {
            let mut d = Done::new(n);
            let marked: Vec<usize> = (0..n).filter(|i| i % 3 == 1 || *i == n - 1).collect();
            for &i in &marked {
                d.set(i);
            }
            for i in 0..n {
                assert_eq!(d.get(i), marked.contains(&i), "n {n}, server {i}");
            }
        }
    }
}
