//! What changed between two scans, target by target.
//!
//! Relationships are grouped by a *slot*: target, service and (for embeds) embed
//! kind. A slot's provider set is the sorted set of parent company ids serving it.
//! A slot only in the new scan **appeared**, one only in the old scan
//! **disappeared**, and one in both with a different provider set **changed**
//! ("email: microsoft → tencent"). Slots with the same provider set are unchanged and
//! not reported, even if products or evidence differ: the question investigators
//! ask is "who serves them now", not "which IP".

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;
use servedby_model::{EmbedKind, Relationship, Service};

use crate::table::{Align, Table};
use crate::{csv, jsonl, Format, RenderOptions, ReportError};

/// How a slot changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Served now, not before.
    Appeared,
    /// Served before, not now.
    Disappeared,
    /// Served before and now, by a different set of providers.
    Changed,
}

impl ChangeKind {
    /// The kebab-case spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Appeared => "appeared",
            Self::Disappeared => "disappeared",
            Self::Changed => "changed",
        }
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One changed slot of one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The target domain.
    pub target: String,
    /// Its watchlist entity (from the newer scan when both have one).
    pub entity: Option<String>,
    /// The service.
    pub service: Service,
    /// For embeds, the kind.
    pub embed_kind: Option<EmbedKind>,
    /// Appeared, disappeared or changed.
    pub change: ChangeKind,
    /// Provider ids serving the slot in the old scan, sorted (empty if it appeared).
    pub before: Vec<String>,
    /// Provider ids serving the slot in the new scan, sorted (empty if it
    /// disappeared).
    pub after: Vec<String>,
}

impl Change {
    /// The slot's label: the service, with the embed kind for embeds
    /// (`email`, `embed/analytics`).
    pub fn slot(&self) -> String {
        match self.embed_kind {
            Some(k) => format!("{}/{k}", self.service),
            None => self.service.to_string(),
        }
    }

    /// One line for people: `email: microsoft → tencent`, `cdn: — → amazon`.
    pub fn summary(&self) -> String {
        let side = |ids: &[String]| {
            if ids.is_empty() {
                "—".to_owned()
            } else {
                ids.join(", ")
            }
        };
        format!(
            "{}: {} → {}",
            self.slot(),
            side(&self.before),
            side(&self.after)
        )
    }
}

type Slot<'a> = (&'a str, Service, Option<EmbedKind>);

fn slots(rels: &[Relationship]) -> BTreeMap<Slot<'_>, (Option<&str>, BTreeSet<&str>)> {
    let mut map: BTreeMap<Slot<'_>, (Option<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for r in rels {
        let slot = map
            .entry((r.target.as_str(), r.service, r.embed_kind))
            .or_default();
        if slot.0.is_none() {
            slot.0 = r.entity.as_deref();
        }
        slot.1.insert(&r.provider.id);
    }
    map
}

/// The changes from `old` to `new` (the relationships of two scans), ordered by
/// target, service, embed kind.
pub fn changes(old: &[Relationship], new: &[Relationship]) -> Vec<Change> {
    let old = slots(old);
    let new = slots(new);
    let keys: BTreeSet<&Slot<'_>> = old.keys().chain(new.keys()).collect();
    let owned = |set: Option<&BTreeSet<&str>>| -> Vec<String> {
        set.map(|s| s.iter().map(|p| (*p).to_owned()).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for key in keys {
        let before = old.get(key);
        let after = new.get(key);
        let change = match (before, after) {
            (None, Some(_)) => ChangeKind::Appeared,
            (Some(_), None) => ChangeKind::Disappeared,
            (Some(b), Some(a)) if b.1 != a.1 => ChangeKind::Changed,
            _ => continue,
        };
        let entity = after.and_then(|a| a.0).or(before.and_then(|b| b.0));
        out.push(Change {
            target: key.0.to_owned(),
            entity: entity.map(str::to_owned),
            service: key.1,
            embed_kind: key.2,
            change,
            before: owned(before.map(|b| &b.1)),
            after: owned(after.map(|a| &a.1)),
        });
    }
    out
}

/// Renders changes as a table, JSONL (one [`Change`] per line) or CSV.
pub fn write_changes(
    out: &mut dyn Write,
    changes: &[Change],
    format: Format,
    options: &RenderOptions,
) -> Result<(), ReportError> {
    match format {
        Format::Table => {
            let mut t = Table::new(&[
                ("TARGET", Align::Left),
                ("ENTITY", Align::Left),
                ("CHANGE", Align::Left),
                ("WHAT", Align::Left),
            ])
            .optional(&[1]);
            for c in changes {
                t.push(vec![
                    c.target.clone(),
                    c.entity.clone().unwrap_or_default(),
                    c.change.to_string(),
                    c.summary(),
                ]);
            }
            out.write_all(t.render(options.width).as_bytes())?;
            Ok(())
        }
        Format::Jsonl => jsonl::write_lines(out, changes),
        Format::Csv => {
            let rows: Vec<Vec<String>> = changes
                .iter()
                .map(|c| {
                    vec![
                        c.target.clone(),
                        c.entity.clone().unwrap_or_default(),
                        c.service.to_string(),
                        c.embed_kind.map(|k| k.to_string()).unwrap_or_default(),
                        c.change.to_string(),
                        c.before.join(" "),
                        c.after.join(" "),
                    ]
                })
                .collect();
            csv::write_rows(
                out,
                &[
                    "target",
                    "entity",
                    "service",
                    "embed_kind",
                    "change",
                    "before",
                    "after",
                ],
                &rows,
            )
        }
        other => Err(ReportError::Unsupported {
            what: "a change list",
            format: other,
        }),
    }
}
