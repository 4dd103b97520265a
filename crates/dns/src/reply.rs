//! Decoding replies: straight from the wire to what the resolver reads, in
//! presentation form.
//!
//! A reply is walked once. Every record of every section is checked for structure
//! (owner name, fixed fields, RDATA inside the message), and the RDATA of every type
//! servedby presents is decoded in full wherever it appears, so a reply that breaks
//! any of that is malformed as a whole. Only the answer section's records of the
//! types servedby asks for are kept, already as the strings stored in observations;
//! of the authority section only whether it holds an SOA (a negative answer) is kept.
//!
//! The rules follow the DNS RFCs as hickory-proto applies them, and the tests hold
//! this decoder to hickory's output on generated and mutated replies:
//!
//! - a compression pointer must point before the name that holds it, and a name read
//!   through a pointer must end before that name starts (so no loop is possible);
//! - a name is at most 255 bytes in wire form and a label at most 63;
//! - a record with empty RDATA carries no data (an "update" record) and is skipped;
//! - the RDATA of a presented type must be exactly as long as declared;
//! - an OPT record must be owned by the root, at most one in the additional section,
//!   and its extended RCODE bits extend the header's.
//!
//! Where servedby reads nothing (the RDATA of other types, EDNS options) the decoder
//! checks only that the record fits in the message.

use std::fmt::{self, Write as _};
use std::net::Ipv6Addr;

use crate::wire::HEADER;
use crate::RecordType;

/// The type code of OPT (EDNS0).
const OPT: u16 = 41;

/// The most bytes a name takes in wire form, root label included.
const MAX_NAME: usize = 255;

/// What the resolver reads of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The message id.
    pub(crate) id: u16,
    /// The response code, with the extended bits of an OPT record.
    pub(crate) rcode: u16,
    /// Whether the TC bit is set.
    pub(crate) truncated: bool,
    /// The answer section's records of the types servedby asks for, in order.
    pub(crate) answers: Vec<Answer>,
    /// Whether the authority section holds an SOA record.
    pub(crate) negative: bool,
}

/// One answer record in presentation form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The owner: lowercase, no trailing dot (the root is `.`), escaped as in zone files.
    pub(crate) owner: String,
    /// The record type.
    pub(crate) rtype: RecordType,
    /// The TTL in seconds.
    pub(crate) ttl: u32,
    /// The value as [`servedby_model::DnsRecord::value`] holds it; for a CNAME the
    /// target name.
    pub(crate) value: String,
}

/// Response codes by their conventional names.
pub(crate) mod rcode {
    pub(crate) const NOERROR: u16 = 0;
    pub(crate) const FORMERR: u16 = 1;
    pub(crate) const SERVFAIL: u16 = 2;
    pub(crate) const NXDOMAIN: u16 = 3;
    pub(crate) const NOTIMP: u16 = 4;
    pub(crate) const REFUSED: u16 = 5;
}

/// Why a reply is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The message ends inside a field.
    Short,
    /// A length octet with the reserved 01 or 10 high bits.
    LabelType(u8),
    /// A compression pointer that does not point before its name.
    ForwardPointer,
    /// A name read through a pointer that runs into the name that points to it.
    Overlap,
    /// A name longer than 255 bytes.
    LongName,
    /// RDATA shorter or longer than its declared length.
    RdataLength(RecordType),
    /// A CAA tag that is empty, longer than 15 bytes or not alphanumeric.
    CaaTag,
    /// An OPT record not owned by the root.
    OptOwner,
    /// More than one OPT record in the additional section.
    TwoOpts,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Short => f.write_str("message ends inside a field"),
            Self::LabelType(b) => write!(f, "reserved label type in length octet {b:#04x}"),
            Self::ForwardPointer => f.write_str("compression pointer does not point backwards"),
            Self::Overlap => f.write_str("compressed name overlaps the name pointing to it"),
            Self::LongName => f.write_str("name longer than 255 bytes"),
            Self::RdataLength(t) => write!(f, "{t} record data of the wrong length"),
            Self::CaaTag => f.write_str("CAA tag empty, too long or not alphanumeric"),
            Self::OptOwner => f.write_str("OPT record not owned by the root"),
            Self::TwoOpts => f.write_str("more than one OPT record"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The section a record is read from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Answer,
    Authority,
    Additional,
}

/// Decodes a reply. The question section is only walked over: both receive paths
/// (UDP and TCP) have already compared it byte for byte with the query's.
pub(crate) fn decode(msg: &[u8]) -> Result<Reply, DecodeError> {
    let head = msg.get(..HEADER).ok_or(DecodeError::Short)?;
    let count = |i: usize| usize::from(u16::from_be_bytes([head[i], head[i + 1]]));
    let mut reply = Reply {
        id: u16::from_be_bytes([head[0], head[1]]),
        rcode: u16::from(head[3] & 0x0f),
        truncated: head[2] & 0x02 != 0,
        answers: Vec::with_capacity(count(6).min(16)),
        negative: false,
    };
    let mut r = Reader { msg, pos: HEADER };
    for _ in 0..count(4) {
        r.skip_name()?;
        r.take(4)?;
    }
    let mut saw_opt = false;
    let sections = [
        (Section::Answer, count(6)),
        (Section::Authority, count(8)),
        (Section::Additional, count(10)),
    ];
    for (section, n) in sections {
        for _ in 0..n {
            let keep = section == Section::Answer;
            // Sized for most names at once: growing by doubling from nothing would
            // cost several allocations per name.
            let mut owner = if keep {
                String::with_capacity(OWNER_CAPACITY)
            } else {
                String::new()
            };
            let root = if keep {
                r.name(&mut owner)?
            } else {
                r.skip_name()?
            };
            let code = r.u16()?;
            let _class = r.u16()?;
            let ttl = r.u32()?;
            let len = usize::from(r.u16()?);
            let start = r.pos;
            let end = start.checked_add(len).filter(|&e| e <= msg.len());
            let end = end.ok_or(DecodeError::Short)?;
            if code == OPT {
                if !root {
                    return Err(DecodeError::OptOwner);
                }
                if section == Section::Additional {
                    if saw_opt {
                        return Err(DecodeError::TwoOpts);
                    }
                    saw_opt = true;
                    // TTL: extended RCODE (high 8 bits), version, flags.
                    reply.rcode |= ((ttl >> 24) as u16) << 4;
                }
            }
            let rtype = RecordType::from_code(code).filter(|_| len > 0);
            let Some(rtype) = rtype else {
                r.pos = end;
                continue;
            };
            let mut value = match rtype {
                RecordType::A if keep => String::with_capacity(15),
                RecordType::Aaaa if keep => String::with_capacity(39),
                _ => String::new(),
            };
            let out = keep.then_some(&mut value);
            r.rdata(rtype, len, out)?;
            if r.pos != end {
                return Err(DecodeError::RdataLength(rtype));
            }
            if section == Section::Authority && rtype == RecordType::Soa {
                reply.negative = true;
            }
            if keep {
                reply.answers.push(Answer {
                    owner,
                    rtype,
                    ttl,
                    value,
                });
            }
        }
    }
    Ok(reply)
}

/// Room reserved for an answer's owner name: most names fit.
const OWNER_CAPACITY: usize = 48;

/// A cursor over a message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let s = self
            .msg
            .get(self.pos..self.pos + n)
            .ok_or(DecodeError::Short)?;
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a name, appending its presentation form to `out`; true for the root.
    fn name(&mut self, out: &mut String) -> Result<bool, DecodeError> {
        let (end, root) = walk_name(self.msg, self.pos, Some(out))?;
        self.pos = end;
        Ok(root)
    }

    /// Reads a name, checking it as [`Reader::name`] does without presenting it;
    /// true for the root.
    fn skip_name(&mut self) -> Result<bool, DecodeError> {
        let (end, root) = walk_name(self.msg, self.pos, None)?;
        self.pos = end;
        Ok(root)
    }

    /// Reads the RDATA of a presented type (`len` > 0 bytes declared), writing its
    /// value to `out` when given.
    fn rdata(
        &mut self,
        rtype: RecordType,
        len: usize,
        out: Option<&mut String>,
    ) -> Result<(), DecodeError> {
        match rtype {
            RecordType::A => {
                let b = self.take(4)?;
                if let Some(out) = out {
                    push_ipv4(out, [b[0], b[1], b[2], b[3]]);
                }
            }
            RecordType::Aaaa => {
                let b: [u8; 16] = self.take(16)?.try_into().expect("16 bytes");
                if let Some(out) = out {
                    let _ = write!(out, "{}", Ipv6Addr::from(b));
                }
            }
            RecordType::Cname | RecordType::Ns | RecordType::Ptr => {
                match out {
                    Some(out) => self.name(out)?,
                    None => self.skip_name()?,
                };
            }
            RecordType::Mx => {
                let pref = self.u16()?;
                match out {
                    Some(out) => {
                        out.push_str(itoa::Buffer::new().format(pref));
                        out.push(' ');
                        self.name(out)?;
                    }
                    None => {
                        self.skip_name()?;
                    }
                }
            }
            RecordType::Txt => {
                // Character-strings until the declared length is used up; the last
                // one may not run past it (checked by the caller).
                // The strings are joined before UTF-8 decoding: a character may be
                // split across two of them.
                let start = self.pos;
                let mut bytes = out.as_ref().map(|_| Vec::with_capacity(len));
                while self.pos - start < len {
                    let n = usize::from(self.u8()?);
                    let s = self.take(n)?;
                    if let Some(b) = bytes.as_mut() {
                        b.extend_from_slice(s);
                    }
                }
                if let (Some(out), Some(bytes)) = (out, bytes) {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            RecordType::Caa => {
                let flags = self.u8()?;
                let tag_len = usize::from(self.u8()?);
                let value_len = len.checked_sub(tag_len + 2).ok_or(DecodeError::CaaTag)?;
                if !(1..=15).contains(&tag_len) {
                    return Err(DecodeError::CaaTag);
                }
                let tag = self.take(tag_len)?;
                if !tag.iter().all(u8::is_ascii_alphanumeric) {
                    return Err(DecodeError::CaaTag);
                }
                let value = self.take(value_len)?;
                if let Some(out) = out {
                    out.push_str(itoa::Buffer::new().format(flags));
                    out.push(' ');
                    // Alphanumeric ASCII, checked above.
                    out.extend(tag.iter().map(|&b| char::from(b)));
                    out.push_str(" \"");
                    out.push_str(&String::from_utf8_lossy(value));
                    out.push('"');
                }
            }
            RecordType::Soa => {
                match out {
                    Some(out) => {
                        self.name(out)?;
                        out.push(' ');
                        self.name(out)?;
                        let mut num = itoa::Buffer::new();
                        for _ in 0..5 {
                            out.push(' ');
                            out.push_str(num.format(self.u32()?));
                        }
                    }
                    None => {
                        self.skip_name()?;
                        self.skip_name()?;
                        self.take(20)?;
                    }
                };
            }
        }
        Ok(())
    }
}

/// Walks the name at `start`, following compression pointers, and returns the
/// position just after it in the record (after the first pointer, if any) and
/// whether it is the root. With
/// `out`, appends the name in presentation form: labels joined by dots, ASCII
/// letters lowercased, other bytes escaped as in zone files (`\.` for a printable
/// one, `\NNN` in octal for the rest); the root alone is `.`.
/// Appends the dotted-quad form of an IPv4 address, as `Ipv4Addr`'s `Display` writes
/// it, without going through the formatting machinery (an A record's value is the
/// one string every A lookup presents).
fn push_ipv4(out: &mut String, octets: [u8; 4]) {
    let mut buf = itoa::Buffer::new();
    for (i, o) in octets.into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(buf.format(o));
    }
}

fn walk_name(
    msg: &[u8],
    start: usize,
    mut out: Option<&mut String>,
) -> Result<(usize, bool), DecodeError> {
    let mut pos = start;
    // Where the name continues in the record, once a pointer has been followed.
    let mut after = None;
    // The start of the stretch being read: a pointer must point before it, and the
    // stretch it points to must end before it.
    let mut stretch = start;
    let mut limit = None;
    let mut wire_len = 1;
    let mut labels = 0usize;
    loop {
        if limit.is_some_and(|l| pos >= l) {
            return Err(DecodeError::Overlap);
        }
        let b = *msg.get(pos).ok_or(DecodeError::Short)?;
        match b & 0xc0 {
            0x00 if b == 0 => {
                pos += 1;
                break;
            }
            0x00 => {
                let n = usize::from(b);
                let label = msg.get(pos + 1..pos + 1 + n).ok_or(DecodeError::Short)?;
                wire_len += n + 1;
                if wire_len > MAX_NAME {
                    return Err(DecodeError::LongName);
                }
                if let Some(out) = out.as_deref_mut() {
                    if labels > 0 {
                        out.push('.');
                    }
                    present_label(label, out);
                }
                labels += 1;
                pos += 1 + n;
            }
            0xc0 => {
                let lo = *msg.get(pos + 1).ok_or(DecodeError::Short)?;
                let target = usize::from(u16::from_be_bytes([b & 0x3f, lo]));
                if target >= stretch {
                    return Err(DecodeError::ForwardPointer);
                }
                after.get_or_insert(pos + 2);
                limit = Some(stretch);
                stretch = target;
                pos = target;
            }
            _ => return Err(DecodeError::LabelType(b)),
        }
    }
    if labels == 0 {
        if let Some(out) = out {
            out.push('.');
        }
    }
    Ok((after.unwrap_or(pos), labels == 0))
}

/// Appends one label in presentation form.
fn present_label(label: &[u8], out: &mut String) {
    for (i, &b) in label.iter().enumerate() {
        let first = i == 0;
        let safe =
            b.is_ascii_alphanumeric() || b == b'_' || (b == b'-' && !first) || (b == b'*' && first);
        if safe {
            out.push(char::from(b.to_ascii_lowercase()));
        } else if (0x21..0x7f).contains(&b) {
            out.push('\\');
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\{b:03o}");
        }
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::Message;
    use hickory_proto::rr::{Name, RData, Record};
    use proptest::prelude::*;

    use super::*;

    /// The reply as hickory-proto decodes and presents it: the oracle.
    fn oracle(msg: &[u8]) -> Option<Reply> {
        let m = Message::from_vec(msg).ok()?;
        Some(Reply {
            id: m.id(),
            rcode: u16::from(m.response_code()),
            truncated: m.truncated(),
            answers: m.answers().iter().filter_map(oracle_answer).collect(),
            negative: m
                .name_servers()
                .iter()
                .any(|r| matches!(r.data(), RData::SOA(_))),
        })
    }

    fn oracle_name(name: &Name) -> String {
        let mut s = name.to_ascii();
        if s.len() > 1 && s.ends_with('.') {
            s.pop();
        }
        s.make_ascii_lowercase();
        s
    }

    fn oracle_answer(rec: &Record) -> Option<Answer> {
        let (rtype, value) = match rec.data() {
            RData::A(a) => (RecordType::A, a.0.to_string()),
            RData::AAAA(a) => (RecordType::Aaaa, a.0.to_string()),
            RData::CNAME(n) => (RecordType::Cname, oracle_name(&n.0)),
            RData::NS(n) => (RecordType::Ns, oracle_name(&n.0)),
            RData::PTR(n) => (RecordType::Ptr, oracle_name(&n.0)),
            RData::MX(mx) => (
                RecordType::Mx,
                format!("{} {}", mx.preference(), oracle_name(mx.exchange())),
            ),
            RData::TXT(txt) => {
                let bytes: Vec<u8> = txt.txt_data().iter().flatten().copied().collect();
                (
                    RecordType::Txt,
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            }
            RData::CAA(caa) => (RecordType::Caa, caa.to_string()),
            RData::SOA(soa) => (
                RecordType::Soa,
                format!(
                    "{} {} {} {} {} {} {}",
                    oracle_name(soa.mname()),
                    oracle_name(soa.rname()),
                    soa.serial(),
                    soa.refresh() as u32,
                    soa.retry() as u32,
                    soa.expire() as u32,
                    soa.minimum()
                ),
            ),
            _ => return None,
        };
        Some(Answer {
            owner: oracle_name(rec.name()),
            rtype,
            ttl: rec.ttl(),
            value,
        })
    }

    /// A private-use type: hickory keeps its RDATA as unknown bytes.
    const PRIVATE: u16 = 65280;

    /// Builds replies byte by byte, compressing names against earlier ones.
    struct Builder {
        msg: Vec<u8>,
        /// Offsets of label sequences written so far (pointer targets).
        labels_at: Vec<usize>,
    }

    /// A name to write: its labels, then maybe a pointer.
    #[derive(Debug, Clone)]
    struct NameSpec {
        labels: Vec<Vec<u8>>,
        pointer: Option<Pointer>,
    }

    #[derive(Debug, Clone, Copy)]
    enum Pointer {
        /// To a label sequence written before the name (index into `labels_at`,
        /// modulo its length): valid compression.
        Label(usize),
        /// To any byte before the pointer itself (offset modulo the length so far),
        /// including the name's own labels: mostly invalid.
        Byte(usize),
    }

    #[derive(Debug, Clone)]
    enum Data {
        A([u8; 4]),
        Aaaa([u8; 16]),
        Name(u16, NameSpec),
        Mx(u16, NameSpec),
        Txt(Vec<Vec<u8>>),
        Caa(u8, Vec<u8>, Vec<u8>),
        Soa(NameSpec, NameSpec, [u32; 5]),
        Raw(u16, Vec<u8>),
    }

    #[derive(Debug, Clone)]
    struct RecordSpec {
        owner: NameSpec,
        ttl: u32,
        data: Data,
    }

    #[derive(Debug, Clone)]
    struct ReplySpec {
        id: u16,
        tc: bool,
        rcode: u8,
        question: NameSpec,
        sections: [Vec<RecordSpec>; 3],
        opt: Option<u32>,
    }

    impl Builder {
        fn name(&mut self, spec: &NameSpec) {
            for label in &spec.labels {
                self.labels_at.push(self.msg.len());
                self.msg.push(label.len() as u8);
                self.msg.extend_from_slice(label);
            }
            match spec.pointer {
                Some(Pointer::Byte(i)) => {
                    let at = (i % self.msg.len()) as u16 & 0x3fff;
                    self.msg.extend_from_slice(&(0xc000 | at).to_be_bytes());
                }
                Some(Pointer::Label(i)) if !self.labels_at.is_empty() => {
                    // Only sequences written before this name started are valid
                    // targets; the labels just written come last in the list.
                    let before = self.labels_at.len() - spec.labels.len();
                    if before == 0 {
                        self.msg.push(0);
                    } else {
                        let at = self.labels_at[i % before] as u16;
                        self.msg.extend_from_slice(&(0xc000 | at).to_be_bytes());
                    }
                }
                _ => self.msg.push(0),
            }
        }

        fn record(&mut self, r: &RecordSpec) {
            self.name(&r.owner);
            let code = match &r.data {
                Data::A(_) => 1,
                Data::Aaaa(_) => 28,
                Data::Name(code, _) => *code,
                Data::Mx(..) => 15,
                Data::Txt(_) => 16,
                Data::Caa(..) => 257,
                Data::Soa(..) => 6,
                Data::Raw(code, _) => *code,
            };
            self.msg.extend_from_slice(&code.to_be_bytes());
            self.msg.extend_from_slice(&1u16.to_be_bytes());
            self.msg.extend_from_slice(&r.ttl.to_be_bytes());
            let len_at = self.msg.len();
            self.msg.extend_from_slice(&[0, 0]);
            match &r.data {
                Data::A(a) => self.msg.extend_from_slice(a),
                Data::Aaaa(a) => self.msg.extend_from_slice(a),
                Data::Name(_, n) => self.name(n),
                Data::Mx(pref, n) => {
                    self.msg.extend_from_slice(&pref.to_be_bytes());
                    self.name(n);
                }
                Data::Txt(strings) => {
                    for s in strings {
                        self.msg.push(s.len() as u8);
                        self.msg.extend_from_slice(s);
                    }
                }
                Data::Caa(flags, tag, value) => {
                    self.msg.push(*flags);
                    self.msg.push(tag.len() as u8);
                    self.msg.extend_from_slice(tag);
                    self.msg.extend_from_slice(value);
                }
                Data::Soa(m, r, nums) => {
                    self.name(m);
                    self.name(r);
                    for n in nums {
                        self.msg.extend_from_slice(&n.to_be_bytes());
                    }
                }
                Data::Raw(_, bytes) => self.msg.extend_from_slice(bytes),
            }
            let len = (self.msg.len() - len_at - 2) as u16;
            self.msg[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
        }
    }

    fn build(spec: &ReplySpec) -> Vec<u8> {
        let mut b = Builder {
            msg: Vec::new(),
            labels_at: Vec::new(),
        };
        let [an, ns, ar] = &spec.sections;
        let counts = [
            1,
            an.len(),
            ns.len(),
            ar.len() + usize::from(spec.opt.is_some()),
        ];
        b.msg.extend_from_slice(&spec.id.to_be_bytes());
        b.msg.push(0x80 | if spec.tc { 0x02 } else { 0 });
        b.msg.push(spec.rcode & 0x0f);
        for c in counts {
            b.msg.extend_from_slice(&(c as u16).to_be_bytes());
        }
        b.name(&spec.question);
        b.msg.extend_from_slice(&[0, 1, 0, 1]);
        for section in &spec.sections {
            for r in section {
                b.record(r);
            }
        }
        if let Some(ttl) = spec.opt {
            b.msg.push(0);
            b.msg.extend_from_slice(&41u16.to_be_bytes());
            b.msg.extend_from_slice(&1232u16.to_be_bytes());
            b.msg.extend_from_slice(&ttl.to_be_bytes());
            b.msg.extend_from_slice(&[0, 0]);
        }
        b.msg
    }

    fn label() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => "[a-zA-Z0-9]{1,10}".prop_map(String::into_bytes),
            2 => "[-_*a-z0-9.]{1,6}".prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 1..8),
            1 => Just(vec![b'x'; 63]),
        ]
    }

    fn name() -> impl Strategy<Value = NameSpec> {
        let pointer = prop_oneof![
            3 => Just(None),
            6 => any::<usize>().prop_map(|i| Some(Pointer::Label(i))),
            1 => any::<usize>().prop_map(|i| Some(Pointer::Byte(i))),
        ];
        let labels = prop_oneof![
            9 => prop::collection::vec(label(), 0..4),
            // Near the 255-byte limit, on either side of it.
            1 => prop::collection::vec(48usize..64, 3..6)
                .prop_map(|lens| lens.into_iter().map(|n| vec![b'l'; n]).collect()),
        ];
        (labels, pointer).prop_map(|(labels, pointer)| NameSpec { labels, pointer })
    }

    fn data() -> impl Strategy<Value = Data> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(Data::A),
            any::<[u8; 16]>().prop_map(Data::Aaaa),
            (prop::sample::select(vec![2u16, 5, 12]), name()).prop_map(|(c, n)| Data::Name(c, n)),
            (any::<u16>(), name()).prop_map(|(p, n)| Data::Mx(p, n)),
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 1..4)
                .prop_map(Data::Txt),
            (
                any::<u8>(),
                prop_oneof![
                    4 => "issue|issuewild|iodef|[a-zA-Z0-9]{0,17}".prop_map(String::into_bytes),
                    1 => prop::collection::vec(any::<u8>(), 0..17),
                ],
                prop_oneof![
                    "[ -~]{0,30}".prop_map(String::into_bytes),
                    prop::collection::vec(any::<u8>(), 0..12),
                ],
            )
                .prop_map(|(f, t, v)| Data::Caa(f, t, v)),
            (name(), name(), any::<[u32; 5]>()).prop_map(|(m, r, n)| Data::Soa(m, r, n)),
            (
                prop::sample::select(vec![PRIVATE, 1, 5, 6, 16, 28, 257]),
                prop::collection::vec(any::<u8>(), 0..6)
            )
                .prop_map(|(c, b)| Data::Raw(c, b)),
        ]
    }

    fn record() -> impl Strategy<Value = RecordSpec> {
        (name(), any::<u32>(), data()).prop_map(|(owner, ttl, data)| RecordSpec {
            owner,
            ttl,
            data,
        })
    }

    fn reply() -> impl Strategy<Value = ReplySpec> {
        let section = || prop::collection::vec(record(), 0..5);
        (
            any::<u16>(),
            any::<bool>(),
            0u8..16,
            name(),
            [section(), section(), section()],
            prop::option::of(any::<u32>()),
        )
            .prop_map(|(id, tc, rcode, question, sections, opt)| ReplySpec {
                id,
                tc,
                rcode,
                question,
                sections,
                opt,
            })
    }

    /// Whether hickory may reject `msg` for a reason servedby does not check: RDATA
    /// of a type it does not present, or EDNS options.
    fn beyond_our_checks(msg: &[u8]) -> bool {
        if msg.len() < HEADER {
            return false;
        }
        let mut r = Reader { msg, pos: HEADER };
        let count = |i: usize| usize::from(u16::from_be_bytes([msg[i], msg[i + 1]]));
        let (qd, rest) = (count(4), count(6) + count(8) + count(10));
        for _ in 0..qd {
            if r.skip_name().is_err() || r.take(4).is_err() {
                return false;
            }
        }
        for _ in 0..rest {
            let Ok(_) = r.skip_name() else { return false };
            let (Ok(code), Ok(_), Ok(_), Ok(len)) = (r.u16(), r.u16(), r.u32(), r.u16()) else {
                return false;
            };
            if len > 0 && code != PRIVATE && RecordType::from_code(code).is_none() {
                return true;
            }
            if r.take(usize::from(len)).is_err() {
                return false;
            }
        }
        false
    }

    #[test]
    fn ipv4_presentation_matches_std() {
        let edges = [0u8, 1, 9, 10, 99, 100, 199, 200, 254, 255];
        for a in edges {
            for b in edges {
                let octets = [a, b, 255 - a, b / 2];
                let mut out = String::from("x ");
                push_ipv4(&mut out, octets);
                assert_eq!(out, format!("x {}", std::net::Ipv4Addr::from(octets)));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Well-formed and deliberately odd replies decode exactly as hickory does.
        #[test]
        fn decodes_as_hickory_does(spec in reply()) {
            let msg = build(&spec);
            prop_assert_eq!(decode(&msg).ok(), oracle(&msg));
        }

        /// Corrupted replies: whatever hickory accepts is decoded the same, and what
        /// it rejects is rejected too, unless the fault lies where servedby reads
        /// nothing.
        #[test]
        fn corrupted_replies_are_judged_as_hickory_does(
            spec in reply(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in prop::option::weighted(0.2, any::<prop::sample::Index>()),
        ) {
            let mut msg = build(&spec);
            for (at, byte) in edits {
                let i = at.index(msg.len());
                msg[i] = byte;
            }
            if let Some(cut) = cut {
                msg.truncate(cut.index(msg.len()));
            }
            let ours = decode(&msg).ok();
            let theirs = oracle(&msg);
            if theirs.is_some() || !beyond_our_checks(&msg) {
                prop_assert_eq!(ours, theirs);
            }
        }

        /// Arbitrary bytes never panic.
        #[test]
        fn arbitrary_bytes_do_not_panic(msg in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode(&msg);
        }
    }

    fn reply_with(answers: &[RecordSpec]) -> Vec<u8> {
        build(&ReplySpec {
            id: 7,
            tc: false,
            rcode: 0,
            question: NameSpec {
                labels: vec![b"www".to_vec(), b"example".to_vec(), b"com".to_vec()],
                pointer: None,
            },
            sections: [answers.to_vec(), Vec::new(), Vec::new()],
            opt: None,
        })
    }

    fn labels(names: &[&[u8]]) -> NameSpec {
        NameSpec {
            labels: names.iter().map(|l| l.to_vec()).collect(),
            pointer: None,
        }
    }

    #[test]
    fn presents_names_as_zone_files_do() {
        let msg = reply_with(&[RecordSpec {
            owner: labels(&[b"A-b_c", b"x.y", b"-z*", b"*\x00\xff", b"COM"]),
            ttl: 60,
            data: Data::A([192, 0, 2, 1]),
        }]);
        let r = decode(&msg).unwrap();
        assert_eq!(r.answers[0].owner, "a-b_c.x\\.y.\\-z\\*.*\\000\\377.com");
        assert_eq!(Some(r), oracle(&msg));
    }

    #[test]
    fn follows_pointers_backwards_only() {
        // An answer owned by a pointer to the question's name.
        let mut msg = reply_with(&[RecordSpec {
            owner: NameSpec {
                labels: vec![b"mail".to_vec()],
                pointer: Some(Pointer::Label(1)),
            },
            ttl: 1,
            data: Data::Name(5, labels(&[b"target", b"net"])),
        }]);
        let r = decode(&msg).unwrap();
        assert_eq!(r.answers[0].owner, "mail.example.com");
        assert_eq!(r.answers[0].value, "target.net");
        // Make the question's name point at itself: a loop.
        msg[HEADER] = 0xc0;
        msg[HEADER + 1] = HEADER as u8;
        assert_eq!(decode(&msg), Err(DecodeError::ForwardPointer));
    }

    #[test]
    fn reads_extended_rcode_and_negative_answers() {
        let msg = build(&ReplySpec {
            id: 9,
            tc: true,
            rcode: 3,
            question: labels(&[b"nx", b"example"]),
            sections: [
                Vec::new(),
                vec![RecordSpec {
                    owner: labels(&[b"example"]),
                    ttl: 300,
                    data: Data::Soa(
                        labels(&[b"ns", b"example"]),
                        labels(&[b"hostmaster", b"example"]),
                        [1, 2, 3, 4, 5],
                    ),
                }],
                Vec::new(),
            ],
            opt: Some(0x0100_0000),
        });
        let r = decode(&msg).unwrap();
        assert_eq!(
            (r.id, r.rcode, r.truncated, r.negative),
            (9, 0x13, true, true)
        );
        assert_eq!(Some(r), oracle(&msg));
    }

    #[test]
    fn rejects_rdata_of_the_wrong_length() {
        let msg = reply_with(&[RecordSpec {
            owner: labels(&[b"www", b"example", b"com"]),
            ttl: 1,
            data: Data::Raw(1, vec![1, 2, 3, 4, 5]),
        }]);
        assert_eq!(decode(&msg), Err(DecodeError::RdataLength(RecordType::A)));
        assert_eq!(oracle(&msg), None);
    }

    #[test]
    fn opt_records_must_be_single_and_owned_by_the_root() {
        let with_additional = |owner: NameSpec| {
            build(&ReplySpec {
                id: 1,
                tc: false,
                rcode: 0,
                question: labels(&[b"example"]),
                sections: [
                    Vec::new(),
                    Vec::new(),
                    vec![RecordSpec {
                        owner,
                        ttl: 0,
                        data: Data::Raw(OPT, Vec::new()),
                    }],
                ],
                opt: Some(0),
            })
        };
        let two = with_additional(labels(&[]));
        assert_eq!(decode(&two), Err(DecodeError::TwoOpts));
        assert_eq!(oracle(&two), None);
        let named = with_additional(labels(&[b"example"]));
        assert_eq!(decode(&named), Err(DecodeError::OptOwner));
        assert_eq!(oracle(&named), None);
    }
}
