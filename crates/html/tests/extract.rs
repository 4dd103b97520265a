//! Behaviour of the extractor on whole pages: element kinds, URL resolution, the
//! tokenizer's corner cases, chunking invariance and hostile input.

use proptest::prelude::*;
use servedby_html::{extract, Extractor, Limits};
use servedby_model::{HtmlData, ResourceUsage};
use url::Url;

fn page() -> Url {
    Url::parse("https://www.example.com/news/index.html").unwrap()
}

fn run(html: &str) -> HtmlData {
    extract(&page(), html.as_bytes())
}

/// `(element, url, usage)` of every resource.
fn found(data: &HtmlData) -> Vec<(String, String, ResourceUsage)> {
    data.resources
        .iter()
        .map(|r| (r.element.clone(), r.url.clone(), r.usage))
        .collect()
}

fn urls(data: &HtmlData) -> Vec<&str> {
    data.resources.iter().map(|r| r.url.as_str()).collect()
}

fn feed_in_pieces(bytes: &[u8], cuts: &[usize], limits: Limits) -> HtmlData {
    let mut ex = Extractor::new(&page(), limits);
    let mut start = 0;
    for &cut in cuts {
        let cut = cut.clamp(start, bytes.len());
        ex.feed(&bytes[start..cut]);
        start = cut;
    }
    ex.feed(&bytes[start..]);
    ex.finish()
}

#[test]
fn every_element_kind() {
    use ResourceUsage::{Link, Load};
    let html = r#"<!DOCTYPE html><html><head>
<script src="https://cdn.jsdelivr.net/npm/x.js"></script>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Roboto">
<link rel=preconnect href="https://fonts.gstatic.com">
<link rel="dns-prefetch" href="//dns.example.net">
<link rel="preload" href="https://preload.example.net/a.woff2" as="font">
<link rel="modulepreload" href="https://mod.example.net/m.js">
<link rel="prefetch" href="https://prefetch.example.net/p">
<link rel="Shortcut Icon" href="https://icons.example.net/favicon.ico">
<link rel="apple-touch-icon" href="https://icons.example.net/touch.png">
<link rel="canonical" href="https://canonical.example.net/">
<link rel="alternate" href="https://alt.example.net/">
</head><body>
<iframe src="https://www.youtube.com/embed/abc"></iframe>
<img src="https://img.example.net/a.png" srcset="https://img.example.net/a-2x.png 2x, https://img2.example.net/b.png 640w">
<picture><source srcset="https://pic.example.net/c.webp" type="image/webp"><source src="https://pic.example.net/d.mp4"></picture>
<video src="https://video.example.net/v.mp4" poster="https://video.example.net/poster.jpg"></video>
<audio src="https://audio.example.net/a.mp3"></audio>
<embed src="https://embed.example.net/e.swf">
<object data="https://object.example.net/o.pdf"></object>
<form action="https://forms.example.net/submit"></form>
<a href="https://twitter.com/example">Twitter</a>
</body></html>"#;
    let data = run(html);
    let f = found(&data);
    let expect = vec![
        ("script", "https://cdn.jsdelivr.net/npm/x.js", Load),
        (
            "link",
            "https://fonts.googleapis.com/css2?family=Roboto",
            Load,
        ),
        ("link", "https://fonts.gstatic.com/", Load),
        ("link", "https://dns.example.net/", Load),
        ("link", "https://preload.example.net/a.woff2", Load),
        ("link", "https://mod.example.net/m.js", Load),
        ("link", "https://prefetch.example.net/p", Load),
        ("link", "https://icons.example.net/favicon.ico", Load),
        ("link", "https://icons.example.net/touch.png", Load),
        ("iframe", "https://www.youtube.com/embed/abc", Load),
        ("img", "https://img.example.net/a.png", Load),
        ("img", "https://img.example.net/a-2x.png", Load),
        ("img", "https://img2.example.net/b.png", Load),
        ("source", "https://pic.example.net/c.webp", Load),
        ("source", "https://pic.example.net/d.mp4", Load),
        ("video", "https://video.example.net/v.mp4", Load),
        ("video", "https://video.example.net/poster.jpg", Load),
        ("audio", "https://audio.example.net/a.mp3", Load),
        ("embed", "https://embed.example.net/e.swf", Load),
        ("object", "https://object.example.net/o.pdf", Load),
        ("form", "https://forms.example.net/submit", Link),
        ("a", "https://twitter.com/example", Link),
    ];
    let expect: Vec<_> = expect
        .into_iter()
        .map(|(e, u, g)| (e.to_owned(), u.to_owned(), g))
        .collect();
    assert_eq!(f, expect);
    let rels: Vec<_> = data
        .resources
        .iter()
        .filter_map(|r| r.rel.as_deref())
        .collect();
    assert_eq!(
        rels,
        vec![
            "stylesheet",
            "preconnect",
            "dns-prefetch",
            "preload",
            "modulepreload",
            "prefetch",
            "shortcut icon",
            "apple-touch-icon"
        ]
    );
    assert!(data
        .resources
        .iter()
        .all(|r| r.element == "link" || r.rel.is_none()));
    assert_eq!(data.resources[0].host, "cdn.jsdelivr.net");
    assert_eq!(data.page_url, "https://www.example.com/news/index.html");
    // html, head, script, 10 links, body and 11 elements in it.
    assert_eq!(data.elements, 25);
}

#[test]
fn same_host_and_non_http_urls_are_dropped() {
    let data = run(r#"
<a href="/about">x</a><a href="contact.html">x</a><a href="https://www.example.com/x">x</a>
<a href="HTTPS://WWW.EXAMPLE.COM/y">x</a>
<a href="javascript:alert(1)">x</a><a href="mailto:a@b.c">x</a><a href="tel:+123">x</a>
<img src="data:image/png;base64,AAAA"><a href="blob:https://x.com/1">x</a><a href="about:blank">x</a>
<a href="  java&#x09;script:alert(1)">x</a><a href="">x</a><a>x</a>
<a href="https://example.com/apex">apex is another host</a>"#);
    assert_eq!(urls(&data), vec!["https://example.com/apex"]);
}

#[test]
fn relative_urls_resolve_against_the_first_base_href() {
    let data = run(r#"<img src="before.png">
<base href="https://static.cdn.example.org/assets/"><base href="https://second.example.org/">
<img src="logo.png"><script src="/js/app.js"></script><a href="//other.example.org/p">x</a>
<a href="../up.html">x</a>"#);
    assert_eq!(
        urls(&data),
        vec![
            "https://static.cdn.example.org/assets/logo.png",
            "https://static.cdn.example.org/js/app.js",
            "https://other.example.org/p",
            "https://static.cdn.example.org/up.html",
        ]
    );
}

#[test]
fn relative_base_and_protocol_relative_urls() {
    let plain = Url::parse("http://www.example.com/").unwrap();
    let data = extract(
        &plain,
        br#"<base href="/sub/"><script src="//cdn.example.net/a.js"></script><img src="x.png">
<img src=" //cdn.example.net/b.png "><img src="\\cdn.example.net\c.png"><img src="//cdn.example.net/d
.png">"#,
    );
    assert_eq!(
        urls(&data),
        vec![
            "http://cdn.example.net/a.js",
            "http://cdn.example.net/b.png",
            "http://cdn.example.net/c.png",
            "http://cdn.example.net/d.png",
        ]
    );
}

#[test]
fn entities_in_attribute_values() {
    let data = run(
        r#"<script src="https://cdn.example.net/a.js?x=1&amp;y=2&#38;z=3&#x26;w=&quot;&lt;&gt;&apos;"></script>
<a href="https&#58;//social.example.net/?a=1&copy=2">x</a><img src='https://img.example.net/&amp;'>"#,
    );
    assert_eq!(
        urls(&data),
        vec![
            "https://cdn.example.net/a.js?x=1&y=2&z=3&w=%22%3C%3E%27",
            "https://social.example.net/?a=1&copy=2",
            "https://img.example.net/&",
        ]
    );
}

#[test]
fn attribute_quoting_and_case() {
    let data = run(
        "<SCRIPT SRC=https://a.example.net/1.js></SCRIPT><Img sRc='https://b.example.net/2.png' alt=\"a > b\">\
         <img alt='x' src = \"https://c.example.net/3.png\"><img src=\"https://d.example.net/a>b.png\">\
         <a href=https://e.example.net/x?y=1>x</a><img src=\"https://f.example.net/1\" src=\"https://g.example.net/2\">",
    );
    assert_eq!(
        urls(&data),
        vec![
            "https://a.example.net/1.js",
            "https://b.example.net/2.png",
            "https://c.example.net/3.png",
            "https://d.example.net/a%3Eb.png",
            "https://e.example.net/x?y=1",
            "https://f.example.net/1",
        ]
    );
}

#[test]
fn comments_doctype_and_cdata_hide_tags() {
    let data = run(
        r#"<!DOCTYPE html><!-- <script src="https://hidden.example.net/1.js"></script> -->
<!--[if lt IE 9]><script src="https://hidden.example.net/ie.js"></script><![endif]-->
<!-- a -- > still comment <img src="https://hidden.example.net/2.png"> -->
<![CDATA[ <img src="https://hidden.example.net/3.png"> ]]>
<?xml version="1.0"?><!--><img src="https://shown.example.net/1.png"><!--->
<img src="https://shown.example.net/2.png">"#,
    );
    assert_eq!(
        urls(&data),
        vec![
            "https://shown.example.net/1.png",
            "https://shown.example.net/2.png"
        ]
    );
}

#[test]
fn raw_text_is_not_markup() {
    let data = run(r#"<script>
  var s = '<a href="https://in-script.example.net/">x</a>';
  if (a < b && c </scrip d) {}
  document.write("<script src='https://written.example.net/x.js'><\/script>");
</script>
<style>a::after { content: "<img src='https://in-style.example.net/1.png'>"; }</style>
<textarea><a href="https://in-textarea.example.net/">x</a></textarea>
<title>My <a href="https://in-title.example.net/">page</a></title>
<noscript><img src="https://www.facebook.com/tr?id=1&ev=PageView"></noscript>
<a href="https://after.example.net/">x</a>"#);
    assert_eq!(
        urls(&data),
        vec![
            "https://www.facebook.com/tr?id=1&ev=PageView",
            "https://after.example.net/"
        ]
    );
    assert_eq!(
        data.title.as_deref(),
        Some(r#"My <a href="https://in-title.example.net/">page</a>"#)
    );
}

#[test]
fn end_tag_with_attributes_and_odd_case_closes_raw_text() {
    let data = run(
        "<script>x</SCRIPT foo='>'><a href='https://a.example.net/'>x</a><style>x</style\t><img src=https://b.example.net/>",
    );
    assert_eq!(
        urls(&data),
        vec!["https://a.example.net/", "https://b.example.net/"]
    );
}

#[test]
fn title_and_generators() {
    let data = run(
        "<head><meta name=\"Generator\" content=\"WordPress 6.4.2\"><meta name=generator content='Elementor 3.18'>\
         <meta name=generator content='WordPress 6.4.2'><meta name=description content=x>\
         <title>\n  Hikvision &amp; Co &mdash;   Home\t</title><title>second</title></head>",
    );
    assert_eq!(data.generators, vec!["WordPress 6.4.2", "Elementor 3.18"]);
    assert_eq!(data.title.as_deref(), Some("Hikvision & Co — Home"));
}

#[test]
fn long_title_is_capped() {
    let html = format!("<title>{}</title>", "word ".repeat(1000));
    let data = run(&html);
    let title = data.title.unwrap();
    assert_eq!(title.chars().count(), 512);
    assert!(title.starts_with("word word"));
    assert!(run("<title>  </title>").title.is_none());
    assert_eq!(
        run("<title>unterminated").title.as_deref(),
        Some("unterminated")
    );
}

#[test]
fn loader_ids_in_inline_scripts_and_urls() {
    let data = run(r#"
<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123DEF4"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('config', 'G-ABC123DEF4');
  gtag('config', 'UA-1234567-2');
</script>
<script>(function(w,d,s,l,i){w[l]=w[l]||[];})(window,document,'script','dataLayer','GTM-K9JL2DM');</script>
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-K9JL2DM"></iframe></noscript>
<script>
var _hmt = _hmt || [];
(function() { var hm = document.createElement("script");
  hm.src = "https://hm.baidu.com/hm.js?0123456789abcdef0123456789abcdef"; })();
</script>"#);
    let ids: Vec<_> = data
        .loader_ids
        .iter()
        .map(|l| (l.kind.as_str(), l.id.as_str()))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("google-tag", "G-ABC123DEF4"),
            ("google-analytics", "UA-1234567-2"),
            ("google-tag-manager", "GTM-K9JL2DM"),
            ("baidu-tongji", "0123456789abcdef0123456789abcdef"),
        ]
    );
    // Text outside scripts is not scanned.
    assert!(run("<p>G-ABC123DEF4 GTM-K9JL2DM</p>").loader_ids.is_empty());
}

#[test]
fn baidu_script_url_gives_its_id() {
    let data = run(
        r#"<script src="https://hm.baidu.com/hm.js?fedcba9876543210fedcba9876543210"></script>"#,
    );
    assert_eq!(data.loader_ids.len(), 1);
    assert_eq!(data.loader_ids[0].kind, "baidu-tongji");
    assert_eq!(data.resources[0].host, "hm.baidu.com");
}

#[test]
fn duplicates_are_removed_per_element_and_usage() {
    let data = run(
        r#"<a href="https://x.example.net/">1</a><a href="https://x.example.net/">2</a>
<img src="https://x.example.net/"><link rel=preload href="https://x.example.net/"><link rel=stylesheet href="https://x.example.net/">"#,
    );
    assert_eq!(data.resources.len(), 3);
}

#[test]
fn idn_hosts_are_punycode_and_lowercase() {
    let data = run(r#"<img src="https://BÜCHER.example/a.png"><img src="https://例子.测试/b">"#);
    let hosts: Vec<_> = data.resources.iter().map(|r| r.host.as_str()).collect();
    assert_eq!(
        hosts,
        vec!["xn--bcher-kva.example", "xn--fsqu00a.xn--0zwm56d"]
    );
}

#[test]
fn script_split_at_every_byte_gives_the_same_result() {
    let html = br#"<html><title>T &amp; t</title><script>gtag('config','G-ABC123DEF4');var a="<a href='https://no.example.net/'>";</script><!-- c --><img src="https://img.example.net/a.png" srcset="https://img.example.net/b.png 2x"><script>x('GTM-K9JL2DM')</script></html>"#;
    let whole = extract(&page(), html);
    assert_eq!(whole.loader_ids.len(), 2);
    assert_eq!(whole.resources.len(), 2);
    for cut in 0..html.len() {
        let split = feed_in_pieces(html, &[cut], Limits::default());
        assert_eq!(split, whole, "cut at {cut}");
    }
    let bytewise = feed_in_pieces(
        html,
        &(0..html.len()).collect::<Vec<_>>(),
        Limits::default(),
    );
    assert_eq!(bytewise, whole);
}

#[test]
fn resources_are_capped() {
    let mut limits = Limits::default();
    limits.max_resources = 10;
    let html: String = (0..100)
        .map(|i| format!("<img src=\"https://h{i}.example.net/\">"))
        .collect();
    let data = feed_in_pieces(html.as_bytes(), &[], limits);
    assert_eq!(data.resources.len(), 10);
    assert_eq!(data.elements, 100);
}

#[test]
fn hostile_many_elements() {
    let mut html = String::from("<body>");
    for i in 0..100_000 {
        html.push_str(&format!("<a href=\"https://h{i}.example.net/p\">x</a>"));
    }
    let data = run(&html);
    assert_eq!(data.elements, 100_001);
    assert_eq!(data.resources.len(), Limits::default().max_resources);
}

#[test]
fn hostile_deep_nesting() {
    let html = format!(
        "{}<img src=https://deep.example.net/>{}",
        "<div><span>".repeat(10_000),
        "</span></div>".repeat(10_000)
    );
    let data = run(&html);
    assert_eq!(urls(&data), vec!["https://deep.example.net/"]);
    assert_eq!(data.elements, 20_001);
}

#[test]
fn hostile_unterminated_constructs_at_eof() {
    for html in [
        "<img src=\"https://a.example.net/",
        "<img src=https://a.example.net/",
        "<!-- <img src=https://a.example.net/>",
        "<![CDATA[ <img src=https://a.example.net/>",
        "<script> <img src=https://a.example.net/>",
        "<!DOCTYPE",
        "<",
        "</",
        "<!-",
        "<![CDA",
        "<script>gtag('G-ABC12",
    ] {
        let data = run(html);
        assert!(data.resources.is_empty(), "{html}");
    }
    assert_eq!(run("<script>gtag('G-ABC123").loader_ids.len(), 1);
}

#[test]
fn hostile_huge_attribute_is_skipped_and_bounded() {
    let huge = "x".repeat(200_000);
    let html = format!(
        "<img src=\"https://a.example.net/\" alt=\"{huge}\"><img src=\"https://b.example.net/\"><script data-x=\"{huge}\">var a = '<a href=https://c.example.net/>';</script><img src=https://d.example.net/>"
    );
    let data = run(&html);
    assert_eq!(
        urls(&data),
        vec!["https://b.example.net/", "https://d.example.net/"]
    );
    assert_eq!(data.elements, 4);
    // Fed in small pieces, the carry-over never holds the whole tag, and the result
    // is the same.
    let cuts: Vec<usize> = (0..html.len()).step_by(1000).collect();
    assert_eq!(
        feed_in_pieces(html.as_bytes(), &cuts, Limits::default()),
        data
    );
    // An overlong comment is skipped too, without hiding what follows.
    let html = format!("<!-- {huge} --><img src=https://e.example.net/>");
    assert_eq!(urls(&run(&html)), vec!["https://e.example.net/"]);
}

#[test]
fn hostile_long_url_is_cut_but_keeps_its_host() {
    let long = "a".repeat(10_000);
    let html = format!("<img src=\"https://long.example.net/{long}?q={long}#{long}\">");
    let data = run(&html);
    assert_eq!(data.resources.len(), 1);
    assert!(data.resources[0].url.len() <= Limits::default().max_url_bytes);
    assert!(data.resources[0]
        .url
        .starts_with("https://long.example.net/aaa"));
    assert_eq!(data.resources[0].host, "long.example.net");
}

#[test]
fn hostile_invalid_utf8_and_nul_bytes() {
    let mut html = b"<title>caf\xe9 \x00 ok</title><img src=\"https://a.example.net/\xff\xfe\x00x\">\x00<\x00a href=x>".to_vec();
    html.extend_from_slice(b"<a\x00 href=\"https://b.example.net/\">\xc3");
    let data = extract(&page(), &html);
    assert_eq!(data.resources.len(), 1);
    assert!(data.resources[0].url.starts_with("https://a.example.net/"));
    assert_eq!(data.title.as_deref(), Some("caf\u{fffd} \u{0} ok"));
}

#[test]
fn page_without_host_keeps_every_http_url() {
    let file = Url::parse("file:///tmp/page.html").unwrap();
    let data = extract(&file, b"<img src=x.png><img src=https://a.example.net/>");
    assert_eq!(urls(&data), vec!["https://a.example.net/"]);
}

/// A page that exercises every branch of the tokenizer, for the chunking property.
fn sample_page() -> &'static [u8] {
    br#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Sample &amp; page</title><meta name="generator" content="Hugo 0.120">
<base href="https://static.example.org/">
<link rel="stylesheet" href="css/site.css"><link rel='preconnect' href=//fonts.gstatic.com>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123DEF4"></script>
<script>window.dataLayer=window.dataLayer||[];if(a<b){gtag('config','G-ABC123DEF4');}
var x="</scrip"; var y='<img src="https://no.example.net/">'; _gaq.push(['_setAccount','UA-1234567-12']);</script>
<style>.a>.b{content:"</sty"}</style><!-- <img src="https://hidden.example.net/"> -- -->
<![CDATA[ <a href="https://cdata.example.net/"> ]]></head>
<body><a href="https://twitter.com/x?a=1&amp;b=2">t</a><img srcset="https://i.example.net/a.png 1x, https://i.example.net/b.png 2x" src=a.png>
<iframe src="https://www.youtube.com/embed/x"><a href=https://inside-iframe.example.net/></iframe>
<form action="https://forms.example.net/s"><textarea></textarea></form>
<script>var _hmt=[];hm.src="https://hm.baidu.com/hm.js?0123456789abcdef0123456789abcdef";</script>
<video poster='https://v.example.net/p.jpg' src="https://v.example.net/v.mp4"></video>
< not a tag <3 <a href="https://end.example.net/">end</a></body></html>"#
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn chunking_never_changes_the_result(mut cuts in proptest::collection::vec(0usize..2000, 0..40)) {
        let html = sample_page();
        cuts.sort_unstable();
        let whole = extract(&page(), html);
        prop_assert_eq!(feed_in_pieces(html, &cuts, Limits::default()), whole);
    }

    #[test]
    fn chunking_with_a_tiny_tag_limit_never_changes_the_result(
        mut cuts in proptest::collection::vec(0usize..2000, 0..40),
        max_tag in 1usize..120,
    ) {
        let html = sample_page();
        cuts.sort_unstable();
        let mut limits = Limits::default();
        limits.max_tag_bytes = max_tag;
        let whole = feed_in_pieces(html, &[], limits);
        prop_assert_eq!(feed_in_pieces(html, &cuts, limits), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(
        bytes in proptest::collection::vec(any::<u8>(), 0..4000),
        mut cuts in proptest::collection::vec(0usize..4000, 0..20),
    ) {
        cuts.sort_unstable();
        let whole = extract(&page(), &bytes);
        prop_assert!(whole.resources.len() <= Limits::default().max_resources);
        prop_assert_eq!(feed_in_pieces(&bytes, &cuts, Limits::default()), whole);
    }

    #[test]
    fn markup_soup_never_panics_and_is_chunk_invariant(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("<"), Just(">"), Just("</"), Just("<!--"), Just("-->"), Just("--"), Just("<!"),
                Just("<![CDATA["), Just("]]>"), Just("<script>"), Just("</script>"), Just("<title>"),
                Just("</title>"), Just("<a href="), Just("\""), Just("'"), Just("="), Just(" "),
                Just("https://x.example.net/"), Just("G-ABC123DEF4"), Just("GTM-"), Just("UA-1234-5"),
                Just("&amp;"), Just("&#"), Just("<img src="), Just("<base href="), Just("//y.example.net/"),
                Just("srcset="), Just("a"), Just("/"),
            ],
            0..200,
        ),
        mut cuts in proptest::collection::vec(0usize..3000, 0..20),
    ) {
        let html = parts.concat();
        cuts.sort_unstable();
        let whole = extract(&page(), html.as_bytes());
        prop_assert_eq!(feed_in_pieces(html.as_bytes(), &cuts, Limits::default()), whole);
    }
}

#[test]
fn hostile_byte_at_a_time_stays_linear() {
    // Each of these is fed one byte per call; a carry-over that rescanned from the
    // token start would make this quadratic (billions of steps) and time out.
    let long_tag = format!(
        "<img alt=\"{}\" src=\"https://a.example.net/\">",
        "x".repeat(60_000)
    );
    let long_comment = format!(
        "<!--{}--><img src=\"https://b.example.net/\">",
        "-".repeat(100_000)
    );
    let long_script = format!("<script>{}G-ABC123DEF4</script>", "a-b?c<d ".repeat(20_000));
    for html in [long_tag, long_comment, long_script] {
        let mut ex = Extractor::new(&page(), Limits::default());
        for b in html.as_bytes() {
            ex.feed(std::slice::from_ref(b));
        }
        assert_eq!(ex.finish(), extract(&page(), html.as_bytes()));
    }
}
