//! Changes between two scans.

use servedby_model::Service;
use servedby_report::{changes, write_changes, ChangeKind, Format, RenderOptions};

use crate::fixtures;

#[test]
fn appeared_disappeared_and_moved() {
    let list = changes(&fixtures::scan1(), &fixtures::scan2());
    let lines: Vec<String> = list
        .iter()
        .map(|c| format!("{} {} {}", c.target, c.change, c.summary()))
        .collect();
    assert_eq!(
        lines,
        [
            "dahuasecurity.com changed email: microsoft → tencent",
            "example-lab.cn appeared hosting: — → pccw",
            "example-lab.cn appeared registrar: — → gandi",
            "hik-connect.com appeared dns: — → amazon",
            "hikvision.com disappeared waf: akamai → —",
        ]
    );
    let moved = &list[0];
    assert_eq!(moved.service, Service::Email);
    assert_eq!(moved.change, ChangeKind::Changed);
    assert_eq!(moved.entity.as_deref(), Some("dahua"));
    assert_eq!(moved.before, ["microsoft"]);
    assert_eq!(moved.after, ["tencent"]);
}

#[test]
fn same_scan_has_no_changes_and_embeds_compare_by_kind() {
    assert!(changes(&fixtures::scan2(), &fixtures::scan2()).is_empty());
    let mut new = fixtures::scan2();
    // The analytics embed on hikvision.com becomes a fonts embed: the analytics slot
    // disappears and a fonts slot appears.
    for r in &mut new {
        if r.target == "hikvision.com" && r.service == Service::Embed {
            r.embed_kind = Some(servedby_model::EmbedKind::Fonts);
        }
    }
    let list = changes(&fixtures::scan2(), &new);
    let summaries: Vec<String> = list.iter().map(|c| c.summary()).collect();
    assert_eq!(
        summaries,
        ["embed/analytics: google → —", "embed/fonts: — → google"]
    );
}

#[test]
fn change_renderings() {
    let list = changes(&fixtures::scan1(), &fixtures::scan2());
    for format in [Format::Table, Format::Jsonl, Format::Csv] {
        let mut out = Vec::new();
        write_changes(&mut out, &list, format, &RenderOptions::with_width(100)).unwrap();
        insta::assert_snapshot!(format!("changes-{format}"), String::from_utf8(out).unwrap());
    }
    assert!(write_changes(
        &mut Vec::new(),
        &list,
        Format::Html,
        &RenderOptions::default()
    )
    .is_err());
}
