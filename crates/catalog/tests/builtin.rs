//! The builtin catalog loads, validates and meets the project's coverage floor.

use std::collections::{BTreeMap, BTreeSet};

use servedby_catalog::Catalog;

#[test]
fn builtin_catalog_loads() {
    let cat = match Catalog::builtin() {
        Ok(c) => c,
        Err(e) => panic!("builtin catalog is invalid:\n{e}"),
    };
    let parents: BTreeSet<&str> = cat.providers().iter().map(|p| p.id.as_str()).collect();
    let greater_china = cat
        .providers()
        .iter()
        .filter(|p| matches!(p.parent.country.as_str(), "CN" | "HK" | "TW"))
        .count();
    let mut by_country: BTreeMap<&str, usize> = BTreeMap::new();
    for p in cat.providers() {
        *by_country.entry(p.parent.country.as_str()).or_default() += 1;
    }
    println!(
        "{}: {} entries, {} parents, {} CN/HK/TW; {:?}",
        cat.version(),
        cat.len(),
        parents.len(),
        greater_china,
        by_country
    );
    assert!(cat.len() >= 250, "{} provider entries", cat.len());
    assert!(parents.len() >= 120, "{} parents", parents.len());
    assert!(greater_china >= 60, "{greater_china} CN/HK/TW entries");
    assert_eq!(cat.parents().len(), parents.len());
}
