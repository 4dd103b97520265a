//! A fixed pool of UDP sockets shared by every lookup.
//!
//! Each socket has one receive task that hands replies to the waiting queries by id.
//! A reply is accepted only when it comes from the address the query was sent to,
//! carries the id of a pending query on that socket, is a response, and repeats the
//! query's question (name case-insensitively, type and class exactly) — so an
//! off-path spoofer must guess the source port, the id *and* the question. Anything
//! else is dropped and the query keeps waiting; a reply that matches id and source
//! but is malformed or asks another question marks the query so that, if nothing
//! valid arrives, it ends as a protocol error rather than a timeout.
//!
//! Datagrams move in batches: a query's datagram goes into its socket's outbox and
//! one send task per socket hands everything queued to the kernel with a single
//! `sendmmsg(2)`; the receive task takes up to [`RECV_BATCH`] replies per
//! `recvmmsg(2)`. At tens of thousands of queries per second a system call (and,
//! on loopback, a wake-up of the server) per datagram would otherwise cost more
//! than everything else a query does.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::socket::{recvmmsg, sendmmsg, MsgFlags, MultiHeaders, SockaddrStorage};
use servedby_model::hash::PlainMap;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::{oneshot, Notify};
use tokio_util::sync::CancellationToken;

use crate::reply::{self, Reply};
use crate::stats::Counters;
use crate::wire;

/// Receive buffer asked for on each UDP socket.
const RECV_BUFFER: usize = 4 << 20;
/// Ids in flight on one socket never exceed this, so a free id always exists.
pub(crate) const MAX_PENDING_PER_SOCKET: usize = 60_000;
/// Datagrams taken per `recvmmsg(2)`.
const RECV_BATCH: usize = 32;
/// Datagrams given per `sendmmsg(2)`.
const SEND_BATCH: usize = 64;
/// Room for one received datagram: more than three times the EDNS size we advertise
/// (1,232), as much as servers that ignore it commonly send. A reply that does not fit
/// is handled as a truncated one (see [`Sock::handle_cut`]): the query goes on over TCP.
const RECV_SLOT: usize = 4096;

/// Pending queries by id. The ids are our own random draws and nothing a server sends
/// chooses a key, so SipHash's protection would buy nothing here, at a cost on every
/// query and reply.
type IdMap<V> = PlainMap<u16, V>;

/// The reply a waiting query gets: the parsed message, or why its datagram could not
/// be sent.
type Delivery = io::Result<Reply>;

/// A query waiting for its reply.
#[derive(Debug)]
struct Pending {
    server: SocketAddr,
    /// The question section of the query (name, type, class).
    question: Box<[u8]>,
    /// A reply with our id and source arrived but was malformed or mismatched.
    bad: bool,
    tx: oneshot::Sender<Delivery>,
}

/// One socket, its pending queries and its queue of datagrams to send.
#[derive(Debug)]
pub(crate) struct Sock {
    socket: UdpSocket,
    pending: Mutex<IdMap<Pending>>,
    /// How many queries `pending` holds, kept beside it (written under its lock) so
    /// that picking the least-loaded socket takes no lock.
    load: AtomicUsize,
    outbox: Mutex<Outbox>,
    /// Wakes the send task when the outbox stops being empty.
    wake: Notify,
    counters: Arc<Counters>,
}

/// Datagrams waiting for the send task, packed into one buffer.
#[derive(Debug, Default)]
struct Outbox {
    bytes: Vec<u8>,
    items: Vec<Queued>,
}

/// One queued datagram: `bytes[start..end]` of its outbox, for `dest`.
#[derive(Debug, Clone, Copy)]
struct Queued {
    id: u16,
    dest: SocketAddr,
    start: usize,
    end: usize,
}

impl Queued {
    /// Whether the query this datagram was queued for is still the one waiting under
    /// its id (same server, same question): ids are reused once a query is done.
    fn is_for(&self, pending: &IdMap<Pending>, bytes: &[u8]) -> bool {
        pending.get(&self.id).is_some_and(|p| {
            p.server == self.dest
                && bytes
                    .get(self.start + wire::HEADER..self.end)
                    .is_some_and(|d| d.starts_with(&p.question))
        })
    }
}

impl Outbox {
    fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
    }
}

/// How one UDP exchange ended.
#[derive(Debug)]
pub(crate) enum Exchange {
    /// A valid reply.
    Reply(Reply),
    /// No valid reply in time; `bad` if a malformed or mismatched one was seen.
    Timeout { bad: bool },
    /// The packet could not be sent (or the pool is shutting down).
    Io(io::Error),
}

/// The sockets, per address family, and the token that stops their tasks.
#[derive(Debug)]
pub(crate) struct Pool {
    v4: Vec<Arc<Sock>>,
    v6: Vec<Arc<Sock>>,
    next: AtomicUsize,
    cancel: CancellationToken,
    /// Round-trip estimates per server, for the retransmission interval.
    rtt: Mutex<PlainMap<SocketAddr, RttEstimate>>,
}

impl Pool {
    /// Binds `count` sockets for each family asked for and starts their receive
    /// tasks on the current runtime.
    /// On failure, returns the address that could not be bound.
    pub(crate) fn bind(
        count: usize,
        v4: bool,
        v6: bool,
        counters: &Arc<Counters>,
    ) -> Result<Self, (SocketAddr, io::Error)> {
        let cancel = CancellationToken::new();
        let make = |addr: SocketAddr| -> Result<Vec<Arc<Sock>>, (SocketAddr, io::Error)> {
            let open = || -> io::Result<UdpSocket> {
                let sock = socket2::Socket::new(
                    socket2::Domain::for_address(addr),
                    socket2::Type::DGRAM,
                    Some(socket2::Protocol::UDP),
                )?;
                // Bursts of replies to thousands of queries in flight must not overflow
                // the default (~200 KiB) receive buffer: a dropped reply costs a whole
                // retransmission interval. The kernel caps this at net.core.rmem_max.
                let _ = sock.set_recv_buffer_size(RECV_BUFFER);
                sock.bind(&addr.into())?;
                sock.set_nonblocking(true)?;
                UdpSocket::from_std(sock.into())
            };
            (0..count.max(1))
                .map(|_| {
                    let sock = Arc::new(Sock::new(open().map_err(|e| (addr, e))?, counters));
                    tokio::spawn(recv_loop(sock.clone(), cancel.clone()));
                    tokio::spawn(send_loop(sock.clone(), cancel.clone()));
                    Ok(sock)
                })
                .collect()
        };
        let v4 = if v4 {
            make(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))?
        } else {
            Vec::new()
        };
        let v6 = if v6 {
            make(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)))?
        } else {
            Vec::new()
        };
        Ok(Self {
            v4,
            v6,
            next: AtomicUsize::new(0),
            cancel,
            rtt: Mutex::new(PlainMap::default()),
        })
    }

    /// Stops the receive tasks.
    pub(crate) fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Registers a query to `dest` on one of the sockets: picks a free id, writes it
    /// into `query` (whose question section ends at `qend`) and returns the waiter
    /// that sends the datagram and receives its reply. Every datagram sent through one
    /// waiter carries the same id, so a late reply to an earlier transmission is as
    /// good as a reply to the latest one.
    pub(crate) fn register(
        &self,
        dest: SocketAddr,
        query: &mut [u8],
        qend: usize,
    ) -> Result<Waiter<'_>, io::Error> {
        let socks = if dest.is_ipv4() { &self.v4 } else { &self.v6 };
        if socks.is_empty() {
            let family = if dest.is_ipv4() { "IPv4" } else { "IPv6" };
            return Err(io::Error::other(format!("no {family} socket bound")));
        }
        let sock = least_loaded(socks, self.next.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut map = lock(&sock.pending);
            let id = free_id(&map);
            map.insert(
                id,
                Pending {
                    server: dest,
                    question: query[wire::HEADER..qend].into(),
                    bad: false,
                    tx,
                },
            );
            sock.load.store(map.len(), Ordering::Relaxed);
            id
        };
        wire::set_id(query, id);
        Ok(Waiter {
            pool: self,
            sock,
            id,
            dest,
            rx,
            first_sent: None,
            resent: false,
        })
    }

    /// The retransmission interval for `dest`: RFC 6298's SRTT + 4·RTTVAR from the
    /// replies seen so far (clamped to [`MIN_RTO`, `MAX_RTO`]), or [`INITIAL_RTO`]
    /// before the first one.
    pub(crate) fn rto(&self, dest: SocketAddr) -> Duration {
        lock(&self.rtt)
            .get(&dest)
            .map_or(INITIAL_RTO, RttEstimate::rto)
    }

    fn sample(&self, dest: SocketAddr, rtt: Duration) {
        let mut map = lock(&self.rtt);
        match map.get_mut(&dest) {
            Some(e) => e.update(rtt),
            None => {
                if map.len() >= RTT_ENTRIES_MAX {
                    map.clear();
                }
                map.insert(dest, RttEstimate::first(rtt));
            }
        }
    }
}

/// The first retransmission interval, before any round trip to a server was measured.
pub(crate) const INITIAL_RTO: Duration = Duration::from_millis(1000);
/// The shortest retransmission interval, however fast a server has been.
pub(crate) const MIN_RTO: Duration = Duration::from_millis(50);
/// The longest retransmission interval derived from measurements.
pub(crate) const MAX_RTO: Duration = Duration::from_millis(2000);
/// Servers with a round-trip estimate kept before the table starts over.
const RTT_ENTRIES_MAX: usize = 4096;

/// Smoothed round-trip time and its variation for one server (RFC 6298 §2).
#[derive(Debug, Clone, Copy)]
struct RttEstimate {
    srtt: Duration,
    rttvar: Duration,
}

impl RttEstimate {
    fn first(r: Duration) -> Self {
        Self {
            srtt: r,
            rttvar: r / 2,
        }
    }

    fn update(&mut self, r: Duration) {
        let delta = self.srtt.abs_diff(r);
        self.rttvar = (self.rttvar * 3 + delta) / 4;
        self.srtt = (self.srtt * 7 + r) / 8;
    }

    fn rto(&self) -> Duration {
        (self.srtt + self.rttvar * 4).clamp(MIN_RTO, MAX_RTO)
    }
}

/// One registered query: sends its datagram (again, for a retransmission) and waits
/// for the reply. Dropping it forgets the query, so later replies count as strays.
pub(crate) struct Waiter<'a> {
    pool: &'a Pool,
    sock: &'a Sock,
    id: u16,
    dest: SocketAddr,
    rx: oneshot::Receiver<Delivery>,
    first_sent: Option<std::time::Instant>,
    resent: bool,
}

impl Waiter<'_> {
    /// The server this query is registered for.
    pub(crate) fn dest(&self) -> SocketAddr {
        self.dest
    }

    /// Queues the query for sending (again, for a retransmission); `query` must be
    /// the buffer given to `register`. Fails only once the pool is shutting down; a
    /// datagram the kernel refuses is reported by [`Waiter::wait`].
    pub(crate) fn send(&mut self, query: &[u8]) -> io::Result<()> {
        if self.pool.cancel.is_cancelled() {
            return Err(io::Error::other("the resolver is shutting down"));
        }
        self.sock.counters.inc_sent();
        if self.first_sent.is_some() {
            self.resent = true;
        } else {
            self.first_sent = Some(std::time::Instant::now());
        }
        self.sock.enqueue(self.id, self.dest, query);
        Ok(())
    }

    /// Waits up to `timeout` for the reply to any transmission so far. On a timeout
    /// the query stays registered, ready to be sent again.
    pub(crate) async fn wait(&mut self, timeout: Duration) -> Exchange {
        match tokio::time::timeout(timeout, &mut self.rx).await {
            Ok(Ok(Err(e))) => Exchange::Io(e),
            Ok(Ok(Ok(msg))) => {
                // Karn's rule: only a query sent once gives an unambiguous round trip.
                if let (false, Some(t)) = (self.resent, self.first_sent) {
                    self.pool.sample(self.dest, t.elapsed());
                }
                Exchange::Reply(msg)
            }
            Ok(Err(_)) => Exchange::Io(io::Error::other("the receive task stopped")),
            Err(_) => {
                let bad = lock(&self.sock.pending)
                    .get(&self.id)
                    .is_some_and(|p| p.bad);
                Exchange::Timeout { bad }
            }
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        // The receive task removes an answered entry and sends on its channel under
        // the lock; once it has, the id may already belong to another query, which
        // must not lose its entry. So remove only while our channel is still empty.
        let mut map = lock(&self.sock.pending);
        if matches!(self.rx.try_recv(), Err(oneshot::error::TryRecvError::Empty)) {
            self.sock.take(&mut map, self.id);
        }
    }
}

/// The socket with the fewest queries waiting, looking from `start` on (so that ties
/// go round). A server that spreads its clients over threads by their address and
/// port (`SO_REUSEPORT`) may put several of our sockets on one busy thread; replies on
/// those come back slower, their queries pile up, and new queries go to the sockets
/// that drain. With round robin alone, the busiest server thread set the pace.
fn least_loaded(socks: &[Arc<Sock>], start: usize) -> &Arc<Sock> {
    let n = socks.len();
    let mut best = &socks[start % n];
    let mut load = best.load.load(Ordering::Relaxed);
    for k in 1..n {
        if load == 0 {
            break;
        }
        let s = &socks[(start + k) % n];
        let l = s.load.load(Ordering::Relaxed);
        if l < load {
            best = s;
            load = l;
        }
    }
    best
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the map inconsistent (every
    // operation is a single insert/remove), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A random id not pending on this socket. The caller bounds the map below 65,536
/// entries (`MAX_PENDING_PER_SOCKET`), so the scan always finds one.
fn free_id(map: &IdMap<Pending>) -> u16 {
    for _ in 0..32 {
        let id = fastrand::u16(..);
        if !map.contains_key(&id) {
            return id;
        }
    }
    let start = fastrand::u16(..);
    (0..=u16::MAX)
        .map(|i| start.wrapping_add(i))
        .find(|id| !map.contains_key(id))
        .unwrap_or(start)
}

async fn recv_loop(sock: Arc<Sock>, cancel: CancellationToken) {
    let mut buf = vec![0u8; RECV_BATCH * RECV_SLOT];
    let mut got: Vec<Received> = Vec::with_capacity(RECV_BATCH);
    loop {
        got.clear();
        let received = tokio::select! {
            _ = cancel.cancelled() => return,
            r = sock.socket.async_io(Interest::READABLE, || {
                recv_batch(&sock.socket, &mut buf, &mut got)
            }) => r,
        };
        match received {
            Ok(()) => {
                for (i, r) in got.iter().enumerate() {
                    let slot = &buf[i * RECV_SLOT..i * RECV_SLOT + r.len.min(RECV_SLOT)];
                    match r.src {
                        Some(src) if r.cut => sock.handle_cut(slot, src),
                        Some(src) => sock.handle(slot, src),
                        None => sock.counters.inc_dropped(),
                    }
                }
            }
            Err(_) => {
                // Errors on an unconnected UDP socket are transient (ICMP reports on
                // some systems); pause briefly so they cannot spin the task.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
}

/// One datagram read by [`recv_batch`].
#[derive(Debug, Clone, Copy)]
struct Received {
    len: usize,
    src: Option<SocketAddr>,
    /// It did not fit its slot: only the first [`RECV_SLOT`] bytes were kept.
    cut: bool,
}

/// One `recvmmsg(2)`: fills `got` with each datagram read into consecutive
/// [`RECV_SLOT`]s of `buf`. `WouldBlock` when none is waiting.
fn recv_batch(socket: &UdpSocket, buf: &mut [u8], got: &mut Vec<Received>) -> io::Result<()> {
    let mut slices: Vec<[IoSliceMut<'_>; 1]> = buf
        .chunks_mut(RECV_SLOT)
        .map(|c| [IoSliceMut::new(c)])
        .collect();
    // The headers hold raw pointers (not `Send`), so they live only for the call.
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(slices.len(), None);
    let results = recvmmsg(
        socket.as_raw_fd(),
        &mut headers,
        slices.iter_mut(),
        MsgFlags::MSG_DONTWAIT,
        None,
    )
    .map_err(io::Error::from)?;
    got.extend(results.map(|m| Received {
        len: m.bytes,
        src: m.address.and_then(|a| socket_addr(&a)),
        cut: m.flags.contains(MsgFlags::MSG_TRUNC),
    }));
    if got.is_empty() {
        return Err(io::ErrorKind::WouldBlock.into());
    }
    Ok(())
}

/// The standard-library form of a received source address (IPv4 or IPv6 only).
fn socket_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    a.as_sockaddr_in6()
        .map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

async fn send_loop(sock: Arc<Sock>, cancel: CancellationToken) {
    let mut local = Outbox::default();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = sock.wake.notified() => {}
        }
        // Let the other tasks that are ready run first: each may queue a datagram,
        // and the whole lot then leaves in one system call.
        tokio::task::yield_now().await;
        std::mem::swap(&mut *lock(&sock.outbox), &mut local);
        sock.drop_stale(&mut local);
        let mut next = 0;
        while next < local.items.len() {
            let chunk = &local.items[next..(next + SEND_BATCH).min(local.items.len())];
            let sent = tokio::select! {
                _ = cancel.cancelled() => return,
                r = sock.socket.async_io(Interest::WRITABLE, || {
                    send_batch(&sock.socket, &local.bytes, chunk)
                }) => r,
            };
            match sent {
                Ok(n) => next += n.max(1),
                Err(e) => {
                    // The kernel refused the first datagram of the chunk: its query
                    // learns why, and the rest go on.
                    sock.fail(chunk[0], &local.bytes, e);
                    next += 1;
                }
            }
        }
        local.clear();
    }
}

/// One `sendmmsg(2)` of `chunk`; the number of datagrams the kernel took.
fn send_batch(socket: &UdpSocket, bytes: &[u8], chunk: &[Queued]) -> io::Result<usize> {
    let slices: Vec<[IoSlice<'_>; 1]> = chunk
        .iter()
        .map(|q| [IoSlice::new(&bytes[q.start..q.end])])
        .collect();
    let addrs: Vec<Option<SockaddrStorage>> = chunk
        .iter()
        .map(|q| Some(SockaddrStorage::from(q.dest)))
        .collect();
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(chunk.len(), None);
    let results = sendmmsg(
        socket.as_raw_fd(),
        &mut headers,
        slices.iter(),
        addrs,
        [],
        MsgFlags::MSG_DONTWAIT,
    )
    .map_err(io::Error::from)?;
    Ok(results.count())
}

impl Sock {
    fn new(socket: UdpSocket, counters: &Arc<Counters>) -> Self {
        Self {
            socket,
            pending: Mutex::new(IdMap::default()),
            load: AtomicUsize::new(0),
            outbox: Mutex::new(Outbox::default()),
            wake: Notify::new(),
            counters: counters.clone(),
        }
    }

    /// Removes query `id` from this socket's pending map (`map`, its locked contents),
    /// keeping [`Sock::load`] equal to what is left.
    fn take(&self, map: &mut IdMap<Pending>, id: u16) -> Option<Pending> {
        let p = map.remove(&id);
        self.load.store(map.len(), Ordering::Relaxed);
        p
    }

    /// Queues one datagram for the send task.
    fn enqueue(&self, id: u16, dest: SocketAddr, datagram: &[u8]) {
        let was_empty = {
            let mut out = lock(&self.outbox);
            let start = out.bytes.len();
            out.bytes.extend_from_slice(datagram);
            let end = out.bytes.len();
            out.items.push(Queued {
                id,
                dest,
                start,
                end,
            });
            out.items.len() == 1
        };
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Forgets queued datagrams whose query is no longer waiting (answered, or given
    /// up while its retransmission was queued): the id may already belong to another
    /// query, whose server would then see a question it was not asked.
    fn drop_stale(&self, out: &mut Outbox) {
        let pending = lock(&self.pending);
        let bytes = &out.bytes;
        out.items.retain(|q| q.is_for(&pending, bytes));
    }

    /// Ends the query of a datagram the kernel would not send.
    fn fail(&self, q: Queued, bytes: &[u8], e: io::Error) {
        let mut map = lock(&self.pending);
        if q.is_for(&map, bytes) {
            if let Some(p) = self.take(&mut map, q.id) {
                let _ = p.tx.send(Err(e));
            }
        }
    }

    /// A reply too large for its receive slot, of which only the start was kept. When
    /// its header and question (which come first) are those of a pending query, the
    /// query gets a reply with the TC bit set and no records, so the resolver asks
    /// again over TCP, as it would for a reply the server truncated itself.
    fn handle_cut(&self, pkt: &[u8], src: SocketAddr) {
        let qlen = pkt.get(..2).and_then(|id| {
            lock(&self.pending)
                .get(&u16::from_be_bytes([id[0], id[1]]))
                .map(|p| p.question.len())
        });
        let Some(head) = qlen.and_then(|q| pkt.get(..wire::HEADER + q)) else {
            self.counters.inc_dropped();
            return;
        };
        let mut head = head.to_vec();
        head[2] |= 0x02; // TC
        head[6..12].fill(0); // no answer, authority or additional records
        self.handle(&head, src);
    }

    /// Judges one datagram and hands it to its query if it is a valid reply.
    fn handle(&self, pkt: &[u8], src: SocketAddr) {
        if pkt.len() < wire::HEADER {
            self.counters.inc_dropped();
            return;
        }
        let id = u16::from_be_bytes([pkt[0], pkt[1]]);
        let mut map = lock(&self.pending);
        let Some(entry) = map.get_mut(&id) else {
            self.counters.inc_dropped();
            return;
        };
        if entry.server != src {
            // Someone other than the server asked: a spoofing attempt or a stray.
            self.counters.inc_dropped();
            return;
        }
        if !wire::reply_matches(pkt, &entry.question) {
            entry.bad = true;
            self.counters.inc_malformed();
            return;
        }
        let Ok(reply) = reply::decode(pkt) else {
            entry.bad = true;
            self.counters.inc_malformed();
            return;
        };
        if let Some(p) = self.take(&mut map, id) {
            self.counters.inc_responses();
            let _ = p.tx.send(Ok(reply));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock() -> Arc<Sock> {
        let std = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        std.set_nonblocking(true).unwrap();
        Arc::new(Sock::new(
            UdpSocket::from_std(std).unwrap(),
            &Arc::new(Counters::default()),
        ))
    }

    #[tokio::test]
    async fn the_least_loaded_socket_is_picked_and_ties_go_round() {
        let socks = [sock(), sock(), sock()];
        let set = |loads: [usize; 3]| {
            for (s, l) in socks.iter().zip(loads) {
                s.load.store(l, Ordering::Relaxed);
            }
        };
        let picked = |start| {
            let p = least_loaded(&socks, start);
            socks.iter().position(|s| Arc::ptr_eq(s, p)).unwrap()
        };
        set([3, 1, 2]);
        assert_eq!((picked(0), picked(1), picked(2)), (1, 1, 1));
        set([2, 2, 2]);
        assert_eq!((picked(0), picked(1), picked(2), picked(3)), (0, 1, 2, 0));
        set([5, 0, 0]);
        assert_eq!((picked(0), picked(1), picked(2)), (1, 1, 2));
    }

    #[tokio::test]
    async fn queries_go_to_the_socket_whose_queries_are_done() {
        let pool = Pool::bind(2, true, false, &Arc::new(Counters::default())).unwrap();
        let dest: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut q = Vec::new();
        let qend = wire::encode_query(0, "example.com", 1, &mut q).unwrap();
        let on = |w: &Waiter<'_>| {
            pool.v4
                .iter()
                .position(|s| std::ptr::eq(&**s, w.sock))
                .unwrap()
        };
        // Equal loads: one each, in turn.
        let mut waiters: Vec<Waiter<'_>> = (0..4)
            .map(|_| pool.register(dest, &mut q, qend).unwrap())
            .collect();
        let mut placed: Vec<usize> = waiters.iter().map(&on).collect();
        placed.sort_unstable();
        assert_eq!(placed, [0, 0, 1, 1]);
        // The queries of socket 0 end (their waiters are dropped): the next ones go
        // there until it is as loaded as socket 1.
        waiters.retain(|w| on(w) != 0);
        assert_eq!(pool.v4[0].load.load(Ordering::Relaxed), 0);
        assert_eq!(pool.v4[1].load.load(Ordering::Relaxed), 2);
        let more: Vec<Waiter<'_>> = (0..2)
            .map(|_| pool.register(dest, &mut q, qend).unwrap())
            .collect();
        assert!(more.iter().all(|w| on(w) == 0));
        // A reply ends a query too.
        let w = &waiters[0];
        let mut reply = reply_for(&q);
        wire::set_id(&mut reply, w.id);
        pool.v4[1].handle(&reply, dest);
        assert_eq!(pool.v4[1].load.load(Ordering::Relaxed), 1);
        // The count follows the map.
        for s in &pool.v4 {
            assert_eq!(s.load.load(Ordering::Relaxed), lock(&s.pending).len());
        }
        drop(more);
        drop(waiters);
        assert!(pool.v4.iter().all(|s| s.load.load(Ordering::Relaxed) == 0));
        pool.shutdown();
    }

    fn reply_for(query: &[u8]) -> Vec<u8> {
        let mut r = query.to_vec();
        r[2] |= 0x80;
        r
    }

    #[tokio::test]
    async fn spoofed_and_mismatched_replies_are_not_accepted() {
        let s = sock();
        let server: SocketAddr = "127.0.0.1:5300".parse().unwrap();
        let mut q = Vec::new();
        let qend = wire::encode_query(77, "www.example.com", 1, &mut q).unwrap();
        let (tx, mut rx) = oneshot::channel();
        lock(&s.pending).insert(
            77,
            Pending {
                server,
                question: q[wire::HEADER..qend].into(),
                bad: false,
                tx,
            },
        );
        let good = reply_for(&q);
        // From another address: dropped, not even marked.
        s.handle(&good, "127.0.0.1:5301".parse().unwrap());
        assert!(rx.try_recv().is_err());
        assert!(!lock(&s.pending)[&77].bad);
        // Another id: dropped.
        let mut other = good.clone();
        wire::set_id(&mut other, 78);
        s.handle(&other, server);
        assert!(rx.try_recv().is_err());
        // Right id, other question: marked bad, still pending.
        let mut wrong_q = good.clone();
        wrong_q[wire::HEADER + 1] = b'x';
        s.handle(&wrong_q, server);
        assert!(lock(&s.pending)[&77].bad);
        // Right id and question but truncated garbage: still pending.
        let mut garbage = good.clone();
        garbage[7] = 5; // claims five answers that are not there
        s.handle(&garbage, server);
        assert!(rx.try_recv().is_err());
        // Short packet.
        s.handle(&good[..5], server);
        // Finally the real reply.
        s.handle(&good, server);
        assert_eq!(rx.try_recv().unwrap().unwrap().id, 77);
        assert!(lock(&s.pending).is_empty());
        let c = s.counters.snapshot();
        assert_eq!((c.dropped, c.malformed, c.responses), (3, 2, 1));
    }

    #[tokio::test]
    async fn an_answered_query_does_not_remove_the_next_owner_of_its_id() {
        let counters = Arc::new(Counters::default());
        let pool = Pool::bind(1, true, false, &counters).unwrap();
        let server: SocketAddr = "127.0.0.1:5300".parse().unwrap();
        let mut q = Vec::new();
        let qend = wire::encode_query(0, "www.example.com", 1, &mut q).unwrap();
        let mut a = pool.register(server, &mut q, qend).unwrap();
        let id = a.id;
        let sock = pool.v4[0].clone();
        sock.handle(&reply_for(&q), server);
        assert!(matches!(
            a.wait(Duration::from_millis(10)).await,
            Exchange::Reply(_)
        ));
        // The id is free again and another query takes it before `a` is dropped.
        let (tx, mut rx) = oneshot::channel();
        lock(&sock.pending).insert(
            id,
            Pending {
                server,
                question: q[wire::HEADER..qend].into(),
                bad: false,
                tx,
            },
        );
        drop(a);
        sock.handle(&reply_for(&q), server);
        assert_eq!(rx.try_recv().unwrap().unwrap().id, id);
        // An unanswered query is forgotten when dropped.
        let b = pool.register(server, &mut q, qend).unwrap();
        let id = b.id;
        drop(b);
        assert!(!lock(&sock.pending).contains_key(&id));
        pool.shutdown();
    }

    /// A pool of one IPv4 socket and a plain loopback socket standing in for a server.
    fn pool_and_server() -> (Pool, std::net::UdpSocket, SocketAddr) {
        let pool = Pool::bind(1, true, false, &Arc::new(Counters::default())).unwrap();
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        (pool, server, addr)
    }

    /// A loopback server socket that reads what arrives within `wait`.
    fn drain(server: &std::net::UdpSocket, wait: Duration) -> Vec<Vec<u8>> {
        server.set_read_timeout(Some(wait)).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok((n, _)) = server.recv_from(&mut buf) {
            got.push(buf[..n].to_vec());
        }
        got
    }

    #[tokio::test]
    async fn a_refused_datagram_fails_its_query_and_the_batch_goes_on() {
        let (pool, server, good) = pool_and_server();
        // Linux refuses to send UDP to port 0 (EINVAL) before anything leaves.
        let bad: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut qs: Vec<(Vec<u8>, usize)> = ["a.example", "b.example", "c.example"]
            .iter()
            .map(|n| {
                let mut q = Vec::new();
                let qend = wire::encode_query(0, n, 1, &mut q).unwrap();
                (q, qend)
            })
            .collect();
        let [(qa, ea), (qb, eb), (qc, ec)] = &mut qs[..] else {
            unreachable!()
        };
        let mut a = pool.register(good, qa, *ea).unwrap();
        let mut b = pool.register(bad, qb, *eb).unwrap();
        let mut c = pool.register(good, qc, *ec).unwrap();
        // All three are queued before the send task runs: one batch.
        a.send(qa).unwrap();
        b.send(qb).unwrap();
        c.send(qc).unwrap();
        assert!(matches!(
            b.wait(Duration::from_secs(5)).await,
            Exchange::Io(e) if e.kind() == io::ErrorKind::InvalidInput
        ));
        let got = tokio::task::spawn_blocking(move || drain(&server, Duration::from_millis(300)))
            .await
            .unwrap();
        assert_eq!(got, vec![qa.clone(), qc.clone()]);
        drop((a, c));
        pool.shutdown();
    }

    #[tokio::test]
    async fn a_query_forgotten_before_its_datagram_leaves_is_not_sent() {
        let (pool, server, dest) = pool_and_server();
        let mut q1 = Vec::new();
        let e1 = wire::encode_query(0, "gone.example", 1, &mut q1).unwrap();
        let mut q2 = Vec::new();
        let e2 = wire::encode_query(0, "kept.example", 1, &mut q2).unwrap();
        let mut gone = pool.register(dest, &mut q1, e1).unwrap();
        gone.send(&q1).unwrap();
        drop(gone);
        let mut kept = pool.register(dest, &mut q2, e2).unwrap();
        kept.send(&q2).unwrap();
        let got = tokio::task::spawn_blocking(move || drain(&server, Duration::from_millis(300)))
            .await
            .unwrap();
        assert_eq!(got, vec![q2.clone()]);
        drop(kept);
        pool.shutdown();
    }

    #[tokio::test]
    async fn a_reply_too_large_for_its_slot_comes_back_as_truncated() {
        let (pool, server, dest) = pool_and_server();
        let mut q = Vec::new();
        let qend = wire::encode_query(0, "big.example", 16, &mut q).unwrap();
        let mut w = pool.register(dest, &mut q, qend).unwrap();
        w.send(&q).unwrap();
        tokio::task::spawn_blocking(move || {
            let mut buf = [0u8; 512];
            server
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let (n, from) = server.recv_from(&mut buf).unwrap();
            // The query echoed as a reply that claims one answer, padded well past
            // the receive slot.
            let mut reply = buf[..n].to_vec();
            reply[2] |= 0x80;
            reply[7] = 1;
            reply.resize(RECV_SLOT * 2, b'x');
            server.send_to(&reply, from).unwrap();
        })
        .await
        .unwrap();
        match w.wait(Duration::from_secs(5)).await {
            Exchange::Reply(m) => {
                assert!(m.truncated);
                assert!(m.answers.is_empty());
                assert_eq!(m.rcode, 0);
            }
            other => panic!("{other:?}"),
        }
        drop(w);
        pool.shutdown();
    }

    #[test]
    fn free_id_avoids_pending_ids() {
        let mut map = IdMap::default();
        for id in 0..=u16::MAX {
            if id != 4321 {
                let (tx, _) = oneshot::channel();
                map.insert(
                    id,
                    Pending {
                        server: "127.0.0.1:53".parse().unwrap(),
                        question: Box::new([]),
                        bad: false,
                        tx,
                    },
                );
            }
        }
        assert_eq!(free_id(&map), 4321);
    }
}
