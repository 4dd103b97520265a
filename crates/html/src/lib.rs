//! A streaming, bounded-memory extractor of the third-party URLs a page loads or links.
//!
//! The prober hands the body of the landed page to an [`Extractor`] chunk by chunk as
//! it arrives; the extractor keeps only what it needs to finish the token it is in
//! (at most [`Limits::max_tag_bytes`]) and a few bytes of inline script, so memory
//! stays bounded whatever the page. Output does not depend on how the body was cut
//! into chunks.
//!
//! The tokenizer is written by hand rather than built on a full HTML5 parser: servedby
//! needs only start tags, a handful of attributes and inline script text, and must read
//! hundreds of megabytes per second, so plain text is skipped with `memchr` and only
//! the tags that can carry a URL have their attributes parsed. It follows the WHATWG
//! tokenizer where it matters for URLs: comments hide tags, the text of `script`,
//! `style`, `textarea`, `title` (and the other raw-text elements) is never read as
//! markup, quoted attribute values may contain `>`, and the first `<base href>` sets
//! the base URL.
//!
//! ```
//! let page = url::Url::parse("https://example.com/").unwrap();
//! let mut extractor = servedby_html::Extractor::new(&page, servedby_html::Limits::default());
//! extractor.feed(b"<script src=\"https://www.googletagmanager.com/gtag/js?id=G-ABC123DEF4\">");
//! extractor.feed(b"</script><a href=/about>About</a>");
//! let html = extractor.finish();
//! assert_eq!(html.resources.len(), 1);
//! assert_eq!(html.resources[0].host, "www.googletagmanager.com");
//! assert_eq!(html.loader_ids[0].id, "G-ABC123DEF4");
//! ```

mod entities;
mod fast;
mod loader;
mod tokenizer;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use memchr::memchr;
use servedby_model::{HtmlData, LoaderId, Resource, ResourceUsage};
use url::Url;

use crate::entities::Context;
use crate::loader::ScriptScanner;
use crate::tokenizer::{Attrs, Class, RawEnd, Scan};

/// Bounds on the work and memory one page may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Resources kept per page; later ones are dropped (elements are still counted).
    pub max_resources: usize,
    /// A tag, comment or doctype longer than this is skipped rather than buffered.
    pub max_tag_bytes: usize,
    /// A resolved URL longer than this is cut (fragment, then query, then path),
    /// keeping its host.
    pub max_url_bytes: usize,
    /// Distinct loader ids kept per page.
    pub max_loader_ids: usize,
    /// Distinct `<meta name="generator">` values kept per page.
    pub max_generators: usize,
    /// Characters kept of the title.
    pub max_title_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_resources: 5_000,
            max_tag_bytes: 64 * 1024,
            max_url_bytes: 4 * 1024,
            max_loader_ids: 256,
            max_generators: 16,
            max_title_chars: 512,
        }
    }
}

/// Characters kept of one generator value.
const MAX_GENERATOR_CHARS: usize = 256;
/// URLs taken from one `srcset`.
const MAX_SRCSET_CANDIDATES: usize = 64;

/// Link relations whose target the browser fetches (or connects to) while rendering.
const LOAD_RELS: &[&str] = &[
    "stylesheet",
    "preconnect",
    "dns-prefetch",
    "preload",
    "modulepreload",
    "prefetch",
    "prerender",
    "icon",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "mask-icon",
    "manifest",
];

/// Elements whose text is not markup (WHATWG raw text and escapable raw text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawKind {
    Script,
    Style,
    Textarea,
    Title,
    Xmp,
    Iframe,
    Noembed,
    Noframes,
}

impl RawKind {
    fn name(self) -> &'static [u8] {
        match self {
            Self::Script => b"script",
            Self::Style => b"style",
            Self::Textarea => b"textarea",
            Self::Title => b"title",
            Self::Xmp => b"xmp",
            Self::Iframe => b"iframe",
            Self::Noembed => b"noembed",
            Self::Noframes => b"noframes",
        }
    }
}

/// The elements the extractor acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    Script,
    Link,
    Iframe,
    Img,
    Source,
    Video,
    Audio,
    Embed,
    Object,
    Form,
    A,
    Base,
    Meta,
    /// A raw-text element with no URL attribute.
    Raw(RawKind),
    Other,
}

fn element(name: &[u8]) -> Element {
    let mut lower = [0u8; 8];
    if name.len() > lower.len() {
        return Element::Other;
    }
    for (l, b) in lower.iter_mut().zip(name) {
        *l = b.to_ascii_lowercase();
    }
    match &lower[..name.len()] {
        b"a" => Element::A,
        b"img" => Element::Img,
        b"link" => Element::Link,
        b"script" => Element::Script,
        b"meta" => Element::Meta,
        b"iframe" => Element::Iframe,
        b"source" => Element::Source,
        b"video" => Element::Video,
        b"audio" => Element::Audio,
        b"embed" => Element::Embed,
        b"object" => Element::Object,
        b"form" => Element::Form,
        b"base" => Element::Base,
        b"title" => Element::Raw(RawKind::Title),
        b"style" => Element::Raw(RawKind::Style),
        b"textarea" => Element::Raw(RawKind::Textarea),
        b"xmp" => Element::Raw(RawKind::Xmp),
        b"noembed" => Element::Raw(RawKind::Noembed),
        b"noframes" => Element::Raw(RawKind::Noframes),
        _ => Element::Other,
    }
}

impl Element {
    /// The raw-text mode the element starts, if any.
    fn raw_kind(self) -> Option<RawKind> {
        match self {
            Self::Script => Some(RawKind::Script),
            Self::Iframe => Some(RawKind::Iframe),
            Self::Raw(kind) => Some(kind),
            _ => None,
        }
    }
}

/// What the tokenizer is doing between calls.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Ordinary content: looking for the next `<`.
    Data,
    /// Inside a raw-text element: looking for its end tag.
    Raw(RawKind),
    /// Skipping the rest of an overlong token; then continue in raw mode if given.
    Skip(Scan, Option<RawKind>),
}

/// The result of handling the token at some index.
enum Step {
    /// Continue at this index.
    Advance(usize),
    /// The token starting at this index is incomplete: keep the bytes from there on
    /// for the next chunk.
    Wait(usize),
    /// The whole slice was consumed (an overlong token is being skipped).
    Consumed,
}

/// The `<title>` of the page: only the first one counts.
#[derive(Debug)]
enum Title {
    Waiting,
    Collecting(Vec<u8>),
    Done(Option<String>),
}

/// Distinct loader ids, in order of discovery, up to a limit.
#[derive(Debug)]
struct Loaders {
    ids: Vec<LoaderId>,
    seen: HashSet<(&'static str, String)>,
    max: usize,
}

impl Loaders {
    fn add(&mut self, kind: &'static str, id: String) {
        if self.ids.len() >= self.max || self.seen.contains(&(kind, id.clone())) {
            return;
        }
        self.seen.insert((kind, id.clone()));
        self.ids.push(LoaderId {
            kind: kind.to_owned(),
            id,
        });
    }
}

/// Extracts third-party URLs, loader ids, generators and the title from one page,
/// fed in chunks of any size.
#[derive(Debug)]
pub struct Extractor {
    page: Url,
    page_host: Option<String>,
    /// The base URL from the first `<base href>`, when it resolved.
    base: Option<Url>,
    base_seen: bool,
    /// Whether relative URLs resolve to the page's own host (so can be dropped unparsed).
    base_is_page_host: bool,
    limits: Limits,
    mode: Mode,
    /// The unfinished token (or undecided `<`) from the end of the last chunk.
    carry: Vec<u8>,
    /// How far the token at the start of `carry` was already scanned, and the scan state.
    hint: Option<(usize, Scan)>,
    script: ScriptScanner,
    title: Title,
    loaders: Loaders,
    resources: Vec<Resource>,
    /// Resource URLs kept so far, each with a bit per `(element, usage)` it was kept
    /// for (see [`dedup_bit`]); keyed by URL so a repeat costs no allocation.
    seen: HashMap<String, u32>,
    generators: Vec<String>,
    elements: u64,
}

impl Extractor {
    /// Starts extracting from the page at `page_url` (the URL after redirects; relative
    /// URLs resolve against it, and URLs on its host are not third-party).
    pub fn new(page_url: &Url, limits: Limits) -> Self {
        Self {
            page: page_url.clone(),
            page_host: page_url.host_str().map(str::to_ascii_lowercase),
            base: None,
            base_seen: false,
            base_is_page_host: page_url.host_str().is_some(),
            limits,
            mode: Mode::Data,
            carry: Vec::new(),
            hint: None,
            script: ScriptScanner::default(),
            title: Title::Waiting,
            loaders: Loaders {
                ids: Vec::new(),
                seen: HashSet::new(),
                max: limits.max_loader_ids,
            },
            resources: Vec::new(),
            seen: HashMap::new(),
            generators: Vec::new(),
            elements: 0,
        }
    }

    /// Feeds the next chunk of the body. Chunks may split the document anywhere.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.carry.is_empty() {
            let used = self.run(chunk, false);
            self.carry.extend_from_slice(&chunk[used..]);
        } else {
            let mut carry = std::mem::take(&mut self.carry);
            carry.extend_from_slice(chunk);
            let used = self.run(&carry, false);
            carry.drain(..used);
            self.carry = carry;
        }
        // The carry never holds more than one token, but a large chunk appended to it
        // leaves a large allocation behind.
        let keep = self.limits.max_tag_bytes.max(4096);
        if self.carry.capacity() > 2 * keep && self.carry.len() <= keep {
            self.carry.shrink_to(keep);
        }
    }

    /// Ends the document and returns what was found.
    pub fn finish(mut self) -> HtmlData {
        let carry = std::mem::take(&mut self.carry);
        self.run(&carry, true);
        if let Mode::Raw(kind) = self.mode {
            self.end_raw(kind);
        }
        let title = match self.title {
            Title::Collecting(bytes) => finish_title(&bytes, self.limits.max_title_chars),
            Title::Done(title) => title,
            Title::Waiting => None,
        };
        HtmlData {
            page_url: self.page.to_string(),
            resources: self.resources,
            generators: self.generators,
            loader_ids: self.loaders.ids,
            title,
            elements: self.elements,
        }
    }

    /// Tokenizes `buf`; returns how many bytes were consumed. The rest is the start of
    /// a token that needs more input (always less than `max_tag_bytes` plus a few
    /// bytes). With `eof`, everything is consumed.
    fn run(&mut self, buf: &[u8], eof: bool) -> usize {
        let mut hint = self.hint.take();
        let mut i = 0;
        while i < buf.len() {
            let step = match self.mode {
                Mode::Skip(mut scan, then) => match tokenizer::scan_end(&mut scan, &buf[i..]) {
                    Some(n) => {
                        self.mode = then.map_or(Mode::Data, Mode::Raw);
                        Step::Advance(i + n)
                    }
                    None => {
                        self.mode = Mode::Skip(scan, then);
                        Step::Consumed
                    }
                },
                Mode::Data => match memchr(b'<', &buf[i..]) {
                    Some(off) => self.token(buf, i + off, eof, hint.take()),
                    None => Step::Consumed,
                },
                Mode::Raw(kind) => match tokenizer::find_raw_end(buf, i, kind.name(), eof) {
                    RawEnd::Found(k) => {
                        self.raw_text(kind, &buf[i..k]);
                        self.token(buf, k, eof, hint.take())
                    }
                    RawEnd::NeedMore(k) => {
                        self.raw_text(kind, &buf[i..k]);
                        Step::Wait(k)
                    }
                    RawEnd::None => {
                        self.raw_text(kind, &buf[i..]);
                        Step::Consumed
                    }
                },
            };
            match step {
                Step::Advance(next) => i = next,
                Step::Consumed => return buf.len(),
                Step::Wait(start) => return start,
            }
        }
        buf.len()
    }
}

impl Extractor {
    /// Handles the token whose `<` is at `buf[j]`. `hint` is the saved scan of a token
    /// that started a previous call's leftover bytes; it applies only at index 0.
    fn token(&mut self, buf: &[u8], j: usize, eof: bool, hint: Option<(usize, Scan)>) -> Step {
        let rest = &buf[j..];
        let (mut scan, from) = match hint {
            Some((from, scan)) if j == 0 && from <= rest.len() => (scan, from),
            _ => match tokenizer::classify(rest, eof) {
                Class::Token(scan) => (scan, 0),
                Class::Text => return Step::Advance(j + 1),
                Class::NeedMore => return Step::Wait(j),
            },
        };
        let is_tag = matches!(scan, Scan::Tag(_));
        match tokenizer::scan_end(&mut scan, &rest[from..]) {
            Some(n) => {
                let end = from + n;
                let tok = &rest[..end];
                if end > self.limits.max_tag_bytes {
                    let then = self.overlong(tok, is_tag);
                    self.mode = then.map_or(Mode::Data, Mode::Raw);
                } else if is_tag {
                    self.tag(tok);
                }
                Step::Advance(j + end)
            }
            // The name decides what an overlong tag does (count, raw text), so wait
            // until it is whole; names longer than any we act on need no more bytes.
            None if !eof
                && is_tag
                && rest.len() > self.limits.max_tag_bytes
                && name_is_open(rest) =>
            {
                self.hint = Some((rest.len(), scan));
                Step::Wait(j)
            }
            None if rest.len() > self.limits.max_tag_bytes => {
                // Decided as soon as the token outgrows the limit, so the outcome is
                // the same whether it arrived whole or in pieces.
                let then = self.overlong(rest, is_tag);
                self.mode = Mode::Skip(scan, then);
                Step::Consumed
            }
            // A token cut off by the end of the document is dropped, as browsers do.
            None if eof => Step::Advance(buf.len()),
            None => {
                self.hint = Some((rest.len(), scan));
                Step::Wait(j)
            }
        }
    }

    /// Handles an overlong token from its first bytes: its attributes are ignored, but
    /// it still counts as an element and still opens or closes a raw-text element.
    /// Returns the raw-text mode to continue in after it.
    fn overlong(&mut self, head: &[u8], is_tag: bool) -> Option<RawKind> {
        if !is_tag {
            return None;
        }
        let (name, _) = tokenizer::tag_name(head);
        if head.get(1) == Some(&b'/') {
            if let Mode::Raw(kind) = self.mode {
                if name.eq_ignore_ascii_case(kind.name()) {
                    self.end_raw(kind);
                } else {
                    return Some(kind);
                }
            }
            return None;
        }
        self.elements += 1;
        let kind = element(name).raw_kind()?;
        self.begin_raw(kind);
        Some(kind)
    }

    /// Handles a complete start or end tag (`tok` runs from `<` to `>`).
    fn tag(&mut self, tok: &[u8]) {
        let (name, attrs_at) = tokenizer::tag_name(tok);
        if tok[1] == b'/' {
            if let Mode::Raw(kind) = self.mode {
                if name.eq_ignore_ascii_case(kind.name()) {
                    self.end_raw(kind);
                    self.mode = Mode::Data;
                }
            }
            return;
        }
        self.elements += 1;
        let el = element(name);
        let attrs = &tok[attrs_at.min(tok.len() - 1)..tok.len() - 1];
        use ResourceUsage::{Link, Load};
        match el {
            Element::Script => self.url_attr(attrs, "script", Load),
            Element::Iframe => self.url_attr(attrs, "iframe", Load),
            Element::Audio => self.url_attr(attrs, "audio", Load),
            Element::Embed => self.url_attr(attrs, "embed", Load),
            Element::Img => self.image(attrs, "img"),
            Element::Source => self.image(attrs, "source"),
            Element::Video => {
                let [src, poster] = find_attrs(attrs, [b"src", b"poster"]);
                for value in [src, poster].into_iter().flatten() {
                    self.add_url(&decode_attr(value), "video", None, Load);
                }
            }
            Element::Object => {
                let [data] = find_attrs(attrs, [b"data"]);
                if let Some(value) = data {
                    self.add_url(&decode_attr(value), "object", None, Load);
                }
            }
            Element::Form => {
                let [action] = find_attrs(attrs, [b"action"]);
                if let Some(value) = action {
                    self.add_url(&decode_attr(value), "form", None, Link);
                }
            }
            Element::A => {
                let [href] = find_attrs(attrs, [b"href"]);
                if let Some(value) = href {
                    self.add_url(&decode_attr(value), "a", None, Link);
                }
            }
            Element::Link => self.link(attrs),
            Element::Base => self.base(attrs),
            Element::Meta => self.meta(attrs),
            Element::Raw(_) | Element::Other => {}
        }
        if let Some(kind) = el.raw_kind() {
            self.begin_raw(kind);
            self.mode = Mode::Raw(kind);
        }
    }

    fn url_attr(&mut self, attrs: &[u8], element: &'static str, usage: ResourceUsage) {
        let [src] = find_attrs(attrs, [b"src"]);
        if let Some(value) = src {
            self.add_url(&decode_attr(value), element, None, usage);
        }
    }

    fn image(&mut self, attrs: &[u8], element: &'static str) {
        let [src, srcset] = find_attrs(attrs, [b"src", b"srcset"]);
        if let Some(value) = src {
            self.add_url(&decode_attr(value), element, None, ResourceUsage::Load);
        }
        if let Some(value) = srcset {
            let value = decode_attr(value);
            for candidate in srcset_urls(&value) {
                self.add_url(candidate, element, None, ResourceUsage::Load);
            }
        }
    }

    fn link(&mut self, attrs: &[u8]) {
        let [rel, href] = find_attrs(attrs, [b"rel", b"href"]);
        let (Some(rel), Some(href)) = (rel, href) else {
            return;
        };
        let rel = decode_attr(rel)
            .split_ascii_whitespace()
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>();
        if rel.iter().any(|r| LOAD_RELS.contains(&r.as_str())) {
            let rel = rel.join(" ");
            self.add_url(&decode_attr(href), "link", Some(rel), ResourceUsage::Load);
        }
    }

    fn base(&mut self, attrs: &[u8]) {
        let [href] = find_attrs(attrs, [b"href"]);
        let Some(href) = href else { return };
        if self.base_seen {
            return;
        }
        self.base_seen = true;
        let href = decode_attr(href);
        // WHATWG: a base URL that fails to parse, or is data:/javascript:, leaves
        // the document URL in force.
        if let Ok(base) = self.page.join(trim_url(&href)) {
            if !matches!(base.scheme(), "data" | "javascript") {
                self.base_is_page_host =
                    base.host_str().is_some() && base.host_str() == self.page_host.as_deref();
                self.base = Some(base);
            }
        }
    }

    fn meta(&mut self, attrs: &[u8]) {
        let [name, content] = find_attrs(attrs, [b"name", b"content"]);
        let (Some(name), Some(content)) = (name, content) else {
            return;
        };
        if !name.eq_ignore_ascii_case(b"generator")
            || self.generators.len() >= self.limits.max_generators
        {
            return;
        }
        let content = decode_attr(content);
        let value = collapse_whitespace(&content, MAX_GENERATOR_CHARS);
        if !value.is_empty() && !self.generators.contains(&value) {
            self.generators.push(value);
        }
    }

    /// Records one URL attribute value (entity-decoded).
    fn add_url(
        &mut self,
        value: &str,
        element: &'static str,
        rel: Option<String>,
        usage: ResourceUsage,
    ) {
        let loaders = &mut self.loaders;
        loader::scan(value.as_bytes(), 0, true, &mut |kind, id| {
            loaders.add(kind, id)
        });
        if self.resources.len() >= self.limits.max_resources {
            return;
        }
        let value = trim_url(value);
        if value.is_empty() || (self.base_is_page_host && is_plain_relative(value)) {
            return;
        }
        // Most third-party URLs are plain absolute http(s) URLs; serialising those by
        // hand is several times cheaper than the URL parser and gives the same text.
        let simple = if value.len() < self.limits.max_url_bytes {
            fast::simple_absolute(value)
        } else {
            None
        };
        let (url, host) = match simple {
            Some(simple) => {
                if self.page_host.as_deref() == Some(simple.host.as_str()) {
                    return;
                }
                (simple.url, simple.host)
            }
            None => {
                let base = self.base.as_ref().unwrap_or(&self.page);
                let Ok(url) = base.join(value) else { return };
                if !matches!(url.scheme(), "http" | "https") {
                    return;
                }
                let Some(host) = url.host_str() else { return };
                if self.page_host.as_deref() == Some(host) {
                    return;
                }
                let host = host.to_owned();
                (shorten(url, self.limits.max_url_bytes), host)
            }
        };

        let bit = dedup_bit(element, usage);
        match self.seen.get_mut(url.as_str()) {
            Some(bits) if *bits & bit != 0 => return,
            Some(bits) => *bits |= bit,
            None => {
                self.seen.insert(url.clone(), bit);
            }
        }
        self.resources.push(Resource {
            url,
            host,
            element: element.to_owned(),
            rel,
            usage,
        });
    }

    fn begin_raw(&mut self, kind: RawKind) {
        match kind {
            RawKind::Script => self.script.reset(),
            RawKind::Title => {
                if matches!(self.title, Title::Waiting) {
                    self.title = Title::Collecting(Vec::new());
                }
            }
            _ => {}
        }
    }

    /// Text inside a raw-text element, in pieces.
    fn raw_text(&mut self, kind: RawKind, text: &[u8]) {
        match kind {
            RawKind::Script => {
                let loaders = &mut self.loaders;
                self.script
                    .push(text, &mut |kind, id| loaders.add(kind, id));
            }
            RawKind::Title => {
                if let Title::Collecting(buf) = &mut self.title {
                    // Entities and whitespace shrink the text later; keep enough raw
                    // bytes for the longest title we report.
                    let cap = self.limits.max_title_chars.saturating_mul(8).max(64);
                    let room = cap.saturating_sub(buf.len());
                    buf.extend_from_slice(&text[..text.len().min(room)]);
                }
            }
            _ => {}
        }
    }

    fn end_raw(&mut self, kind: RawKind) {
        match kind {
            RawKind::Script => {
                let loaders = &mut self.loaders;
                self.script.finish(&mut |kind, id| loaders.add(kind, id));
            }
            RawKind::Title => {
                if let Title::Collecting(buf) = &self.title {
                    self.title = Title::Done(finish_title(buf, self.limits.max_title_chars));
                }
            }
            _ => {}
        }
    }
}

/// Whether the tag name at the start of `head` may continue past its end and could
/// still be one of the (at most eight-letter) names the extractor acts on.
fn name_is_open(head: &[u8]) -> bool {
    let (name, end) = tokenizer::tag_name(head);
    end == head.len() && name.len() <= 8
}

/// The bit of `(element, usage)` in the dedup mask of a URL.
fn dedup_bit(element: &'static str, usage: ResourceUsage) -> u32 {
    const ELEMENTS: [&str; 12] = [
        "script", "link", "iframe", "img", "source", "video", "audio", "embed", "object", "form",
        "a", "other",
    ];
    let index = ELEMENTS
        .iter()
        .position(|e| *e == element)
        .unwrap_or(ELEMENTS.len() - 1);
    let usage = match usage {
        ResourceUsage::Load => 0,
        ResourceUsage::Link => 1,
    };
    1 << (index * 2 + usage)
}

/// Extracts from a whole page in one call, with default [`Limits`].
pub fn extract(page_url: &Url, bytes: &[u8]) -> HtmlData {
    let mut extractor = Extractor::new(page_url, Limits::default());
    extractor.feed(bytes);
    extractor.finish()
}

/// The values of the first attributes named `names` (ASCII case-insensitive; the
/// first occurrence wins, as in browsers).
fn find_attrs<'a, const N: usize>(attrs: &'a [u8], names: [&[u8]; N]) -> [Option<&'a [u8]>; N] {
    let mut out = [None; N];
    for (name, value) in Attrs::new(attrs) {
        for (slot, wanted) in out.iter_mut().zip(names) {
            if slot.is_none() && name.eq_ignore_ascii_case(wanted) {
                *slot = Some(value);
            }
        }
    }
    out
}

/// An attribute value as text: invalid UTF-8 replaced, character references decoded.
fn decode_attr(raw: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(raw) {
        Cow::Borrowed(s) => entities::decode(s, Context::Attribute),
        Cow::Owned(s) => Cow::Owned(entities::decode(&s, Context::Attribute).into_owned()),
    }
}

/// Strips what the URL parser strips at both ends (C0 controls and space).
fn trim_url(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Whether `s` is a relative reference that keeps the base URL's host: no scheme, not
/// protocol-relative. Conservative: anything unusual goes to the URL parser.
fn is_plain_relative(s: &str) -> bool {
    let b = s.as_bytes();
    if b.iter().any(|&c| matches!(c, b'\t' | b'\n' | b'\r')) {
        return false;
    }
    if b.len() >= 2 && matches!(b[0], b'/' | b'\\') && matches!(b[1], b'/' | b'\\') {
        return false;
    }
    for &c in b {
        match c {
            b':' => return false,
            b'/' | b'?' | b'#' => return true,
            _ => {}
        }
    }
    true
}

/// Serialises `url`, cutting it to `max` bytes: drops the fragment, then the query,
/// then truncates the path. The host is always kept.
fn shorten(mut url: Url, max: usize) -> String {
    if url.as_str().len() > max {
        url.set_fragment(None);
    }
    if url.as_str().len() > max {
        url.set_query(None);
    }
    let mut s = String::from(url);
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// The URLs of a `srcset` value (WHATWG "parse a srcset attribute", without the
/// descriptors, which servedby does not need).
fn srcset_urls(value: &str) -> Vec<&str> {
    let b = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < MAX_SRCSET_CANDIDATES {
        while i < b.len() && (tokenizer::is_ws(b[i]) || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && !tokenizer::is_ws(b[i]) {
            i += 1;
        }
        let raw = &value[start..i];
        let url = raw.trim_end_matches(',');
        if !url.is_empty() {
            out.push(url);
        }
        if url.len() == raw.len() {
            // Skip the descriptors up to the next comma outside parentheses.
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => depth = depth.saturating_sub(1),
                    b',' if depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
        }
    }
    out
}

/// Collapses runs of ASCII whitespace to one space, trims, and keeps `max` characters.
fn collapse_whitespace(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, word) in s.split_ascii_whitespace().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() >= max * 4 {
            break;
        }
    }
    match out.char_indices().nth(max) {
        Some((cut, _)) => out[..cut].trim_end().to_owned(),
        None => out,
    }
}

fn finish_title(raw: &[u8], max: usize) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let text = entities::decode(&text, Context::Text);
    let title = collapse_whitespace(&text, max);
    (!title.is_empty()).then_some(title)
}
