//! HTML extraction (`servedby_html::extract`) over realistic home pages of 35–50 KB.
//!
//! Four page kinds (corporate, Chinese, shop, media) like `bench/gen_world.py`'s
//! templates: a head full of third-party scripts, styles and inline loaders, a large
//! inline `<style>`, navigation, articles of text with images, embedded iframes and
//! social links. The pages are built here from a fixed seed. Each is timed whole, and
//! the corporate page also fed in 16 KiB chunks as the prober does. Floor: ≥ 200 MB/s.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use servedby_html::{extract, Extractor, Limits};
use url::Url;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LOREM: &str = "we build reliable products for customers around the world our team \
    delivers cloud data analytics security and digital experiences with a focus on quality \
    performance and trust learn more about our services solutions industries careers news \
    events investors sustainability and the people behind every project from research and \
    engineering design support and operations to deliver secure services at scale every day \
    with partners suppliers and a growing community of developers researchers and users";

const HEAD_CORP: &str = r#"
<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter:wght@400;600&display=swap">
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.2/dist/css/bootstrap.min.css">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-7Q2X9B4LMN"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-7Q2X9B4LMN');</script>
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-K4ZP7QX');</script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js" integrity="sha512-v2CJ7UaYy4JwqLDIrZUI/4hqeoQieOmAZNXBeQyjo21dadnwR+8ZaIJVT8EE2iyI61OV8e6M8PP2/4hpQINQ/g==" crossorigin="anonymous"></script>
<script src="https://www.google.com/recaptcha/api.js" async defer></script>
<script src="https://static.hotjar.com/c/hotjar-3141592.js?sv=6" async></script>
"#;

const HEAD_CN: &str = r#"
<link rel="stylesheet" href="https://g.alicdn.com/code/lib/bootstrap/5.3.2/css/bootstrap.min.css">
<script src="https://g.alicdn.com/code/lib/jquery/3.7.1/jquery.min.js"></script>
<script>var _hmt=_hmt||[];(function(){var hm=document.createElement("script");hm.src="https://hm.baidu.com/hm.js?3f1d8e4c2b7a6e5d9c0b1a2f3e4d5c6b";var s=document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm,s);})();</script>
<script src="https://res.wx.qq.com/open/js/jweixin-1.6.0.js"></script>
<script src="https://s4.cnzz.com/z_stat.php?id=1281234567&amp;web_id=1281234567" language="JavaScript"></script>
<script src="https://api.map.baidu.com/api?v=3.0&amp;ak=Xk4s9fPq2L"></script>
"#;

const HEAD_SHOP: &str = r#"
<link rel="preconnect" href="https://cdn.shopify.com">
<link rel="stylesheet" href="https://cdn.shopify.com/s/files/1/0612/3456/7890/t/3/assets/theme.css?v=1700000000">
<script src="https://cdn.shopify.com/s/files/1/0612/3456/7890/t/3/assets/theme.js?v=1700000000" defer></script>
<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init','1234567890123456');fbq('track','PageView');</script>
<script async src="https://static.klaviyo.com/onsite/js/klaviyo.js?company_id=AbC123"></script>
<script src="https://js.stripe.com/v3/"></script>
<script async src="https://www.googletagmanager.com/gtag/js?id=AW-123456789"></script>
<script src="https://widget.intercom.io/widget/abcd1234" async></script>
"#;

const HEAD_MEDIA: &str = r#"
<link rel="stylesheet" href="https://use.typekit.net/abc1def.css">
<link rel="dns-prefetch" href="https://securepubads.g.doubleclick.net">
<script async src="https://securepubads.g.doubleclick.net/tag/js/gpt.js"></script>
<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-1234567890123456" crossorigin="anonymous"></script>
<script src="https://www.google-analytics.com/analytics.js" async></script>
<script src="https://unpkg.com/react@18.2.0/umd/react.production.min.js" crossorigin></script>
<script src="https://cdn.onesignal.com/sdks/OneSignalSDK.js" async></script>
<script type="text/javascript" src="https://platform.twitter.com/widgets.js" charset="utf-8" async></script>
"#;

/// One page kind: name, extra head markup, embeds sprinkled between articles, and
/// social links for the footer (`{host}` is replaced by the page's host).
struct Kind {
    name: &'static str,
    lang: &'static str,
    head: &'static str,
    embeds: &'static [&'static str],
    socials: &'static [&'static str],
}

const KINDS: [Kind; 4] = [
    Kind {
        name: "corp",
        lang: "en",
        head: HEAD_CORP,
        embeds: &[
            r#"<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560" height="315" allowfullscreen></iframe>"#,
            r#"<iframe src="https://www.google.com/maps/embed?pb=!1m18!1m12!1m3!1d3151" width="600" height="450"></iframe>"#,
        ],
        socials: &[
            "https://www.linkedin.com/company/{host}",
            "https://twitter.com/{host}",
            "https://github.com/{host}",
        ],
    },
    Kind {
        name: "cn",
        lang: "zh-CN",
        head: HEAD_CN,
        embeds: &[
            r#"<iframe src="https://player.bilibili.com/player.html?bvid=BV1xx411c7mD" width="640" height="360"></iframe>"#,
            r#"<img src="https://img.alicdn.com/imgextra/i4/O1CN01abcdef_!!6000000000000-2-tps-200-80.png" alt="logo">"#,
        ],
        socials: &[
            "https://weibo.com/{host}",
            "https://www.zhihu.com/org/{host}",
            "https://beian.miit.gov.cn/",
        ],
    },
    Kind {
        name: "shop",
        lang: "en",
        head: HEAD_SHOP,
        embeds: &[
            r#"<img src="https://cdn.shopify.com/s/files/1/0612/3456/7890/products/item_800x.jpg" alt="product">"#,
            r#"<script src="https://www.paypal.com/sdk/js?client-id=sb&amp;currency=USD" data-namespace="paypal_sdk"></script>"#,
        ],
        socials: &[
            "https://www.instagram.com/{host}",
            "https://www.facebook.com/{host}",
            "https://www.pinterest.com/{host}",
        ],
    },
    Kind {
        name: "media",
        lang: "en",
        head: HEAD_MEDIA,
        embeds: &[
            r#"<iframe src="https://player.vimeo.com/video/76979871" width="640" height="360"></iframe>"#,
            r#"<img src="https://res.cloudinary.com/demo/image/upload/w_800/sample.jpg" alt="hero">"#,
            r#"<script src="https://connect.facebook.net/en_US/sdk.js#xfbml=1&amp;version=v18.0" async defer crossorigin="anonymous"></script>"#,
        ],
        socials: &[
            "https://www.youtube.com/@{host}",
            "https://www.tiktok.com/@{host}",
            "https://x.com/{host}",
        ],
    },
];

/// `words` words of filler text as a sentence.
fn para(rng: &mut fastrand::Rng, words: usize) -> String {
    let lorem: Vec<&str> = LOREM.split_whitespace().collect();
    let mut s = String::new();
    for i in 0..words {
        let w = lorem[rng.usize(..lorem.len())];
        if i == 0 {
            let mut c = w.chars();
            if let Some(first) = c.next() {
                s.extend(first.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push(' ');
            s.push_str(w);
        }
    }
    s.push('.');
    s
}

/// One home page of kind `kind` for `host`, between 35 and 50 KB.
fn page(rng: &mut fastrand::Rng, kind: &Kind, host: &str) -> String {
    let name = kind.name;
    let mut p = String::with_capacity(52_000);
    // Writing to a String cannot fail.
    let _ = write!(
        p,
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{host} | {name} home</title>
<meta name="description" content="{desc}">
<meta name="generator" content="WordPress 6.4.2">
<link rel="canonical" href="https://{host}/">
<link rel="icon" href="/favicon.ico">
<meta property="og:url" content="https://{host}/">
<meta property="og:image" content="https://{host}/static/og.png">
{head}
<style>
"#,
        lang = kind.lang,
        desc = para(rng, 24),
        head = kind.head,
    );
    for i in 0u64..150 {
        let _ = writeln!(
            p,
            ".c{i}{{margin:{}px;padding:{}px;color:#{:06x}}}",
            i % 7,
            i % 5,
            (i * 2_654_435_761) % 0xff_ffff
        );
    }
    let _ = write!(
        p,
        r#"</style>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Organization","url":"https://{host}/","logo":"https://{host}/static/logo.png"}}</script>
</head>
<body>
<header><nav><ul>
"#
    );
    for i in 0..40 {
        let _ = writeln!(
            p,
            r#"<li class="c{i}"><a href="/section/{i}/">Section {i}</a></li>"#
        );
    }
    p.push_str("</ul></nav></header>\n<main>\n");
    let target = rng.usize(36_000..48_000);
    let mut i = 0;
    while p.len() < target {
        let _ = writeln!(
            p,
            r#"<article class="c{}"><h2>{}</h2>"#,
            i % 150,
            para(rng, 6)
        );
        for _ in 0..3 {
            let _ = writeln!(p, "<p>{}</p>", para(rng, 40));
        }
        let _ = writeln!(
            p,
            r#"<a href="/news/{i}/">Read more</a> <img src="/static/img/{i}.webp" alt="" loading="lazy"></article>"#
        );
        if i % 7 == 3 {
            p.push_str(kind.embeds[i % kind.embeds.len()]);
            p.push('\n');
        }
        i += 1;
    }
    p.push_str("</main>\n<footer><ul>\n");
    for s in kind.socials {
        let url = s.replace("{host}", host);
        let label = url.split('/').nth(2).unwrap_or_default();
        let _ = writeln!(
            p,
            r#"<li><a href="{url}" rel="noopener" target="_blank">{label}</a></li>"#
        );
    }
    let _ = write!(
        p,
        "</ul><p>&copy; 2026 {host}</p></footer>\n</body>\n</html>\n"
    );
    p
}

fn extraction(c: &mut Criterion) {
    let mut rng = fastrand::Rng::with_seed(0x47_4d_4c);
    let host = "www.bluefalcon17.com";
    let url = Url::parse(&format!("https://{host}/")).expect("valid URL");
    let pages: Vec<(&str, String)> = KINDS
        .iter()
        .map(|k| (k.name, page(&mut rng, k, host)))
        .collect();
    for (name, body) in &pages {
        let data = extract(&url, body.as_bytes());
        assert!(
            (35_000..=50_000).contains(&body.len()),
            "{name}: {} bytes",
            body.len()
        );
        assert!(data.resources.len() >= 10, "{name}: {:?}", data.resources);
        eprintln!(
            "html/{name}: {} bytes, {} elements, {} resources, {} loader ids",
            body.len(),
            data.elements,
            data.resources.len(),
            data.loader_ids.len()
        );
    }

    let mut group = c.benchmark_group("html");
    for (name, body) in &pages {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| extract(&url, black_box(body.as_bytes())));
        });
    }
    let all: usize = pages.iter().map(|(_, b)| b.len()).sum();
    group.throughput(Throughput::Bytes(all as u64));
    group.bench_function("all_kinds", |b| {
        b.iter(|| {
            pages
                .iter()
                .map(|(_, body)| extract(&url, black_box(body.as_bytes())).resources.len())
                .sum::<usize>()
        });
    });
    let (_, corp) = &pages[0];
    group.throughput(Throughput::Bytes(corp.len() as u64));
    group.bench_function("corp_chunked_16k", |b| {
        b.iter(|| {
            let mut extractor = Extractor::new(&url, Limits::default());
            for chunk in black_box(corp.as_bytes()).chunks(16 * 1024) {
                extractor.feed(chunk);
            }
            extractor.finish()
        });
    });
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, written out because the
// group function they generate is a `pub fn` without docs (denied by `missing_docs`).
fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    extraction(&mut criterion);
    criterion.final_summary();
}
