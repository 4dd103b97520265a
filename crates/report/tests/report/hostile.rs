//! Hostile scanned content: titles, headers, URLs and provider names that try to
//! run script in the HTML report, break out of the JSON data island, or send
//! terminal commands. Checked textually and in headless Chromium.

use servedby_report::{Format, RenderOptions, Report, StrengthFilter, View};

use crate::fixtures;
use crate::util::{chromium, render, require, run_chromium};

fn hostile_report(format: Format, view: View) -> String {
    let (scan, seen, entities) = (
        fixtures::scan(),
        fixtures::hostile_seen(),
        fixtures::hostile_entities(),
    );
    let report = Report::new(&scan, &seen, &entities, StrengthFilter::All);
    render(&report, view, format, &RenderOptions::with_width(120))
}

/// Every tag of an HTML document outside `<style>`/`<script>` contents, as
/// (name, attribute names), parsed the strict way our writer produces them.
fn tags(html: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with('!') || rest.starts_with('/') {
            continue;
        }
        let end = rest.find('>').expect("unclosed tag");
        let tag = &rest[..end];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        // Attributes: name="value" with values free of '"' (they are escaped).
        let mut attrs = Vec::new();
        let mut a = &tag[name.len()..];
        loop {
            a = a.trim_start();
            if a.is_empty() || a == "/" {
                break;
            }
            let n: String = a
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            assert!(!n.is_empty(), "unparseable attributes in <{tag}>");
            a = &a[n.len()..];
            if let Some(v) = a.strip_prefix("=\"") {
                let close = v.find('"').expect("unterminated attribute");
                a = &v[close + 1..];
            }
            attrs.push(n);
        }
        // Skip raw-text element contents.
        if name == "style" || name == "script" {
            let close = format!("</{name}>");
            let c = rest.find(&close).expect("raw text element closed");
            rest = &rest[c..];
        }
        out.push((name, attrs));
    }
    out
}

#[test]
fn html_escapes_every_payload() {
    let html = hostile_report(Format::Html, View::Provider);
    const TAGS: &[&str] = &[
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p", "strong",
        "nav", "a", "main", "ul", "li", "section", "div", "span", "i", "svg", "text", "rect",
        "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "code", "br", "input",
        "footer", "script",
    ];
    const ATTRS: &[&str] = &[
        "lang",
        "charset",
        "http-equiv",
        "content",
        "name",
        "class",
        "id",
        "style",
        "title",
        "href",
        "role",
        "aria-label",
        "width",
        "height",
        "viewBox",
        "xmlns",
        "x",
        "y",
        "fill",
        "text-anchor",
        "data-sort",
        "data-index",
        "type",
        "placeholder",
    ];
    let all = tags(&html);
    assert!(all.len() > 100);
    for (name, attrs) in &all {
        assert!(TAGS.contains(&name.as_str()), "unexpected tag <{name}>");
        for a in attrs {
            assert!(
                ATTRS.contains(&a.as_str()),
                "unexpected attribute {a} on <{name}>"
            );
        }
    }
    // Exactly our two scripts, and links only to in-page anchors.
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.to_ascii_lowercase().matches("</script").count(), 2);
    for href in html.split("href=\"").skip(1) {
        assert!(
            href.starts_with('#'),
            "link {}",
            &href[..href.len().min(40)]
        );
    }
    // The data island holds no markup characters and no raw line separators.
    let open = "<script type=\"application/json\" id=\"servedby-data\">";
    let start = html.find(open).unwrap();
    let island = &html[start + open.len()..];
    let island = &island[..island.find("</script>").unwrap()];
    assert!(!island.contains(['<', '>', '&', '\u{2028}', '\u{2029}']));
    let data: serde_json::Value = serde_json::from_str(island).expect("island is JSON");
    assert_eq!(
        data["relationships"][0]["provider"]["name"].as_str(),
        Some(fixtures::HOSTILE[0])
    );
    // No terminal or bidi controls anywhere in the page.
    assert!(!html
        .chars()
        .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)));
    // The payloads are present, as inert text.
    assert!(html.contains("&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror="));
}

#[test]
fn tables_and_jsonl_carry_no_terminal_controls() {
    for view in View::ALL {
        let table = hostile_report(Format::Table, view);
        assert!(
            !table
                .chars()
                .any(|c| (c.is_control() && c != '\n')
                    || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')),
            "{view}: {table:?}"
        );
        let jsonl = hostile_report(Format::Jsonl, view);
        assert!(
            !jsonl.chars().any(|c| (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')),
            "{view}"
        );
        for line in jsonl.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("valid JSON");
        }
    }
}

#[test]
fn csv_cells_cannot_start_formulas() {
    let csv = hostile_report(Format::Csv, View::Relationships);
    assert!(csv.contains("'=HYPERLINK("));
    // No cell (after an optional opening quote) starts with a formula character.
    for line in csv.split("\r\n") {
        for cell in line.split(',') {
            let c = cell.strip_prefix('"').unwrap_or(cell);
            assert!(
                !c.starts_with(['=', '+', '@']),
                "formula cell {cell:?} in {line:?}"
            );
        }
    }
}

/// Loads `html` in headless Chromium and returns the DOM after scripts ran.
fn dump_dom(bin: &str, html: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.html");
    std::fs::write(&file, html).unwrap();
    let out = run_chromium(
        bin,
        &["--dump-dom".into(), "--virtual-time-budget=3000".into()],
        &file,
    );
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("<title>"),
        "chromium produced no DOM:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

fn title(dom: &str) -> &str {
    let start = dom.find("<title>").unwrap() + 7;
    &dom[start..start + dom[start..].find("</title>").unwrap()]
}

/// The report without its Content-Security-Policy, so only escaping stands
/// between a payload and the browser.
fn without_csp(html: &str) -> String {
    let start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let end = start + html[start..].find('>').unwrap() + 1;
    format!("{}{}", &html[..start], &html[end..])
}

#[test]
fn no_payload_runs_in_chromium() {
    let Some(bin) = chromium() else {
        require("chromium", false);
        return;
    };
    let html = hostile_report(Format::Html, View::Provider);

    // As shipped (CSP on), and with the CSP removed: no payload runs either way,
    // and our own script does (so the CSP hash is right and the page is intact).
    for (label, page) in [
        ("with CSP", html.clone()),
        ("without CSP", without_csp(&html)),
    ] {
        let dom = dump_dom(bin, &page);
        assert!(
            dom.contains("data-servedby-ready=\"1\""),
            "{label}: our own script did not run"
        );
        assert!(!dom.contains("data-pwned=\""), "{label}: a payload ran");
        assert_eq!(title(&dom), "servedby report — scan 2", "{label}");
    }

    // Control: the same detection does see a payload that is not escaped.
    let broken = without_csp(&html).replacen(
        "<body>",
        "<body><img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1');document.title='PWNED'\">",
        1,
    );
    let dom = dump_dom(bin, &broken);
    assert!(
        dom.contains("data-pwned=\"1\""),
        "control payload did not run"
    );
    assert_eq!(title(&dom), "PWNED");

    // A screenshot for people to look at (kept in the target dir).
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = shots.join("servedby-report-hostile.html");
    std::fs::write(&file, &html).unwrap();
    let png = shots.join("servedby-report-hostile.png");
    let _ = std::fs::remove_file(&png);
    run_chromium(
        bin,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,2000".into(),
            "--virtual-time-budget=3000".into(),
        ],
        &file,
    );
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "screenshot missing or blank ({size} bytes)");
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn report_screenshot() {
    let Some(bin) = chromium() else {
        require("chromium", false);
        return;
    };
    let (scan, seen, entities) = (fixtures::scan(), fixtures::seen(), fixtures::entities());
    let report = Report::new(&scan, &seen, &entities, StrengthFilter::All);
    let html = render(
        &report,
        View::Provider,
        Format::Html,
        &RenderOptions::default(),
    );
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = shots.join("servedby-report.html");
    std::fs::write(&file, html).unwrap();
    let out = run_chromium(
        bin,
        &["--dump-dom".into(), "--virtual-time-budget=3000".into()],
        &file,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("data-servedby-ready=\"1\""));
    let png = shots.join("servedby-report.png");
    let _ = std::fs::remove_file(&png);
    run_chromium(
        bin,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,2400".into(),
            "--virtual-time-budget=3000".into(),
        ],
        &file,
    );
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "screenshot missing or blank ({size} bytes)");
    eprintln!("screenshot: {}", png.display());
}
