//! Fuzzes `servedby_html::Extractor`: arbitrary bytes, fed in arbitrary chunks.
//!
//! Input layout (all of it is fuzzer-controlled):
//!
//! ```text
//! byte 0      bit 0: use small limits (bytes 1..=6) instead of the defaults
//!             bits 1-3: which page URL the document was fetched from
//! bytes 1..=6 the small limits, one byte each (ignored with default limits)
//! byte 7      number of cut points (mod 16)
//! then        2 bytes (u16 LE) per cut point, taken modulo the body length
//! rest        the document body
//! ```
//!
//! Inputs shorter than the header are used whole as a body with default limits, so a
//! plain HTML file is also a useful seed.
//!
//! Checked for every input: no panic; the output respects every configured limit;
//! every kept URL is well formed and third-party; and the output is the same whether
//! the body arrives in one piece or cut at the chosen points (and, with default
//! limits, the same as the one-shot `extract`).

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use servedby_html::{extract, Extractor, Limits};
use url::Url;

/// Pages with a host, with an IP host, with an IDN host, and without any host (a
/// `file:` URL, and a `data:` URL that cannot be a base).
const PAGES: [&str; 6] = [
    "https://example.com/dir/page.html?q=1#top",
    "http://www.example.org",
    "http://[2001:db8::1]:8080/a/",
    "https://xn--bcher-kva.example/",
    "file:///srv/www/index.html",
    "data:text/html,hello",
];

/// Characters a generator value keeps (a private constant of the crate, stated in its
/// docs as the bound on one value).
const MAX_GENERATOR_CHARS: usize = 256;

const HEADER: usize = 8;

fuzz_target!(|data: &[u8]| {
    let (page, limits, cuts, body) = split_input(data);
    let page = Url::parse(page).expect("the fixed page URLs parse");

    let whole = {
        let mut ex = Extractor::new(&page, limits);
        ex.feed(body);
        ex.finish()
    };
    let chunked = {
        let mut ex = Extractor::new(&page, limits);
        let mut start = 0;
        for &cut in &cuts {
            ex.feed(&body[start..cut]);
            start = cut;
        }
        ex.feed(&body[start..]);
        ex.finish()
    };
    assert_eq!(
        whole, chunked,
        "chunking changed the result (cuts {cuts:?})"
    );
    if limits == Limits::default() {
        assert_eq!(
            whole,
            extract(&page, body),
            "extract differs from Extractor"
        );
    }

    assert_eq!(whole.page_url, page.as_str());
    assert!(whole.resources.len() <= limits.max_resources);
    assert!(whole.loader_ids.len() <= limits.max_loader_ids);
    assert!(whole.generators.len() <= limits.max_generators);

    let page_host = page.host_str().map(str::to_ascii_lowercase);
    let mut seen = HashSet::new();
    for r in &whole.resources {
        assert!(
            r.url.len() <= limits.max_url_bytes,
            "URL of {} bytes over the {}-byte limit: {:?}",
            r.url.len(),
            limits.max_url_bytes,
            r.url
        );
        assert!(!r.host.is_empty(), "empty host for {:?}", r.url);
        assert!(
            r.host.is_ascii() && !r.host.bytes().any(|b| b.is_ascii_uppercase()),
            "host not ASCII lowercase: {:?}",
            r.host
        );
        assert_ne!(
            Some(&r.host),
            page_host.as_ref(),
            "first-party URL kept: {r:?}"
        );
        assert!(
            seen.insert((r.url.as_str(), r.element.as_str(), r.usage)),
            "duplicate resource {r:?}"
        );
        // A URL that was not cut must be exactly what the URL parser produces, with
        // the recorded host (this checks the crate's fast path against `url`).
        if r.url.len() < limits.max_url_bytes {
            let parsed = Url::parse(&r.url)
                .unwrap_or_else(|e| panic!("kept URL {:?} does not parse: {e}", r.url));
            assert!(matches!(parsed.scheme(), "http" | "https"), "{r:?}");
            assert_eq!(parsed.as_str(), r.url, "URL not in canonical form");
            assert_eq!(parsed.host_str(), Some(r.host.as_str()), "host mismatch");
        }
    }

    let mut ids = HashSet::new();
    for l in &whole.loader_ids {
        assert!(
            !l.id.is_empty() && !l.kind.is_empty(),
            "empty loader id {l:?}"
        );
        assert!(ids.insert((&l.kind, &l.id)), "duplicate loader id {l:?}");
    }
    let mut generators = HashSet::new();
    for g in &whole.generators {
        assert!(!g.is_empty(), "empty generator kept");
        assert!(
            g.chars().count() <= MAX_GENERATOR_CHARS,
            "generator too long"
        );
        assert!(generators.insert(g), "duplicate generator {g:?}");
    }
    if let Some(title) = &whole.title {
        assert!(!title.is_empty(), "empty title kept as Some");
        assert!(
            title.chars().count() <= limits.max_title_chars,
            "title of {} chars over the limit of {}",
            title.chars().count(),
            limits.max_title_chars
        );
    }
});

/// Splits the fuzz input into page URL, limits, sorted cut points and body.
fn split_input(data: &[u8]) -> (&'static str, Limits, Vec<usize>, &[u8]) {
    let mut limits = Limits::default();
    if data.len() < HEADER {
        return (PAGES[0], limits, Vec::new(), data);
    }
    let flags = data[0];
    let page = PAGES[usize::from(flags >> 1 & 7) % PAGES.len()];
    if flags & 1 == 1 {
        // Small limits make every "limit reached" branch reachable with short inputs.
        limits.max_resources = usize::from(data[1] % 32);
        limits.max_tag_bytes = 1 + usize::from(data[2]) * 4;
        limits.max_url_bytes = usize::from(data[3]);
        limits.max_loader_ids = usize::from(data[4] % 8);
        limits.max_generators = usize::from(data[5] % 4);
        limits.max_title_chars = usize::from(data[6] % 64);
    }
    let ncuts = usize::from(data[7] % 16);
    let rest = &data[HEADER..];
    let cut_bytes = (ncuts * 2).min(rest.len() & !1);
    let (cut_data, body) = rest.split_at(cut_bytes);
    let mut cuts: Vec<usize> = cut_data
        .chunks_exact(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])) % (body.len() + 1))
        .collect();
    cuts.sort_unstable();
    (page, limits, cuts, body)
}
