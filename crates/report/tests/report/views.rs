//! The views' numbers, checked by hand on the fixture world.

use servedby_model::Service;
use servedby_report::{Entities, Report, StrengthFilter};

use crate::fixtures;

#[test]
fn provider_view_counts_entities_and_domains_by_strength() {
    let (scan, seen, entities) = (fixtures::scan(), fixtures::seen(), fixtures::entities());
    let report = Report::new(&scan, &seen, &entities, StrengthFilter::All);
    let rows = report.provider_view();
    let ids: Vec<&str> = rows.iter().map(|r| r.provider_id.as_str()).collect();
    // Most entities first, then domains, then id.
    assert_eq!(
        ids,
        [
            "alibaba",
            "microsoft",
            "digicert",
            "google",
            "lets-encrypt",
            "tencent",
            "amazon",
            "cloudflare",
            "baidu",
            "linkedin",
            "gandi",
            "pccw"
        ]
    );
    let amazon = rows.iter().find(|r| r.provider_id == "amazon").unwrap();
    assert_eq!(
        (amazon.entities, amazon.domains, amazon.relationships),
        (1, 2, 4)
    );
    assert_eq!(amazon.country, "US");
    assert_eq!(
        amazon.products,
        ["Amazon CloudFront", "Amazon EC2", "Amazon Route 53"]
    );
    assert_eq!(amazon.services[&Service::Hosting].domains, 2);
    assert_eq!(amazon.services[&Service::Cdn].domains, 1);
    assert_eq!(amazon.embed.relationships, 0);

    let google = rows.iter().find(|r| r.provider_id == "google").unwrap();
    assert_eq!(google.contract.entities, 0, "embeds are not contracts");
    assert_eq!((google.embed.entities, google.embed.domains), (2, 2));
    assert_eq!(google.entity_ids, ["dahua", "hikvision"]);

    let microsoft = rows.iter().find(|r| r.provider_id == "microsoft").unwrap();
    assert_eq!((microsoft.entities, microsoft.domains), (2, 2));

    let pccw = rows.iter().find(|r| r.provider_id == "pccw").unwrap();
    assert_eq!((pccw.entities, pccw.domains), (0, 1));
}

#[test]
fn strength_filter_keeps_contract_and_embed_apart() {
    let (scan, seen, entities) = (fixtures::scan(), fixtures::seen(), fixtures::entities());
    let contract = Report::new(&scan, &seen, &entities, StrengthFilter::Contract);
    assert!(contract
        .provider_view()
        .iter()
        .all(|r| r.embed.relationships == 0 && r.link.relationships == 0));
    assert!(!contract
        .provider_view()
        .iter()
        .any(|r| r.provider_id == "baidu" || r.provider_id == "linkedin"));

    let embed = Report::new(&scan, &seen, &entities, StrengthFilter::Embed);
    let ids: Vec<String> = embed
        .provider_view()
        .into_iter()
        .map(|r| r.provider_id)
        .collect();
    assert_eq!(ids, ["google", "baidu"]);

    let link = Report::new(&scan, &seen, &entities, StrengthFilter::Link);
    assert_eq!(link.relationships().len(), 1);
    assert_eq!(
        "contract".parse::<StrengthFilter>(),
        Ok(StrengthFilter::Contract)
    );
    assert!("strong".parse::<StrengthFilter>().is_err());
}

#[test]
fn entity_view_shares_contract_services_by_country() {
    let (scan, seen, entities) = (fixtures::scan(), fixtures::seen(), fixtures::entities());
    let report = Report::new(&scan, &seen, &entities, StrengthFilter::All);
    let rows = report.entity_view();
    let orgs: Vec<&str> = rows.iter().map(|r| r.organisation.as_str()).collect();
    assert_eq!(orgs, ["dahua", "hikvision", "sensetime", "example-lab.cn"]);

    let sense = &rows[2];
    assert_eq!(sense.name, "SenseTime Group Inc.");
    assert_eq!(sense.lists, ["entity-list", "ns-cmic"]);
    // hosting tencent (CN), email + email-sending microsoft (US), registrar alibaba
    // (CN), certificate digicert (US); the Baidu embed and LinkedIn link do not count.
    assert_eq!(
        (
            sense.contract.total,
            sense.contract.us,
            sense.contract.cn,
            sense.contract.other
        ),
        (5, 3, 2, 0)
    );
    assert_eq!(sense.contract.us_share, 0.6);
    assert_eq!(sense.providers[&Service::Embed], ["baidu"]);

    let hik = &rows[1];
    assert_eq!(hik.domains, ["hik-connect.com", "hikvision.com"]);
    assert_eq!(hik.providers[&Service::Hosting], ["amazon"]);
    assert_eq!(hik.providers[&Service::Dns], ["alibaba", "amazon"]);
    // 8 contract relationships: 7 with US firms, 1 (Alibaba DNS) with a Chinese one.
    assert_eq!(
        (hik.contract.total, hik.contract.us, hik.contract.cn),
        (8, 7, 1)
    );
    assert_eq!(hik.contract.us_share, 0.875);

    let lab = &rows[3];
    assert_eq!(lab.entity, None);
    assert_eq!(lab.name, "example-lab.cn");
    assert_eq!(
        (lab.contract.other, lab.contract.other_countries.clone()),
        (2, vec!["FR".to_owned(), "HK".to_owned()])
    );
}

#[test]
fn entity_view_works_without_metadata() {
    let (scan, seen) = (fixtures::scan(), fixtures::seen());
    let none = Entities::new();
    let report = Report::new(&scan, &seen, &none, StrengthFilter::All);
    let rows = report.entity_view();
    assert_eq!(rows[0].name, "dahua");
    assert!(rows[0].lists.is_empty());
}

#[test]
fn country_and_service_views() {
    let (scan, seen, entities) = (fixtures::scan(), fixtures::seen(), fixtures::entities());
    let report = Report::new(&scan, &seen, &entities, StrengthFilter::All);
    let countries = report.country_view();
    let us_hosting = countries
        .iter()
        .find(|r| r.country == "US" && r.service == Service::Hosting)
        .unwrap();
    assert_eq!(us_hosting.provider_ids, ["amazon"]);
    assert_eq!((us_hosting.entities, us_hosting.domains), (1, 2));
    let cn_email = countries
        .iter()
        .find(|r| r.country == "CN" && r.service == Service::Email)
        .unwrap();
    assert_eq!(cn_email.provider_ids, ["tencent"]);
    assert!(countries.iter().any(|r| r.country == "HK"));

    let services = report.service_view();
    let certs: Vec<&str> = services
        .iter()
        .filter(|r| r.service == Service::Certificate)
        .map(|r| r.provider_id.as_str())
        .collect();
    assert_eq!(certs, ["digicert", "lets-encrypt"]);
    let embeds: Vec<_> = services
        .iter()
        .filter(|r| r.service == Service::Embed)
        .collect();
    assert_eq!(embeds[0].provider_id, "google");
    assert_eq!(embeds[0].embed_kinds.len(), 2);
}

#[test]
fn views_do_not_depend_on_input_order() {
    let (scan, entities) = (fixtures::scan(), fixtures::entities());
    let seen = fixtures::seen();
    let mut reversed = seen.clone();
    reversed.reverse();
    let a = Report::new(&scan, &seen, &entities, StrengthFilter::All);
    let b = Report::new(&scan, &reversed, &entities, StrengthFilter::All);
    assert_eq!(a.provider_view(), b.provider_view());
    assert_eq!(a.entity_view(), b.entity_view());
    assert_eq!(a.country_view(), b.country_view());
    assert_eq!(a.service_view(), b.service_view());
}

#[test]
fn empty_scan_has_empty_views() {
    let scan = fixtures::scan();
    let entities = Entities::new();
    let report = Report::new(&scan, &[], &entities, StrengthFilter::All);
    assert!(report.provider_view().is_empty());
    assert!(report.entity_view().is_empty());
    assert!(report.country_view().is_empty());
    assert!(report.service_view().is_empty());
}
