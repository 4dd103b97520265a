#!/usr/bin/env python3
"""Per-domain latency and outcome counts from a servedby scan database.

Latency of a target is the span of its observations' timestamps (max(at) - min(at)):
the time from its first finished measurement to its last. It slightly under-counts
(the first measurement's own duration is not included) but needs nothing but the
stored scan. Prints one JSON object:
  {"targets": N, "observations": M, "p50_ms": .., "p99_ms": .., "max_ms": ..,
   "outcomes": {"dns:ok": .., "tls:ok": .., "http:ok": .., ...},
   "relationships": R, "top_relationships": {"hosting:amazon": .., ...}}
"""

import json
import re
import sqlite3
import sys
from collections import Counter
from datetime import datetime, timezone

# RFC 3339 with up to nanosecond fractions (Python's fromisoformat keeps microseconds).
TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def epoch(ts):
    m = TS.match(ts)
    if not m:
        return None
    base, frac, tz = m.groups()
    tz = "+00:00" if tz == "Z" else tz
    t = datetime.fromisoformat(base + tz).astimezone(timezone.utc).timestamp()
    return t + (float("0." + frac) if frac else 0.0)


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: scan_stats.py DB")
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    scan_id = db.execute("SELECT max(id) FROM scans").fetchone()[0]
    spans = {}
    outcomes = Counter()
    n_obs = 0
    for target, kind, outcome, at in db.execute(
            "SELECT target, kind, outcome, json_extract(doc, '$.at') FROM observations WHERE scan_id = ?",
            (scan_id,)):
        n_obs += 1
        outcomes[f"{kind}:{outcome}"] += 1
        t = epoch(at) if isinstance(at, str) else None
        if t is None:
            continue
        lo, hi = spans.get(target, (t, t))
        spans[target] = (min(lo, t), max(hi, t))
    lat = sorted((hi - lo) * 1000 for lo, hi in spans.values())
    relationships = Counter()
    for service, provider in db.execute(
            "SELECT service, provider_id FROM relationships WHERE scan_id = ?", (scan_id,)):
        relationships[f"{service}:{provider}"] += 1
    done = db.execute("SELECT count(*), sum(done) FROM targets WHERE scan_id = ?", (scan_id,)).fetchone()
    print(json.dumps({
        "targets": done[0], "targets_done": done[1] or 0, "observations": n_obs,
        "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": lat[-1] if lat else None,
        "outcomes": dict(sorted(outcomes.items())),
        "relationships": sum(relationships.values()),
        "top_relationships": dict(relationships.most_common(15)),
    }))


if __name__ == "__main__":
    main()
