//! Consistency checks on a loaded watchlist, shared by the `watchlist_load` and
//! `csl_import` targets.

use servedby_watchlist::Watchlist;

/// Asserts that `list` is internally consistent: every entity is found by its id, every
/// listed domain leads to an entity (its own when `own_domains`, i.e. for curated files
/// where a domain claimed twice is an error; screening-list imports keep the first
/// claim), parents exist, and the JSONL export is one JSON object per entity.
pub(crate) fn check_consistent(list: &Watchlist, own_domains: bool) {
    assert_eq!(list.len(), list.entities().len());
    assert_eq!(list.is_empty(), list.entities().is_empty());
    let _ = (list.name(), list.version(), list.meta());
    let mut listed = 0;
    for e in list.entities() {
        assert!(
            list.entity(&e.id).is_some(),
            "entity {:?} not found by its id",
            e.id
        );
        if e.parent.is_some() && own_domains {
            assert!(list.parent_of(e).is_some(), "parent of {:?} missing", e.id);
        }
        for d in &e.domains {
            listed += 1;
            let owner = list
                .entity_for_domain(d)
                .unwrap_or_else(|| panic!("listed domain {d:?} of {:?} not found", e.id));
            if own_domains {
                assert_eq!(owner.id, e.id, "domain {d:?} leads to another entity");
            }
        }
    }
    assert!(list.domain_count() <= listed);
    assert_eq!(list.all_domains().count(), listed);
    let mut out = Vec::new();
    list.write_jsonl(&mut out)
        .expect("writing to a Vec cannot fail");
    let out = String::from_utf8(out).expect("JSONL output is UTF-8");
    assert_eq!(out.lines().count(), list.len(), "one JSONL line per entity");
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("JSONL line is not JSON ({e}): {line}"));
        assert!(v.is_object(), "JSONL line is not an object: {line}");
    }
}
