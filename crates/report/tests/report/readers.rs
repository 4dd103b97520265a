//! Our Parquet and FollowTheMoney output read back by the real readers: pyarrow,
//! DuckDB and the followthemoney package.

use std::path::Path;

use servedby_model::Service;
use servedby_report::{Format, Report, StrengthFilter};
use servedby_store::SeenRelationship;

use crate::fixtures;
use crate::util::{python, python_has, render_bytes, require};

const PYARROW_DUMP: &str = r#"
import json, sys
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
schema = [(f.name, str(f.type), f.nullable) for f in t.schema]
rows = t.to_pylist()
for r in rows:
    for k in ("first_seen", "last_seen"):
        r[k] = r[k].isoformat()
print(json.dumps({"schema": schema, "num_rows": t.num_rows, "rows": rows}, ensure_ascii=False))
"#;

const DUCKDB_DUMP: &str = r#"
import json, sys
import duckdb
con = duckdb.connect()
path = sys.argv[1]
total = con.execute("select count(*) from read_parquet(?)", [path]).fetchone()[0]
by_service = con.execute(
    "select service, count(*) from read_parquet(?) group by service order by service", [path]
).fetchall()
nulls = con.execute(
    "select count(*) from read_parquet(?) where entity is null", [path]
).fetchone()[0]
first = con.execute(
    "select target, provider_id, confidence, epoch_us(first_seen), json_extract_string(evidence_json, '$[0].rule') "
    "from read_parquet(?) order by target, provider_id, service limit 1", [path]
).fetchone()
types = con.execute("describe select * from read_parquet(?)", [path]).fetchall()
print(json.dumps({
    "total": total,
    "by_service": by_service,
    "entity_nulls": nulls,
    "first": list(first),
    "types": [[t[0], t[1]] for t in types],
}, ensure_ascii=False))
"#;

fn write_parquet(seen: &[SeenRelationship], dir: &Path) -> std::path::PathBuf {
    let (scan, entities) = (fixtures::scan(), fixtures::entities());
    let report = Report::new(&scan, seen, &entities, StrengthFilter::All);
    let path = dir.join("relationships.parquet");
    std::fs::write(&path, render_bytes(&report, Format::Parquet)).unwrap();
    path
}

#[test]
fn pyarrow_reads_every_value() {
    if !require("pyarrow", python_has("pyarrow")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seen = fixtures::seen();
    let path = write_parquet(&seen, dir.path());
    let out = python(PYARROW_DUMP, &[&path]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["num_rows"], seen.len());
    insta::assert_json_snapshot!("parquet-pyarrow-schema", v["schema"]);

    // Every value as written, in report order (target, service, embed kind, provider).
    let mut expected: Vec<&SeenRelationship> = seen.iter().collect();
    expected.sort_by(|a, b| {
        let (a, b) = (&a.relationship, &b.relationship);
        (
            &a.target,
            a.service,
            a.embed_kind,
            &a.provider.id,
            &a.provider.name,
        )
            .cmp(&(
                &b.target,
                b.service,
                b.embed_kind,
                &b.provider.id,
                &b.provider.name,
            ))
    });
    let rows = v["rows"].as_array().unwrap();
    for (row, want) in rows.iter().zip(&expected) {
        let r = &want.relationship;
        assert_eq!(row["scan_id"], r.scan_id);
        assert_eq!(row["target"], r.target.as_str());
        assert_eq!(row["entity"].as_str(), r.entity.as_deref());
        assert_eq!(row["service"], r.service.as_str());
        assert_eq!(row["embed_kind"].as_str(), r.embed_kind.map(|k| k.as_str()));
        assert_eq!(row["strength"], r.strength.as_str());
        assert_eq!(row["provider_id"], r.provider.id.as_str());
        assert_eq!(row["provider_name"], r.provider.name.as_str());
        assert_eq!(row["provider_parent"], r.provider.parent.as_str());
        assert_eq!(row["provider_country"], r.provider.country.as_str());
        assert_eq!(row["confidence"].as_f64(), Some(r.confidence));
        let ev: Vec<servedby_model::Evidence> =
            serde_json::from_str(row["evidence_json"].as_str().unwrap()).unwrap();
        assert_eq!(ev, r.evidence);
        let first = time::OffsetDateTime::parse(
            row["first_seen"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(first, want.first_seen);
    }
    // The table as pyarrow prints it, for a human-readable snapshot.
    let text = python(
        "import sys, pyarrow.parquet as pq\n\
         t = pq.read_table(sys.argv[1]).select(['target','entity','service','embed_kind','provider_id','provider_country','confidence','first_seen'])\n\
         for r in t.to_pylist():\n    print(' | '.join(str(r[c]) for c in t.column_names))",
        &[&path],
    );
    insta::assert_snapshot!("parquet-pyarrow-rows", text);
}

#[test]
fn duckdb_reads_and_queries_it() {
    if !require("duckdb", python_has("duckdb")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seen = fixtures::seen();
    let path = write_parquet(&seen, dir.path());
    let v: serde_json::Value = serde_json::from_str(&python(DUCKDB_DUMP, &[&path])).unwrap();
    assert_eq!(v["total"], seen.len());
    assert_eq!(v["entity_nulls"], 2);
    let hosting = v["by_service"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "hosting")
        .unwrap();
    assert_eq!(
        hosting[1],
        seen.iter()
            .filter(|r| r.relationship.service == Service::Hosting)
            .count()
    );
    // dahuasecurity.com's hosting with Alibaba sorts first; it was seen in scan 1.
    assert_eq!(v["first"][0], "dahuasecurity.com");
    assert_eq!(v["first"][1], "alibaba");
    assert_eq!(v["first"][2].as_f64(), Some(0.9));
    assert_eq!(
        v["first"][3].as_i64(),
        Some(fixtures::SCAN1.unix_timestamp() * 1_000_000)
    );
    assert_eq!(v["first"][4], "asn 45102");
    insta::assert_json_snapshot!("parquet-duckdb-types", v["types"]);
}

#[test]
fn many_pages_and_empty_files_read_back() {
    if !require("duckdb", python_has("duckdb")) || !require("pyarrow", python_has("pyarrow")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 10,000 rows span three data pages per column; every third has no entity.
    let template = fixtures::seen();
    let seen: Vec<SeenRelationship> = (0..10_000)
        .map(|i| {
            let mut s = template[i % template.len()].clone();
            s.relationship.target = format!("d{i:05}.example").into();
            if i % 3 == 0 {
                s.relationship.entity = None;
            }
            s
        })
        .collect();
    let with_entity = seen
        .iter()
        .filter(|s| s.relationship.entity.is_some())
        .count();
    let path = write_parquet(&seen, dir.path());
    let out = python(
        "import sys, duckdb, pyarrow.parquet as pq\n\
         p = sys.argv[1]\n\
         t = pq.read_table(p)\n\
         c = duckdb.connect()\n\
         n = c.execute('select count(*), count(entity), max(target) from read_parquet(?)', [p]).fetchone()\n\
         print(t.num_rows, n[0], n[1], n[2], t.column('target')[9999])",
        &[&path],
    );
    assert_eq!(
        out.trim(),
        format!("10000 10000 {with_entity} d09999.example d09999.example")
    );

    let empty = dir.path().join("empty.parquet");
    let (scan, entities) = (fixtures::scan(), fixtures::entities());
    let report = Report::new(&scan, &[], &entities, StrengthFilter::All);
    std::fs::write(&empty, render_bytes(&report, Format::Parquet)).unwrap();
    let out = python(
        "import sys, pyarrow.parquet as pq\nt = pq.read_table(sys.argv[1])\nprint(t.num_rows, t.num_columns)",
        &[&empty],
    );
    assert_eq!(out.trim(), "0 14");
}

/// Reads FtM JSON lines with the followthemoney package and checks, strictly, that
/// every entity is valid, that no property value was changed or dropped by
/// cleaning, and that every link points at an entity in the file.
const FTM_CHECK: &str = r#"
import json, sys
from followthemoney import model
ids, refs, count = set(), [], 0
schemata = {}
for line in open(sys.argv[1], encoding="utf-8"):
    data = json.loads(line)
    proxy = model.get_proxy(data, cleaned=False)
    back = proxy.to_dict()
    assert back["id"] == data["id"], (back["id"], data["id"])
    assert back["schema"] == data["schema"], (back["schema"], data["schema"])
    for prop, values in data["properties"].items():
        got = back["properties"].get(prop)
        assert got is not None, ("dropped", data["schema"], prop, values)
        assert sorted(got) == sorted(values), ("changed", prop, values, got)
    assert set(back["properties"]) == set(data["properties"]), (back["properties"].keys(), data["properties"].keys())
    for req in proxy.schema.required:
        assert proxy.get(req), ("missing required", data["schema"], req)
    if data["id"] in ids:
        raise AssertionError("duplicate id " + data["id"])
    ids.add(data["id"])
    schemata[data["schema"]] = schemata.get(data["schema"], 0) + 1
    for prop in proxy.iterprops():
        if prop.type.name == "entity":
            refs.extend(proxy.get(prop))
    count += 1
missing = [r for r in refs if r not in ids]
assert not missing, ("dangling references", missing)
print(json.dumps({"count": count, "schemata": schemata, "refs": len(refs)}, sort_keys=True))
"#;

#[test]
fn followthemoney_accepts_every_entity_unchanged() {
    if !require("followthemoney", python_has("followthemoney")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (scan, seen, entities) = (fixtures::scan(), fixtures::seen(), fixtures::entities());
    let report = Report::new(&scan, &seen, &entities, StrengthFilter::All);
    let path = dir.path().join("report.ftm.json");
    std::fs::write(&path, render_bytes(&report, Format::Ftm)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&python(FTM_CHECK, &[&path])).unwrap();
    // 4 organisations, 12 parent companies, 24 links (each with subject and object).
    assert_eq!(v["schemata"]["Organization"], 4);
    assert_eq!(v["schemata"]["Company"], 12);
    assert_eq!(v["schemata"]["UnknownLink"], seen.len());
    assert_eq!(v["refs"], 2 * seen.len());

    // Hostile strings survive as inert values FtM keeps as written.
    let (hscan, hseen, hentities) = (
        fixtures::scan(),
        fixtures::hostile_seen(),
        fixtures::hostile_entities(),
    );
    let report = Report::new(&hscan, &hseen, &hentities, StrengthFilter::All);
    let path = dir.path().join("hostile.ftm.json");
    std::fs::write(&path, render_bytes(&report, Format::Ftm)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&python(FTM_CHECK, &[&path])).unwrap();
    assert_eq!(v["schemata"]["UnknownLink"], hseen.len());
}
