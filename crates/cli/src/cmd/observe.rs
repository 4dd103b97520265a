//! `servedby observe` (raw observations) and `servedby who` (a human summary).

use std::sync::Arc;

use servedby_model::{Observation, Relationship, SystemClock};

use crate::args::{Format, ObserveArgs};
use crate::netopts;
use crate::out::{self, Out};

/// Observes targets with bounded concurrency and hands each target's observations,
/// in input order, to `each`.
async fn observe_all(
    a: &ObserveArgs,
    mut each: impl FnMut(&str, Vec<Observation>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let targets = super::read_targets(&a.input)?;
    if targets.is_empty() {
        return Err(crate::usage("no targets: give domains or -i FILE"));
    }
    let (cfg, network) = netopts::probe_config(&a.net)?;
    let prober = Arc::new(servedby_probe::Prober::new(
        cfg,
        network,
        Arc::new(SystemClock),
    )?);
    let sem = Arc::new(tokio::sync::Semaphore::new(a.net.concurrency.max(1)));
    // Tasks start in input order and are awaited in input order, so output is stable.
    let mut handles = std::collections::VecDeque::new();
    for t in targets {
        let permit = sem.clone().acquire_owned().await?;
        let p = prober.clone();
        handles.push_back(tokio::spawn(async move {
            let o = p.observe(&t).await;
            drop(permit);
            (t, o)
        }));
        while handles.front().is_some_and(|h| h.is_finished()) {
            if let Some(h) = handles.pop_front() {
                let (t, o) = h.await?;
                each(&t, o)?;
            }
        }
    }
    while let Some(h) = handles.pop_front() {
        let (t, o) = h.await?;
        each(&t, o)?;
    }
    Ok(())
}

pub(crate) async fn observe(a: ObserveArgs) -> anyhow::Result<()> {
    let mut o = Out::new();
    observe_all(&a, |_, obs| {
        for x in &obs {
            o.json(x)?;
        }
        o.flush()?;
        Ok(())
    })
    .await
}

pub(crate) async fn who(a: ObserveArgs) -> anyhow::Result<()> {
    let knowledge = super::scan::knowledge(None, &a.data)?;
    let mut o = Out::new();
    let jsonl = a.format == Format::Jsonl;
    observe_all(&a, |t, obs| {
        let rels = knowledge.attribute(0, t, None, &obs);
        if jsonl {
            for r in &rels {
                o.json(r)?;
            }
        } else {
            o.line(&summary(t, &obs, &rels))?;
        }
        o.flush()?;
        Ok(())
    })
    .await
}

/// A human summary of one target.
fn summary(target: &str, obs: &[Observation], rels: &[Relationship]) -> String {
    let entity = rels.iter().find_map(|r| r.entity.clone());
    let mut s = format!(
        "{}{}\n",
        out::clean(target),
        entity
            .map(|e| format!("  ({})", out::clean(&e)))
            .unwrap_or_default()
    );
    let failures: Vec<String> = obs
        .iter()
        .filter(|o| {
            o.outcome != servedby_model::Outcome::Ok && o.outcome != servedby_model::Outcome::NoData
        })
        .map(|o| format!("{} {}: {}", o.kind(), o.host, o.outcome))
        .collect();
    let mut rows: Vec<Vec<String>> = rels
        .iter()
        .map(|r| {
            let svc = match r.embed_kind {
                Some(k) => format!("{}:{k}", r.service),
                None => r.service.to_string(),
            };
            let ev = r
                .evidence
                .first()
                .map(|e| format!("{} {} ({})", e.observation, e.value, e.rule))
                .unwrap_or_default();
            vec![
                svc,
                r.provider.name.clone(),
                r.provider.parent.clone(),
                r.provider.country.clone(),
                format!("{:.2}", r.confidence),
                ev,
            ]
        })
        .collect();
    rows.sort();
    if rows.is_empty() {
        s.push_str("  no third-party providers recognised\n");
    } else {
        for line in out::table(
            &["SERVICE", "PROVIDER", "PARENT", "CC", "CONF", "EVIDENCE"],
            &rows,
            out::term_width().saturating_sub(2),
        )
        .lines()
        {
            s.push_str("  ");
            s.push_str(line);
            s.push('\n');
        }
    }
    if !failures.is_empty() {
        s.push_str(&format!("  failed: {}\n", out::clean(&failures.join("; "))));
    }
    s
}
