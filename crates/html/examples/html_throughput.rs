//! Measures extraction throughput on a generated 50 MB page that looks like a real
//! news or corporate site: navigation, articles with images and `srcset`, inline
//! analytics snippets, comments, JSON-LD, share links and embeds.
//!
//! Run with `cargo run --release -p servedby-html --example html_throughput`.

use std::fmt::Write as _;
use std::time::Instant;

use servedby_html::{Extractor, Limits};

const TARGET_BYTES: usize = 50 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

fn block(i: usize, out: &mut String) {
    let _ = write!(
        out,
        r#"<div class="article-card" id="post-{i}" data-category="news">
  <!-- card {i}: rendered by the theme -->
  <a class="thumb" href="/news/2024/{i}/some-long-article-slug-about-things.html" title="Read more &amp; more">
    <img loading="lazy" width="640" height="360" alt="A photo of product {i}"
      src="https://img.cdn-provider.net/uploads/2024/{i}/photo-640x360.jpg"
      srcset="https://img.cdn-provider.net/uploads/2024/{i}/photo-320x180.jpg 320w, https://img.cdn-provider.net/uploads/2024/{i}/photo-640x360.jpg 640w, https://img.cdn-provider.net/uploads/2024/{i}/photo-1280x720.jpg 1280w"
      sizes="(max-width: 600px) 100vw, 640px">
  </a>
  <h2 class="entry-title"><a href="/news/2024/{i}/some-long-article-slug-about-things.html">Company announces results for quarter {i}</a></h2>
  <p class="excerpt">Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et
  dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo
  consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.
  Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.</p>
  <ul class="share">
    <li><a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fwww.example.com%2Fnews%2F{i}" rel="noopener" target="_blank"><span class="icon icon-fb"></span></a></li>
    <li><a href="https://twitter.com/intent/tweet?url=https%3A%2F%2Fwww.example.com%2Fnews%2F{i}&amp;text=Results" rel="noopener" target="_blank"><span class="icon icon-tw"></span></a></li>
    <li><a href="https://www.linkedin.com/shareArticle?mini=true&amp;url=https%3A%2F%2Fwww.example.com%2Fnews%2F{i}"><span class="icon icon-li"></span></a></li>
  </ul>
  <script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle","headline":"Company announces results for quarter {i}","image":["https://img.cdn-provider.net/uploads/2024/{i}/photo-1280x720.jpg"],"datePublished":"2024-01-{d:02}T08:00:00+08:00","author":[{{"@type":"Person","name":"Staff Writer"}}]}}</script>
  <script>window.dataLayer = window.dataLayer || []; dataLayer.push({{'event': 'card_view', 'card_id': {i}, 'position': {p}}}); if (window.innerWidth < 600 && i-- > 0) {{ lazy.observe(document.getElementById('post-{i}')); }}</script>
</div>
"#,
        d = i % 28 + 1,
        p = i % 10,
    );
    if i.is_multiple_of(50) {
        let _ = write!(
            out,
            r#"<section class="video"><iframe width="560" height="315" src="https://www.youtube.com/embed/v{i}" title="YouTube video player" frameborder="0" allow="accelerometer; autoplay; clipboard-write; encrypted-media" allowfullscreen></iframe></section>
<style>.article-card:nth-child({i}) > .thumb img {{ border-radius: 4px; }} .share li a::after {{ content: "<"; }}</style>
"#
        );
    }
}

fn page() -> Vec<u8> {
    let mut out = String::with_capacity(TARGET_BYTES + 64 * 1024);
    out.push_str(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example Corporation &mdash; News</title><meta name="generator" content="WordPress 6.4.2">
<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin><link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Noto+Sans+SC&amp;display=swap">
<link rel="stylesheet" href="/wp-content/themes/corp/style.css?ver=6.4.2"><link rel="icon" href="/favicon.ico">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123DEF4"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-ABC123DEF4');</script>
<script>var _hmt=_hmt||[];(function(){var hm=document.createElement("script");hm.src="https://hm.baidu.com/hm.js?0123456789abcdef0123456789abcdef";var s=document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm,s);})();</script>
</head><body class="home blog">
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/products/">Products</a></li><li><a href="/about/">About</a></li></ul></nav></header>
<main>
"#,
    );
    let mut i = 0;
    while out.len() < TARGET_BYTES {
        block(i, &mut out);
        i += 1;
    }
    out.push_str("</main><footer><a href=\"https://beian.miit.gov.cn/\">ICP 12345678</a></footer></body></html>\n");
    out.into_bytes()
}

/// CPU time of this thread in seconds (Linux), so that other processes competing for
/// the cores do not distort the figure; `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Extracts `bytes` five times; returns the best wall and CPU times in seconds and the
/// last result.
fn measure(bytes: &[u8], limits: Limits) -> (f64, Option<f64>, servedby_model::HtmlData) {
    let url = url::Url::parse("https://www.example.com/").expect("static URL");
    let mut best_wall = f64::INFINITY;
    let mut best_cpu: Option<f64> = None;
    let mut last = None;
    for _ in 0..5 {
        let cpu_start = thread_cpu_seconds();
        let start = Instant::now();
        let mut extractor = Extractor::new(&url, limits);
        for chunk in bytes.chunks(CHUNK) {
            extractor.feed(chunk);
        }
        let data = extractor.finish();
        best_wall = best_wall.min(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_seconds()) {
            best_cpu = Some(best_cpu.map_or(b - a, |c| c.min(b - a)));
        }
        last = Some(data);
    }
    (best_wall, best_cpu, last.expect("ran at least once"))
}

fn main() {
    let bytes = page();
    let mb = bytes.len() as f64 / 1e6;
    let mut uncapped = Limits::default();
    uncapped.max_resources = usize::MAX;
    // The default cap stops URL resolution after 5,000 resources, which flatters the
    // figure on a page this large; the uncapped run resolves and keeps every URL.
    for (label, limits) in [
        ("default limits", Limits::default()),
        ("no resource cap", uncapped),
    ] {
        let (wall, cpu, data) = measure(&bytes, limits);
        let cpu = cpu.map_or(String::new(), |c| {
            format!(", CPU {:.1} ms = {:.0} MB/s", c * 1e3, mb / c)
        });
        println!(
            "{label}: {:.1} MB page in {} KiB chunks, best of 5: wall {:.1} ms = {:.0} MB/s{cpu} \
             ({} elements, {} resources, {} loader ids)",
            mb,
            CHUNK / 1024,
            wall * 1e3,
            mb / wall,
            data.elements,
            data.resources.len(),
            data.loader_ids.len()
        );
    }
}
