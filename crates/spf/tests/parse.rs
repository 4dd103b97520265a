//! SPF parsing: real-world shapes, every mechanism and modifier, typed errors, and
//! properties (no panic on any input; generated valid records round-trip).

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use servedby_spf::{is_spf, parse, Mechanism, Modifier, Qualifier, SpfError, SpfRecord, Term};

fn mech(q: Option<Qualifier>, m: Mechanism) -> Term {
    Term::Mechanism {
        qualifier: q,
        mechanism: m,
    }
}

#[test]
fn recognises_spf_records() {
    assert!(is_spf("v=spf1"));
    assert!(is_spf("v=spf1 -all"));
    assert!(is_spf("V=SPF1 include:x.example ~all"));
    assert!(!is_spf("v=spf10 -all"));
    assert!(!is_spf("v=spf1-all"));
    assert!(!is_spf(" v=spf1 -all"));
    assert!(!is_spf("google-site-verification=abc"));
    assert!(!is_spf(""));
    assert_eq!(parse("v=DMARC1; p=none"), Err(SpfError::NotSpf));
}

#[test]
fn parses_a_typical_record() {
    let r = parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.google.com include:spf.protection.outlook.com a mx:mail.example.com/28 -all").unwrap();
    assert_eq!(
        r.terms,
        vec![
            mech(
                None,
                Mechanism::Ip4 {
                    addr: Ipv4Addr::new(192, 0, 2, 0),
                    prefix: Some(24)
                }
            ),
            mech(
                None,
                Mechanism::Ip6 {
                    addr: "2001:db8::".parse::<Ipv6Addr>().unwrap(),
                    prefix: Some(32)
                }
            ),
            mech(None, Mechanism::Include("_spf.google.com".into())),
            mech(
                None,
                Mechanism::Include("spf.protection.outlook.com".into())
            ),
            mech(
                None,
                Mechanism::A {
                    domain: None,
                    cidr4: None,
                    cidr6: None
                }
            ),
            mech(
                None,
                Mechanism::Mx {
                    domain: Some("mail.example.com".into()),
                    cidr4: Some(28),
                    cidr6: None
                }
            ),
            mech(Some(Qualifier::Fail), Mechanism::All),
        ]
    );
    assert_eq!(
        r.includes().collect::<Vec<_>>(),
        vec!["_spf.google.com", "spf.protection.outlook.com"]
    );
    assert_eq!(r.redirect(), None);
    assert_eq!(r.dns_lookup_count(), 4);
}

#[test]
fn model_terms_record_qualifiers_and_values() {
    let r = parse("v=spf1 ~include:spf.mail.qq.com a/24 mx:example.com/24//64 ?ptr exists:%{i}._spf.example.com redirect=_spf.example.net exp=explain.example.com foo=bar").unwrap();
    let model: Vec<_> = r
        .to_model()
        .into_iter()
        .map(|t| (t.qualifier, t.name, t.value))
        .collect();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        model,
        vec![
            (s("~"), s("include"), Some(s("spf.mail.qq.com"))),
            (s("+"), s("a"), Some(s("/24"))),
            (s("+"), s("mx"), Some(s("example.com/24//64"))),
            (s("?"), s("ptr"), None),
            (s("+"), s("exists"), Some(s("%{i}._spf.example.com"))),
            (s(""), s("redirect"), Some(s("_spf.example.net"))),
            (s(""), s("exp"), Some(s("explain.example.com"))),
            (s(""), s("foo"), Some(s("bar"))),
        ]
    );
    // include, a, mx, ptr, exists, redirect.
    assert_eq!(r.dns_lookup_count(), 6);
    assert_eq!(r.redirect(), Some("_spf.example.net"));
    assert_eq!(r.exp(), Some("explain.example.com"));
}

#[test]
fn tolerates_extra_spaces_and_case() {
    let r = parse("v=spf1   INCLUDE:Spf.Example.COM\t  IP4:10.0.0.1   ~ALL   ").unwrap();
    assert_eq!(r.terms.len(), 3);
    assert_eq!(r.includes().next(), Some("Spf.Example.COM"));
    assert_eq!(
        r.to_string(),
        "v=spf1 include:Spf.Example.COM ip4:10.0.0.1 ~all"
    );
    assert_eq!(parse("v=spf1").unwrap().terms, vec![]);
    assert_eq!(parse("v=spf1 ").unwrap().terms, vec![]);
}

#[test]
fn macros_are_kept_literally() {
    let r =
        parse("v=spf1 include:%{ir}.%{v}._spf.%{d2} exists:%{l1r-}.%{d}.%%.%_.%- -all").unwrap();
    assert_eq!(r.includes().next(), Some("%{ir}.%{v}._spf.%{d2}"));
    assert!(matches!(
        parse("v=spf1 include:%{x}.example.com"),
        Err(SpfError::InvalidMacro { .. })
    ));
    assert!(matches!(
        parse("v=spf1 include:%{d.example.com"),
        Err(SpfError::InvalidMacro { .. })
    ));
    assert!(matches!(
        parse("v=spf1 include:100%.example.com"),
        Err(SpfError::InvalidMacro { .. })
    ));
}

#[test]
fn typed_errors_with_positions() {
    let cases: Vec<(&str, SpfError)> = vec![
        (
            "v=spf1 include -all",
            SpfError::MissingDomain {
                name: "include".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 include: -all",
            SpfError::MissingDomain {
                name: "include".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 a exists",
            SpfError::MissingDomain {
                name: "exists".into(),
                position: 9,
            },
        ),
        (
            "v=spf1 redirect=",
            SpfError::MissingDomain {
                name: "redirect".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 ip4:300.1.1.1",
            SpfError::InvalidIp4 {
                value: "300.1.1.1".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 ip4:1.2.3",
            SpfError::InvalidIp4 {
                value: "1.2.3".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 ip4",
            SpfError::InvalidIp4 {
                value: "".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 ip4:1.2.3.4/33",
            SpfError::InvalidCidr {
                value: "33".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 ip4:1.2.3.4/024",
            SpfError::InvalidCidr {
                value: "024".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 ip6:2001:db8::/129",
            SpfError::InvalidCidr {
                value: "129".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 ip6:2001:zz8::",
            SpfError::InvalidIp6 {
                value: "2001:zz8::".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 a/",
            SpfError::InvalidCidr {
                value: "".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 a:example.com/40",
            SpfError::InvalidCidr {
                value: "40".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 all:x",
            SpfError::UnexpectedArgument {
                term: "all:x".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 include/24",
            SpfError::UnexpectedArgument {
                term: "include/24".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 ptr/24",
            SpfError::UnexpectedArgument {
                term: "ptr/24".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 foo:bar",
            SpfError::UnknownMechanism {
                term: "foo:bar".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 1x=y",
            SpfError::UnknownMechanism {
                term: "1x=y".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 -redirect=x.example",
            SpfError::QualifiedModifier {
                term: "-redirect=x.example".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 redirect=a.example redirect=b.example",
            SpfError::DuplicateModifier {
                name: "redirect".into(),
                position: 26,
            },
        ),
        (
            "v=spf1 include:1.2.3.4",
            SpfError::InvalidDomain {
                name: "include".into(),
                domain: "1.2.3.4".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 include:localhost",
            SpfError::InvalidDomain {
                name: "include".into(),
                domain: "localhost".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 include:a..example",
            SpfError::InvalidDomain {
                name: "include".into(),
                domain: "a..example".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 include:x.example/24",
            SpfError::InvalidDomain {
                name: "include".into(),
                domain: "x.example/24".into(),
                position: 7,
            },
        ),
        (
            "v=spf1 include:bücher.example",
            SpfError::InvalidCharacter {
                term: "include:bücher.example".into(),
                position: 7,
            },
        ),
    ];
    for (record, expected) in cases {
        assert_eq!(parse(record), Err(expected), "{record}");
    }
    let long = format!("v=spf1 {}", "a ".repeat(10_000));
    assert!(matches!(parse(&long), Err(SpfError::TooLong { .. })));
    // Errors read well.
    let err = parse("v=spf1 include -all").unwrap_err();
    assert_eq!(err.to_string(), "include without a domain at byte 7");
}

#[test]
fn from_str_and_display() {
    let r: SpfRecord = "v=spf1 +mx ?a:x.example//64 redirect=_spf.example.org"
        .parse()
        .unwrap();
    assert_eq!(
        r.to_string(),
        "v=spf1 +mx ?a:x.example//64 redirect=_spf.example.org"
    );
    assert_eq!(
        r.terms[2],
        Term::Modifier(Modifier::Redirect("_spf.example.org".into()))
    );
}

fn domain() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_]{1,10}(\\.[a-z0-9-]{1,10}){0,3}\\.[a-z]{2,6}",
        Just("%{d}".to_owned()),
        Just("%{ir}.%{v}._spf.%{d2}".to_owned()),
    ]
}

fn qualifier() -> impl Strategy<Value = Option<Qualifier>> {
    prop_oneof![
        Just(None),
        Just(Some(Qualifier::Pass)),
        Just(Some(Qualifier::Fail)),
        Just(Some(Qualifier::SoftFail)),
        Just(Some(Qualifier::Neutral)),
    ]
}

fn mechanism() -> impl Strategy<Value = Mechanism> {
    prop_oneof![
        Just(Mechanism::All),
        domain().prop_map(Mechanism::Include),
        domain().prop_map(Mechanism::Exists),
        proptest::option::of(domain()).prop_map(Mechanism::Ptr),
        (
            proptest::option::of(domain()),
            proptest::option::of(0u8..=32),
            proptest::option::of(0u8..=128)
        )
            .prop_map(|(domain, cidr4, cidr6)| Mechanism::A {
                domain,
                cidr4,
                cidr6
            }),
        (
            proptest::option::of(domain()),
            proptest::option::of(0u8..=32),
            proptest::option::of(0u8..=128)
        )
            .prop_map(|(domain, cidr4, cidr6)| Mechanism::Mx {
                domain,
                cidr4,
                cidr6
            }),
        (any::<u32>(), proptest::option::of(0u8..=32)).prop_map(|(a, prefix)| Mechanism::Ip4 {
            addr: Ipv4Addr::from(a),
            prefix
        }),
        (any::<u128>(), proptest::option::of(0u8..=128)).prop_map(|(a, prefix)| Mechanism::Ip6 {
            addr: Ipv6Addr::from(a),
            prefix
        }),
    ]
}

fn record() -> impl Strategy<Value = SpfRecord> {
    (
        proptest::collection::vec((qualifier(), mechanism()), 0..12),
        proptest::option::of(domain()),
        proptest::option::of(domain()),
        proptest::option::of(("[a-z][a-z0-9._-]{0,8}", "[a-z0-9.]{0,10}")),
    )
        .prop_map(|(mechs, redirect, exp, unknown)| {
            let mut terms: Vec<Term> = mechs.into_iter().map(|(q, m)| mech(q, m)).collect();
            terms.extend(redirect.map(|d| Term::Modifier(Modifier::Redirect(d))));
            terms.extend(exp.map(|d| Term::Modifier(Modifier::Exp(d))));
            if let Some((name, value)) = unknown {
                if name != "redirect" && name != "exp" {
                    terms.push(Term::Modifier(Modifier::Unknown { name, value }));
                }
            }
            SpfRecord { terms }
        })
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC*") {
        let _ = parse(&s);
        let _ = parse(&format!("v=spf1 {s}"));
    }

    #[test]
    fn parse_never_panics_on_spf_like_soup(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("v=spf1"), Just(" "), Just("include"), Just(":"), Just("/"), Just("//"), Just("="),
                Just("%{"), Just("}"), Just("%"), Just("a"), Just("mx"), Just("ip4"), Just("ip6"),
                Just("1.2.3.4"), Just("::1"), Just("-"), Just("~"), Just("+"), Just("?"), Just("redirect"),
                Just("x.example"), Just("99"), Just("0"),
            ],
            0..40,
        )
    ) {
        let _ = parse(&parts.concat());
    }

    #[test]
    fn generated_records_round_trip(r in record()) {
        let text = r.to_string();
        let parsed = parse(&text);
        prop_assert_eq!(parsed.as_ref(), Ok(&r), "{}", text);
        let lookups = r.terms.iter().filter(|t| matches!(t,
            Term::Mechanism { mechanism: Mechanism::Include(_) | Mechanism::A { .. } | Mechanism::Mx { .. }
                | Mechanism::Ptr(_) | Mechanism::Exists(_), .. }
            | Term::Modifier(Modifier::Redirect(_)))).count();
        prop_assert_eq!(parsed.unwrap().dns_lookup_count() as usize, lookups);
    }
}
