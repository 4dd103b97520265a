//! Helpers: rendering to strings and finding the external readers.
//!
//! A test that needs an external reader (python3 with pyarrow/duckdb/followthemoney,
//! or chromium) calls [`require`]. When the reader is missing it prints
//! "skipped: … not installed" and the test returns early — unless
//! `SERVEDBY_REQUIRE_READERS` is set (CI sets it after `scripts/test-readers.sh`),
//! in which case a missing reader fails the test.

use std::path::Path;
use std::process::Command;

use servedby_report::{Format, RenderOptions, Report, View};

pub(crate) fn render(
    report: &Report<'_>,
    view: View,
    format: Format,
    options: &RenderOptions,
) -> String {
    let mut out = Vec::new();
    report
        .write(&mut out, view, format, options)
        .expect("render");
    String::from_utf8(out).expect("utf-8 output")
}

pub(crate) fn render_bytes(report: &Report<'_>, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    report
        .write(
            &mut out,
            View::Relationships,
            format,
            &RenderOptions::default(),
        )
        .expect("render");
    out
}

/// Whether the reader is there; on absence, skip (return false) or fail.
pub(crate) fn require(reader: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var_os("SERVEDBY_REQUIRE_READERS").is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{reader} not installed but SERVEDBY_REQUIRE_READERS is set; run scripts/test-readers.sh");
    }
    eprintln!("skipped: {reader} not installed (run scripts/test-readers.sh)");
    false
}

/// Whether `python3` can import `module`.
pub(crate) fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs a python script with arguments; panics with its stderr on failure.
pub(crate) fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The chromium binary, if installed.
pub(crate) fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Runs headless chromium on a local file with network features off.
pub(crate) fn run_chromium(bin: &str, extra: &[String], file: &Path) -> std::process::Output {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--disable-dev-shm-usage",
        "--no-proxy-server",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", file.display()));
    cmd.output().expect("run chromium")
}
