//! Following a target's SPF record through its includes and redirect.
//!
//! RFC 7208 §4.6.4 allows at most ten DNS-querying terms (`include`, `a`, `mx`, `ptr`,
//! `exists`, `redirect`) per evaluation. servedby resolves `include` and `redirect`
//! targets (they name the third parties allowed to send mail) and counts the others
//! toward the same limit; past it, an observation with outcome `limit-exceeded` says
//! where the walk stopped. An included record is fetched once for all the targets that
//! include it while its TTL lasts (`Prober::spf_txt`); each target records its own
//! observation of it.

use servedby_dns::Lookup;
use servedby_model::{Observation, ObservationData, Outcome, SpfData};

use crate::Prober;

/// The RFC 7208 limit on DNS-querying terms.
const MAX_LOOKUPS: u32 = 10;

/// The first SPF record among a TXT lookup's answers.
fn spf_record(l: &Lookup) -> Option<String> {
    l.data
        .answers
        .iter()
        .map(|r| r.value.as_str())
        .find(|v| servedby_spf::is_spf(v))
        .map(str::to_string)
}

/// One record to evaluate: its domain, the domain that included it, the record text
/// (`None` until fetched) and the resolver that answered.
struct Pending {
    domain: String,
    via: Option<String>,
    record: Option<String>,
    resolver: Option<String>,
}

pub(crate) async fn walk(p: &Prober, target: &str, txt: &Lookup, out: &mut Vec<Observation>) {
    let Some(record) = spf_record(txt) else {
        return;
    };
    let mut lookups = 0u32;
    // Depth-first, in record order, as an SPF evaluator would go.
    let mut stack = vec![Pending {
        domain: target.to_string(),
        via: None,
        record: Some(record),
        resolver: txt.resolver.map(|r| r.to_string()),
    }];
    let mut seen = std::collections::HashSet::new();
    while let Some(Pending {
        domain,
        via,
        record,
        resolver,
    }) = stack.pop()
    {
        let Some(record) = record else {
            // Fetch the included domain's record.
            let l = p.spf_txt(&domain).await;
            let res = l.resolver.map(|r| r.to_string());
            match spf_record(&l) {
                Some(rec) => stack.push(Pending {
                    domain,
                    via,
                    record: Some(rec),
                    resolver: res,
                }),
                None => {
                    let (outcome, detail) = if l.outcome == Outcome::Ok {
                        (
                            Outcome::NoData,
                            Some("no SPF record at the included domain".to_string()),
                        )
                    } else {
                        (l.outcome, l.detail.clone())
                    };
                    out.push(p.obs(
                        target,
                        &domain,
                        res,
                        outcome,
                        detail,
                        ObservationData::Spf(SpfData {
                            via,
                            lookups,
                            ..SpfData::default()
                        }),
                    ));
                }
            }
            continue;
        };
        let (terms, detail, outcome) = match servedby_spf::parse(&record) {
            Ok(parsed) => (parsed.to_model(), None, Outcome::Ok),
            Err(e) => (Vec::new(), Some(e.to_string()), Outcome::ProtocolError),
        };
        let mut children = Vec::new();
        let mut over = false;
        for t in &terms {
            if matches!(
                t.name.as_str(),
                "include" | "a" | "mx" | "ptr" | "exists" | "redirect"
            ) {
                lookups += 1;
                if lookups > MAX_LOOKUPS {
                    over = true;
                    break;
                }
                if matches!(t.name.as_str(), "include" | "redirect") {
                    if let Some(d) = &t.value {
                        let d = d.trim_end_matches('.').to_ascii_lowercase();
                        // Macros cannot be expanded without a sender; loops are cut.
                        if !d.contains('%') && seen.insert(d.clone()) {
                            children.push(d);
                        }
                    }
                }
            }
        }
        let (outcome, detail) = if over {
            (
                Outcome::LimitExceeded,
                Some(format!("more than {MAX_LOOKUPS} DNS-querying SPF terms (RFC 7208 §4.6.4); stopped here")),
            )
        } else {
            (outcome, detail)
        };
        out.push(p.obs(
            target,
            &domain,
            resolver,
            outcome,
            detail,
            ObservationData::Spf(SpfData {
                record,
                terms,
                via: via.clone(),
                lookups,
            }),
        ));
        if over {
            // Nothing beyond the limit is fetched.
            stack.clear();
            break;
        }
        for c in children.into_iter().rev() {
            stack.push(Pending {
                domain: c,
                via: Some(domain.clone()),
                record: None,
                resolver: None,
            });
        }
    }
}
