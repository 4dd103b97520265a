//! RDAP domain answers (fixtures in RFC 9083 shape), malformed input, the bootstrap
//! registry and URL building.

use proptest::prelude::*;
use servedby_rdap::{
    domain_url, is_redacted, parse_domain, Bootstrap, RdapError, MAX_RESPONSE_BYTES,
};
use url::Url;

const SERVER: &str = "https://rdap.verisign.com/com/v1/";

#[test]
fn com_answer_with_registrar_entity() {
    let data = parse_domain(include_bytes!("fixtures/com_verisign.json"), SERVER).unwrap();
    assert_eq!(data.domain, "example-surveillance.com");
    assert_eq!(data.server, SERVER);
    assert_eq!(data.registrar.as_deref(), Some("GoDaddy.com, LLC"));
    assert_eq!(data.registrar_iana_id, Some(146));
    assert_eq!(data.registrant_org, None);
    assert_eq!(data.created.as_deref(), Some("2004-03-19T07:12:41Z"));
    assert_eq!(data.expires.as_deref(), Some("2031-03-19T07:12:41Z"));
    assert_eq!(
        data.nameservers,
        vec!["ns-1234.awsdns-12.org", "ns-567.awsdns-34.net"]
    );
    assert_eq!(data.status.len(), 3);
    assert_eq!(data.status[0], "client delete prohibited");
}

#[test]
fn cn_answer_with_public_registrant() {
    let data = parse_domain(
        include_bytes!("fixtures/cn_registry.json"),
        "https://rdap.example.cn/",
    )
    .unwrap();
    assert_eq!(data.domain, "example-camera.cn");
    assert_eq!(
        data.registrar.as_deref(),
        Some("Alibaba Cloud Computing (Beijing) Co., Ltd.")
    );
    assert_eq!(data.registrar_iana_id, None);
    assert_eq!(
        data.registrant_org.as_deref(),
        Some("杭州示例摄像技术有限公司")
    );
    assert_eq!(
        data.nameservers,
        vec!["dns1.hichina.com", "dns2.hichina.com"]
    );
    assert_eq!(data.status.len(), 6);
}

#[test]
fn redacted_registrant_is_absent() {
    let data = parse_domain(include_bytes!("fixtures/redacted.json"), SERVER).unwrap();
    assert_eq!(data.registrant_org, None);
    // The first event of each kind counts; order in the array does not matter.
    assert_eq!(data.created.as_deref(), Some("2019-01-01T00:00:00Z"));
    assert_eq!(data.expires.as_deref(), Some("2029-01-01T00:00:00Z"));
    // Registrar name from `org` when there is no `fn`; numeric IANA id.
    assert_eq!(
        data.registrar.as_deref(),
        Some("Alibaba Cloud Computing Ltd. d/b/a HiChina (www.net.cn)")
    );
    assert_eq!(data.registrar_iana_id, Some(1599));
}

fn registrant(org: &str, name: &str) -> Vec<u8> {
    serde_json::json!({
        "objectClassName": "domain",
        "ldhName": "x.example",
        "entities": [{
            "objectClassName": "entity",
            "roles": ["registrant"],
            "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", name], ["org", {}, "text", org]]]
        }]
    })
    .to_string()
    .into_bytes()
}

#[test]
fn privacy_placeholders_are_not_organisations() {
    for placeholder in [
        "REDACTED FOR PRIVACY",
        "Redacted",
        "Data Protected",
        "Not Disclosed",
        "Whois Privacy Protection Service, Inc.",
        "GDPR Masked",
        "Statutory Masking Enabled (masked)",
        "Non-Public Data",
    ] {
        assert!(is_redacted(placeholder), "{placeholder}");
        let data = parse_domain(&registrant(placeholder, "Jane Doe"), SERVER).unwrap();
        assert_eq!(data.registrant_org, None, "{placeholder}");
    }
    let data = parse_domain(
        &registrant("Hangzhou Hikvision Digital Technology Co., Ltd.", "x"),
        SERVER,
    )
    .unwrap();
    assert_eq!(
        data.registrant_org.as_deref(),
        Some("Hangzhou Hikvision Digital Technology Co., Ltd.")
    );
    // Without an `org`, a public `fn` is taken.
    let json = serde_json::json!({
        "ldhName": "x.example",
        "entities": [{"roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "SenseTime Group Ltd"]]]}]
    });
    let data = parse_domain(json.to_string().as_bytes(), SERVER).unwrap();
    assert_eq!(data.registrant_org.as_deref(), Some("SenseTime Group Ltd"));
}

#[test]
fn nested_entities_are_searched_breadth_first_and_bounded() {
    // The registrar sits under a reseller entity; a deeper "registrar" role must not win
    // over a shallower one.
    let json = serde_json::json!({
        "objectClassName": "domain",
        "ldhName": "x.example",
        "entities": [
            {"roles": ["reseller"], "vcardArray": ["vcard", [["fn", {}, "text", "Reseller"]]],
             "entities": [
                {"roles": ["technical"], "entities": [
                    {"roles": ["registrar"], "vcardArray": ["vcard", [["fn", {}, "text", "Deep Registrar"]]]}
                ]},
                {"roles": ["registrar"], "vcardArray": ["vcard", [["fn", {}, "text", "Shallow Registrar"]]]}
             ]}
        ]
    });
    let data = parse_domain(json.to_string().as_bytes(), SERVER).unwrap();
    assert_eq!(data.registrar.as_deref(), Some("Shallow Registrar"));

    // Past the depth limit nothing is found (and nothing recurses without bound).
    let mut entity = serde_json::json!({"roles": ["registrar"], "vcardArray": ["vcard", [["fn", {}, "text", "Too Deep"]]]});
    for _ in 0..10 {
        entity = serde_json::json!({"roles": ["other"], "entities": [entity]});
    }
    let json = serde_json::json!({"ldhName": "x.example", "entities": [entity]});
    let data = parse_domain(json.to_string().as_bytes(), SERVER).unwrap();
    assert_eq!(data.registrar, None);
}

#[test]
fn missing_and_oddly_typed_fields_are_tolerated() {
    let data = parse_domain(br#"{"objectClassName": "domain"}"#, SERVER).unwrap();
    assert_eq!(data.domain, "");
    assert!(data.nameservers.is_empty());
    let odd = br#"{"ldhName": "x.example", "events": "soon", "nameservers": [1, {"ldhName": 2}, {"ldhName": "NS1.X.EXAMPLE"}],
        "status": [null, "active"], "entities": [{"roles": "registrar"}, 7, {"roles": ["registrar"], "vcardArray": ["vcard"],
        "publicIds": [{"type": "IANA Registrar ID", "identifier": "not a number"}]}]}"#;
    let data = parse_domain(odd, SERVER).unwrap();
    assert_eq!(data.domain, "x.example");
    assert_eq!(data.nameservers, vec!["ns1.x.example"]);
    assert_eq!(data.status, vec!["active"]);
    assert_eq!(data.registrar, None);
    assert_eq!(data.registrar_iana_id, None);
}

#[test]
fn malformed_input_gives_typed_errors() {
    assert!(matches!(parse_domain(b"", SERVER), Err(RdapError::Json(_))));
    assert!(matches!(
        parse_domain(b"{\"ldhName\": ", SERVER),
        Err(RdapError::Json(_))
    ));
    assert!(matches!(
        parse_domain(b"<html>503</html>", SERVER),
        Err(RdapError::Json(_))
    ));
    assert!(matches!(
        parse_domain(b"[1, 2]", SERVER),
        Err(RdapError::NotAnObject)
    ));
    assert!(matches!(
        parse_domain(b"{}", SERVER),
        Err(RdapError::NotADomain { .. })
    ));
    assert!(matches!(
        parse_domain(br#"{"objectClassName": "entity", "handle": "x"}"#, SERVER),
        Err(RdapError::NotADomain { class }) if class == "entity"
    ));
    match parse_domain(include_bytes!("fixtures/error_404.json"), SERVER) {
        Err(RdapError::ErrorResponse { code, title }) => {
            assert_eq!(code, 404);
            assert_eq!(title, "Not Found");
        }
        other => panic!("expected an error response, got {other:?}"),
    }
    let big = vec![b' '; MAX_RESPONSE_BYTES + 1];
    assert!(matches!(
        parse_domain(&big, SERVER),
        Err(RdapError::TooLarge { .. })
    ));
    // Nesting deeper than the JSON parser's recursion limit is an error, not a crash.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        parse_domain(deep.as_bytes(), SERVER),
        Err(RdapError::Json(_))
    ));
}

#[test]
fn bootstrap_picks_the_longest_suffix() {
    let json = br#"{
      "version": "1.0",
      "publication": "2026-11-01T00:00:00Z",
      "description": "test registry",
      "services": [
        [["com", "NET"], ["http://rdap.a.example/", "https://rdap.a.example/"]],
        [["uk"], ["https://rdap.uk.example/uk/"]],
        [["co.uk"], ["https://rdap.co-uk.example/"]],
        [["bad"], ["not a url"]]
      ]
    }"#;
    let b = Bootstrap::parse(json).unwrap();
    assert_eq!(b.publication(), Some("2026-11-01T00:00:00Z"));
    assert_eq!(b.len(), 4);
    assert_eq!(
        b.server_for("www.example.com").unwrap().as_str(),
        "https://rdap.a.example/"
    );
    assert_eq!(
        b.server_for("example.net").unwrap().as_str(),
        "https://rdap.a.example/"
    );
    assert_eq!(
        b.server_for("example.co.uk").unwrap().as_str(),
        "https://rdap.co-uk.example/"
    );
    assert_eq!(
        b.server_for("example.org.uk").unwrap().as_str(),
        "https://rdap.uk.example/uk/"
    );
    assert_eq!(b.server_for("example.bad"), None);
    assert_eq!(b.server_for("example.cn"), None);
    assert!(matches!(
        Bootstrap::parse(b"{\"services\": 3}"),
        Err(servedby_rdap::BootstrapError::Json(_))
    ));
}

#[test]
fn domain_urls() {
    let with = Url::parse("https://rdap.verisign.com/com/v1/").unwrap();
    let without = Url::parse("https://rdap.verisign.com/com/v1").unwrap();
    let root = Url::parse("http://127.0.0.1:8080").unwrap();
    assert_eq!(
        domain_url(&with, "Example.COM").unwrap().as_str(),
        "https://rdap.verisign.com/com/v1/domain/example.com"
    );
    assert_eq!(
        domain_url(&without, "example.com").unwrap().as_str(),
        "https://rdap.verisign.com/com/v1/domain/example.com"
    );
    assert_eq!(
        domain_url(&root, "example.com.").unwrap().as_str(),
        "http://127.0.0.1:8080/domain/example.com"
    );
    let odd = domain_url(&with, "a/b?c#d").unwrap();
    assert_eq!(
        odd.as_str(),
        "https://rdap.verisign.com/com/v1/domain/a%2Fb%3Fc%23d"
    );
    assert!(domain_url(&Url::parse("mailto:x@y").unwrap(), "x.com").is_err());
}

proptest! {
    #[test]
    fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse_domain(&bytes, SERVER);
        let _ = Bootstrap::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_json_soup(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just("\"ldhName\""),
                Just("\"entities\""), Just("\"roles\""), Just("\"registrar\""), Just("\"vcardArray\""),
                Just("\"vcard\""), Just("\"fn\""), Just("\"org\""), Just("\"events\""), Just("\"eventAction\""),
                Just("\"registration\""), Just("\"publicIds\""), Just("\"identifier\""), Just("\"type\""),
                Just("\"IANA Registrar ID\""), Just("\"nameservers\""), Just("1"), Just("null"), Just("\"x\""),
                Just("{\"objectClassName\":\"domain\""),
            ],
            0..80,
        )
    ) {
        let _ = parse_domain(parts.concat().as_bytes(), SERVER);
    }

    #[test]
    fn server_for_never_panics(domain in "\\PC{0,40}") {
        let _ = Bootstrap::builtin_fallback().server_for(&domain);
    }
}
