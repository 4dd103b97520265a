//! Integration tests: the builtin list, domain matching, the CSL importers, and
//! error reporting on malformed input.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use servedby_watchlist::{CsvProblem, ListId, Location, Problem, Watchlist, WatchlistError};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn builtin() -> Watchlist {
    match Watchlist::builtin() {
        Ok(w) => w,
        Err(e) => panic!("builtin watchlist does not load: {e}"),
    }
}

/// The organisations the builtin list must cover, and whether a website is known.
const REQUIRED: &[(&str, bool)] = &[
    ("hikvision", true),
    ("dahua", true),
    ("sensetime", true),
    ("megvii", true),
    ("iflytek", true),
    ("yitu", true),
    ("cloudwalk", true),
    ("meiya-pico", true),
    ("yixin", false),
    ("netposa", true),
    ("intellifusion", true),
    ("huawei", true),
    ("hisilicon", true),
    ("zte", true),
    ("hytera", true),
    ("china-mobile", true),
    ("china-telecom", true),
    ("china-unicom", true),
    ("pacific-networks", false),
    ("kaspersky", true),
    ("nso-group", true),
    ("candiru", false),
    ("intellexa", true),
    ("cytrox", false),
    ("positive-technologies", true),
    ("coseinc", true),
];

#[test]
fn builtin_has_every_required_entity() {
    let w = builtin();
    assert_eq!(w.name(), "builtin");
    assert!(!w.version().is_empty());
    for &(id, has_domain) in REQUIRED {
        let Some(e) = w.entity(id) else {
            panic!("builtin lacks {id}");
        };
        assert!(!e.lists.is_empty(), "{id} is on no list");
        assert!(!e.sources.is_empty(), "{id} has no source");
        assert!(e.country.is_some(), "{id} has no country");
        if has_domain {
            assert!(!e.domains.is_empty(), "{id} has no domain");
        }
    }
    // Every listing in the curated file is dated.
    for e in w.entities() {
        for l in &e.lists {
            assert!(l.date.is_some(), "{} {} has no date", e.id, l.list);
        }
    }
}

#[test]
fn builtin_listings_match_the_public_record() {
    let w = builtin();
    let listing = |id: &str, list: ListId| {
        w.entity(id)
            .and_then(|e| e.lists.iter().find(|l| l.list == list).cloned())
    };
    let hik = listing("hikvision", ListId::EntityList);
    assert_eq!(
        hik.as_ref().and_then(|l| l.citation.as_deref()),
        Some("84 FR 54002")
    );
    assert_eq!(
        hik.and_then(|l| l.date).map(|d| d.to_string()),
        Some("2019-10-09".to_owned())
    );
    let huawei = listing("huawei", ListId::EntityList);
    assert_eq!(
        huawei.and_then(|l| l.citation),
        Some("84 FR 22961".to_owned())
    );
    let nso = listing("nso-group", ListId::EntityList);
    assert_eq!(nso.and_then(|l| l.citation), Some("86 FR 60759".to_owned()));
    let intellexa = listing("intellexa", ListId::EntityList);
    assert_eq!(
        intellexa.and_then(|l| l.citation),
        Some("88 FR 44071".to_owned())
    );
    for id in ["huawei", "zte", "hytera", "hikvision", "dahua"] {
        assert!(listing(id, ListId::Ndaa889).is_some(), "{id} not under 889");
        assert!(
            listing(id, ListId::FccCovered).is_some(),
            "{id} not covered"
        );
    }
    let parent = w.entity("hikvision").and_then(|e| w.parent_of(e));
    assert_eq!(parent.map(|p| p.id.as_str()), Some("cetc"));
}

#[test]
fn domains_match_subdomains_on_label_boundaries() {
    let w = builtin();
    let owner = |d: &str| w.entity_for_domain(d).map(|e| e.id.clone());
    assert_eq!(owner("hikvision.com").as_deref(), Some("hikvision"));
    assert_eq!(owner("www.hikvision.com").as_deref(), Some("hikvision"));
    assert_eq!(owner("US.Hik-Connect.COM.").as_deref(), Some("hikvision"));
    assert_eq!(owner("open.ezvizlife.com").as_deref(), Some("hikvision"));
    assert_eq!(owner("www.sensetime.com").as_deref(), Some("sensetime"));
    assert_eq!(owner("hisilicon.com").as_deref(), Some("hisilicon"));
    assert_eq!(owner("console.huaweicloud.com").as_deref(), Some("huawei"));
    assert_eq!(owner("notsensetime.com"), None);
    assert_eq!(owner("sensetime.com.evil.example"), None);
    assert_eq!(owner("sensetime.cn"), None);
    assert_eq!(owner("com"), None);
    assert_eq!(owner(""), None);
    assert_eq!(owner("..."), None);
}

#[test]
fn all_domains_are_unique_and_indexed() {
    let w = builtin();
    let all: Vec<(&str, &str)> = w.all_domains().map(|(d, e)| (d, e.id.as_str())).collect();
    assert_eq!(all.len(), w.domain_count());
    assert!(all.len() >= 40, "only {} domains", all.len());
    for (d, id) in all {
        assert_eq!(w.entity_for_domain(d).map(|e| e.id.as_str()), Some(id));
    }
}

#[test]
fn jsonl_has_one_object_per_entity() {
    let w = builtin();
    let mut out = Vec::new();
    assert!(w.write_jsonl(&mut out).is_ok());
    let text = String::from_utf8(out).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), w.len());
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap_or_default();
    assert_eq!(first["id"], "cetc");
    let hik: serde_json::Value = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["id"] == "hikvision")
        .unwrap_or_default();
    assert_eq!(hik["lists"][0]["list"], "entity-list");
    assert_eq!(hik["lists"][0]["date"], "2019-10-09");
    assert_eq!(hik["lists"][0]["citation"], "84 FR 54002");
    assert_eq!(hik["lists"][2]["citation"], serde_json::Value::Null);
    assert_eq!(hik["parent"], "cetc");
    assert_eq!(hik["country"], "CN");
}

#[test]
fn open_understands_builtin_and_paths() {
    assert!(Watchlist::open("builtin").is_ok());
    let csv = Watchlist::open(&fixture("csl_sample.csv").display().to_string());
    assert_eq!(csv.map(|w| w.len()).ok(), Some(4));
    let err = Watchlist::open("watchlist.xlsx").err();
    assert!(matches!(err, Some(WatchlistError::UnknownFormat { .. })));
    let err = Watchlist::open("/nonexistent/list.toml").err();
    assert!(matches!(err, Some(WatchlistError::Read { .. })));
}

/// Both sample exports describe the same parties, so one set of checks serves both.
fn check_csl_sample(w: &Watchlist, parties: usize) {
    assert_eq!(w.name(), "csl");
    assert_eq!(w.version(), "2024-03-05");
    assert_eq!(w.len(), parties, "{:#?}", w.entities());

    let lanting = &w.entities()[0];
    assert_eq!(lanting.id, "lanting-vision-digital-technology-co-ltd");
    assert_eq!(lanting.country.as_deref(), Some("CN"));
    assert_eq!(lanting.aliases, vec!["Lanting Vision", "兰亭视觉"]);
    assert_eq!(lanting.domains, vec!["lanting-vision.cn"]);
    let lists: Vec<(&str, Option<String>, Option<&str>)> = lanting
        .lists
        .iter()
        .map(|l| {
            (
                l.list.as_str(),
                l.date.map(|d| d.to_string()),
                l.citation.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lists,
        vec![
            (
                "entity-list",
                Some("2019-10-09".to_owned()),
                Some("84 FR 99901")
            ),
            (
                "mev-list",
                Some("2020-12-23".to_owned()),
                Some("85 FR 99902")
            ),
        ]
    );

    let northwind = &w.entities()[1];
    assert_eq!(northwind.id, "northwind-signals-research-llc-31337");
    assert_eq!(northwind.name, "Northwind \"Signals\" Research, LLC");
    assert_eq!(northwind.country.as_deref(), Some("CY"));
    assert_eq!(northwind.domains, vec!["northwind-signals.example"]);
    assert!(northwind.is_on(&ListId::Sdn));
    assert_eq!(
        w.entity_for_domain("www.northwind-signals.example")
            .map(|e| e.id.as_str()),
        Some("northwind-signals-research-llc-31337")
    );

    let harbour = &w.entities()[w.len() - 1];
    assert!(harbour.is_on(&ListId::UnverifiedList));
    assert_eq!(harbour.country.as_deref(), Some("HK"));
    assert_eq!(
        harbour.lists[0].date.map(|d| d.to_string()).as_deref(),
        Some("2018-04-11")
    );
    assert!(w.entity_for_domain("lanting-vision.cn").is_some());
    assert!(w.entity_for_domain("vision.cn").is_none());
}

#[test]
fn imports_csl_csv() {
    let w = Watchlist::load(&fixture("csl_sample.csv"));
    let w = w.unwrap_or_else(|e| panic!("{e}"));
    check_csl_sample(&w, 4);
    let qiantang = w.entity("qiantang-cloud-intelligence-ltd-40412");
    assert!(qiantang.is_some_and(|e| e.is_on(&ListId::NsCmic)));
    assert_eq!(
        qiantang.map(|e| e.domains.clone()),
        Some(vec!["qiantang-ci.com.cn".to_owned()])
    );
}

#[test]
fn imports_csl_json() {
    let w = Watchlist::load(&fixture("csl_sample.json"));
    let w = w.unwrap_or_else(|e| panic!("{e}"));
    check_csl_sample(&w, 3);
    // The JSON sample has no NS-CMIC row.
    assert!(w.entity("qiantang-cloud-intelligence-ltd-40412").is_none());
}

// ---------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------

const GOOD_HEAD: &str = "[meta]\nname = \"t\"\nversion = \"1\"\n";

fn toml_err(body: &str) -> WatchlistError {
    match Watchlist::from_toml(&format!("{GOOD_HEAD}{body}"), "t.toml") {
        Ok(_) => panic!("accepted:\n{body}"),
        Err(e) => e,
    }
}

fn problem(err: &WatchlistError) -> Option<&Problem> {
    match err {
        WatchlistError::Invalid { problem, .. } => Some(problem),
        _ => None,
    }
}

#[test]
fn toml_syntax_error_names_file_and_line() {
    let err = toml_err("\n[[entity]]\nid = \"x\nname = \"y\"\n");
    assert!(matches!(err, WatchlistError::Syntax { .. }), "{err}");
    assert_eq!(err.line(), Some(6));
    assert!(err.to_string().starts_with("t.toml:6:"), "{err}");
}

#[test]
fn toml_unknown_key_is_an_error_on_its_line() {
    let err = toml_err("[[entity]]\nid = \"x\"\nname = \"X\"\ndomian = [\"x.com\"]\n");
    assert!(matches!(err, WatchlistError::Syntax { .. }), "{err}");
    assert_eq!(err.line(), Some(7));
}

#[test]
fn toml_validation_errors_point_at_the_value() {
    let entity = |extra: &str| format!("[[entity]]\nid = \"a\"\nname = \"A\"\n{extra}");

    let err = toml_err(&entity("lists = [{ list = \"entity-lst\" }]\n"));
    assert!(
        matches!(problem(&err), Some(Problem::UnknownList { .. })),
        "{err}"
    );
    assert_eq!(err.line(), Some(7));

    let err = toml_err(&entity(
        "lists = [{ list = \"sdn\", date = \"2021-02-30\" }]\n",
    ));
    assert!(
        matches!(problem(&err), Some(Problem::BadDate { .. })),
        "{err}"
    );

    let err = toml_err(&entity("country = \"China\"\n"));
    assert!(
        matches!(problem(&err), Some(Problem::BadCountry { .. })),
        "{err}"
    );

    let err = toml_err(&entity("domains = [\"ok.com\",\n  \"bad_domain.com\"]\n"));
    assert!(
        matches!(problem(&err), Some(Problem::BadDomain { .. })),
        "{err}"
    );
    assert_eq!(err.line(), Some(8));

    let err = toml_err(&entity("parent = \"nobody\"\n"));
    assert!(
        matches!(problem(&err), Some(Problem::UnknownParent { .. })),
        "{err}"
    );

    let err = toml_err(&entity("sources = [\"ftp://x\"]\n"));
    assert!(
        matches!(problem(&err), Some(Problem::BadSource { .. })),
        "{err}"
    );

    let err = toml_err("[[entity]]\nid = \"Bad Id\"\nname = \"A\"\n");
    assert!(
        matches!(problem(&err), Some(Problem::BadId { .. })),
        "{err}"
    );

    let err = toml_err("[[entity]]\nid = \"a\"\nname = \"  \"\n");
    assert!(
        matches!(problem(&err), Some(Problem::Empty { field: "name" })),
        "{err}"
    );
}

#[test]
fn toml_cross_entity_errors() {
    let err =
        toml_err("[[entity]]\nid = \"a\"\nname = \"A\"\n\n[[entity]]\nid = \"a\"\nname = \"B\"\n");
    assert!(
        matches!(
            problem(&err),
            Some(Problem::DuplicateId { first_line: 4, .. })
        ),
        "{err}"
    );
    assert_eq!(err.line(), Some(9));

    let err = toml_err(
        "[[entity]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.com\"]\n\n[[entity]]\nid = \"b\"\nname = \"B\"\ndomains = [\"b.com\", \"A.com\"]\n",
    );
    match problem(&err) {
        Some(Problem::DuplicateDomain { domain, other }) => {
            assert_eq!((domain.as_str(), other.as_str()), ("a.com", "a"));
        }
        _ => panic!("{err}"),
    }
    assert_eq!(err.line(), Some(12));

    let err = toml_err(
        "[[entity]]\nid = \"a\"\nname = \"A\"\nparent = \"b\"\n[[entity]]\nid = \"b\"\nname = \"B\"\nparent = \"a\"\n",
    );
    assert!(
        matches!(problem(&err), Some(Problem::ParentCycle { .. })),
        "{err}"
    );
}

#[test]
fn toml_minimal_file_loads() {
    let w = Watchlist::from_toml(
        &format!("{GOOD_HEAD}[[entity]]\nid = \"a\"\nname = \"A\"\ndomains = [\"Example.COM.\"]\n"),
        "t.toml",
    );
    let w = w.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.entities()[0].domains, vec!["example.com"]);
    assert!(Watchlist::from_toml("[[entity]]\nid = \"a\"\nname = \"A\"\n", "t").is_err());
}

#[test]
fn csv_errors_name_the_line() {
    let head = "source,name,addresses\n";
    let err =
        Watchlist::from_csl_csv(&format!("{head}EL,ok,CN\nEL,\"never closed,CN\n"), "x.csv").err();
    match err {
        Some(WatchlistError::Csv {
            origin,
            line,
            problem: CsvProblem::UnterminatedQuote,
        }) => assert_eq!((origin.as_str(), line), ("x.csv", 3)),
        other => panic!("{other:?}"),
    }

    let err = Watchlist::from_csl_csv(&format!("{head}EL,ok,CN\nEL,,CN\n"), "x.csv").err();
    match err {
        Some(WatchlistError::Invalid {
            location: Location::Line(3),
            problem: Problem::Empty { field: "name" },
            ..
        }) => {}
        other => panic!("{other:?}"),
    }

    let err = Watchlist::from_csl_csv("source,title\nEL,x\n", "x.csv").err();
    assert!(matches!(
        err,
        Some(WatchlistError::Csv {
            line: 1,
            problem: CsvProblem::MissingColumn { column: "name" },
            ..
        })
    ));
    let err = Watchlist::from_csl_csv("", "x.csv").err();
    assert!(matches!(
        err,
        Some(WatchlistError::Csv {
            problem: CsvProblem::NoHeader,
            ..
        })
    ));
}

#[test]
fn json_errors_name_the_line_or_record() {
    let err =
        Watchlist::from_csl_json("{\n  \"results\": [\n    {\"name\": }\n  ]\n}", "x.json").err();
    assert!(
        matches!(err, Some(WatchlistError::Syntax { line: 3, .. })),
        "{err:?}"
    );

    let err = Watchlist::from_csl_json(
        "{\"results\": [{\"name\": \"a\"}, {\"title\": \"b\"}]}",
        "x.json",
    )
    .err();
    assert!(
        matches!(
            err,
            Some(WatchlistError::Invalid {
                location: Location::Record(2),
                problem: Problem::Empty { field: "name" },
                ..
            })
        ),
        "{err:?}"
    );

    let err = Watchlist::from_csl_json("{\"total\": 0}", "x.json").err();
    assert!(
        matches!(problem_of(&err), Some(Problem::NotCsl { .. })),
        "{err:?}"
    );
    let err = Watchlist::from_csl_json("[1]", "x.json").err();
    assert!(
        matches!(problem_of(&err), Some(Problem::NotCsl { .. })),
        "{err:?}"
    );
    assert!(Watchlist::from_csl_json("", "x.json").is_err());
}

fn problem_of(err: &Option<WatchlistError>) -> Option<&Problem> {
    err.as_ref().and_then(problem)
}

// ---------------------------------------------------------------------------
// Hostile input never panics
// ---------------------------------------------------------------------------

fn csv_like() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just("name,source,addresses,ids,remarks,start_date,entity_number\n".to_owned()),
        Just(String::new()),
        Just("_id,name\r\n".to_owned()),
    ];
    let body = proptest::collection::vec(
        prop_oneof![
            Just(",".to_owned()),
            Just("\"".to_owned()),
            Just("\"\"".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just(";".to_owned()),
            Just("Website ".to_owned()),
            Just("https://".to_owned()),
            Just("www.".to_owned()),
            Just("2019-10-09".to_owned()),
            Just("CN".to_owned()),
            Just("海".to_owned()),
            "[a-z.\\-]{0,12}",
            any::<char>().prop_map(String::from),
        ],
        0..64,
    )
    .prop_map(|parts| parts.concat());
    (header, body).prop_map(|(h, b)| format!("{h}{b}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn csv_import_never_panics(text in csv_like()) {
        let _ = Watchlist::from_csl_csv(&text, "fuzz.csv");
    }

    #[test]
    fn any_text_never_panics(text in any::<String>()) {
        let _ = Watchlist::from_csl_csv(&text, "fuzz.csv");
        let _ = Watchlist::from_csl_json(&text, "fuzz.json");
        let _ = Watchlist::from_toml(&text, "fuzz.toml");
    }

    #[test]
    fn json_import_never_panics(
        name in prop_oneof![Just("null".to_owned()), "\"[^\"\\\\]{0,20}\"", Just("[]".to_owned())],
        ids in prop_oneof![Just("null".to_owned()), Just("[{\"type\":\"Website\",\"number\":\"http://a\"}]".to_owned()), "\"[ -~&&[^\"\\\\]]{0,30}\""],
        date in "\"[0-9T:\\-]{0,24}\"",
    ) {
        let text = format!("{{\"results\":[{{\"name\":{name},\"ids\":{ids},\"start_date\":{date},\"addresses\":[{{\"country\":{name}}}]}}]}}");
        let _ = Watchlist::from_csl_json(&text, "fuzz.json");
    }

    #[test]
    fn lookups_never_panic(domain in any::<String>()) {
        static BUILTIN: OnceLock<Watchlist> = OnceLock::new();
        let w = BUILTIN.get_or_init(builtin);
        let _ = w.entity_for_domain(&domain);
    }
}
