//! JSON Lines output: one object per row of a view, or one relationship per line.
//!
//! The shapes are the `Serialize` forms of the row types (documented field by field
//! on the types and in `SCHEMA.md`). Strings are escaped with [`SafeJson`] so that
//! `cat report.jsonl` cannot send a terminal command (C1 controls, bidi overrides and
//! line separators become `\uXXXX`).

use std::io::Write;

use serde::Serialize;
use servedby_store::SeenRelationship;

use crate::text::{to_safe_json, SafeJson};
use crate::{Report, ReportError, View};

/// Writes each item as one line of JSON.
pub(crate) fn write_lines<T: Serialize>(
    out: &mut dyn Write,
    items: &[T],
) -> Result<(), ReportError> {
    for item in items {
        let line = to_safe_json(item, SafeJson::terminal())?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The relationships in report order: by target, service, embed kind, provider.
pub(crate) fn sorted<'a>(rels: &[&'a SeenRelationship]) -> Vec<&'a SeenRelationship> {
    let mut v = rels.to_vec();
    v.sort_by(|a, b| {
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
    v
}

pub(crate) fn write_view(
    out: &mut dyn Write,
    report: &Report<'_>,
    view: View,
) -> Result<(), ReportError> {
    match view {
        View::Provider => write_lines(out, &report.provider_view()),
        View::Entity => write_lines(out, &report.entity_view()),
        View::Country => write_lines(out, &report.country_view()),
        View::Service => write_lines(out, &report.service_view()),
        View::Relationships => write_lines(out, &sorted(report.relationships())),
    }
}
