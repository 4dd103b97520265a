//! Property tests of the catalog loader (the CI counterpart of `fuzz/`'s
//! `catalog_load` target): arbitrary text never panics and errors name the file; every
//! rule of an accepted catalog is found by the matcher of its kind from its own value.

use proptest::prelude::*;
use servedby_catalog::Catalog;

fn load(text: &str) -> Result<Catalog, String> {
    Catalog::from_sources(vec![("fuzz.toml".into(), text.into())]).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        if let Err(e) = load(&text) {
            prop_assert!(e.contains("fuzz.toml"), "{e}");
        }
    }

    #[test]
    fn generated_rules_match_their_own_values(
        labels in proptest::collection::vec("[a-z][a-z0-9]{1,8}", 2..4),
        asn in 1u32..4_000_000,
        port in proptest::option::of(1u16..65535),
    ) {
        let host = labels.join(".");
        let url_host = match port {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let text = format!(
            r#"[parent]
id = "fuzz"
name = "Fuzz"
country = "US"
source = "https://fuzz.example/"

[[provider]]
name = "P"
services = ["cdn", "dns", "embed"]
rules = [
  {{ kind = "asn", value = "{asn}", source = "https://fuzz.example/" }},
  {{ kind = "cname-suffix", value = "{host}", source = "https://fuzz.example/" }},
  {{ kind = "ns-suffix", value = "{host}", source = "https://fuzz.example/" }},
  {{ kind = "embed-host", value = "{host}", embed_kind = "other", source = "https://fuzz.example/" }},
  {{ kind = "embed-url", value = "{url_host}/lib.js", embed_kind = "js-library", source = "https://fuzz.example/" }},
]
"#
        );
        let cat = load(&text).map_err(TestCaseError::fail)?;
        prop_assert_eq!(cat.match_asn(asn).count(), 1);
        let sub = format!("a.{host}");
        prop_assert_eq!(cat.match_cname(&sub).count(), 1);
        prop_assert_eq!(cat.match_ns(&sub).count(), 1);
        prop_assert_eq!(cat.match_embed_host(&sub).count(), 1);
        let url = format!("https://www.{url_host}/lib.js?v=1");
        prop_assert_eq!(cat.match_embed_url(&url).count(), 1, "{}", url);
    }
}
