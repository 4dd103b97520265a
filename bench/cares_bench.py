#!/usr/bin/env python3
"""Bulk DNS with c-ares (PyPI `aiodns`/`pycares`): the peer for `servedby resolve`.

Reads a query list ("name TYPE" per line, the dnsperf format), sends every query to the
one server given (never the system's resolvers: c-ares is given an explicit server and
its own resolv.conf naming only that server), with at most --concurrency queries in
flight, and prints one line: "cares: Q queries (A ok) in S s: R queries/s",
where A counts the queries the server answered (including NXDOMAIN and NODATA).
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time

import aiodns
import pycares

ANSWERED_ERRORS = {pycares.errno.ARES_ENODATA, pycares.errno.ARES_ENOTFOUND}


async def run(queries, server, port, concurrency, timeout):
    # c-ares reads a resolv.conf for its defaults; give it one that names only our server
    # so nothing can fall back to the machine's resolvers.
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write(f"nameserver {server}\noptions ndots:1 attempts:2\n")
    conf.close()
    kwargs = dict(udp_port=port, tcp_port=port, timeout=timeout, tries=2,
                  flags=pycares.ARES_FLAG_NOSEARCH | pycares.ARES_FLAG_NOCHECKRESP)
    try:
        resolver = aiodns.DNSResolver(nameservers=[server], resolvconf_path=conf.name, **kwargs)
    except TypeError:  # older pycares without resolvconf_path
        resolver = aiodns.DNSResolver(nameservers=[server], **kwargs)
    lookup = getattr(resolver, "query_dns", None) or resolver.query
    sem = asyncio.Semaphore(concurrency)
    ok = 0

    async def one(name, qtype):
        nonlocal ok
        async with sem:
            try:
                await lookup(name, qtype)
                ok += 1
            except aiodns.error.DNSError as e:
                # NXDOMAIN and NODATA are answers from the server; timeouts are not.
                if e.args and e.args[0] in ANSWERED_ERRORS:
                    ok += 1

    start = time.perf_counter()
    # Create tasks in slices so memory stays bounded at 100,000s of queries.
    step = concurrency * 8
    for i in range(0, len(queries), step):
        await asyncio.gather(*(one(n, t) for n, t in queries[i:i + step]))
    secs = time.perf_counter() - start
    os.unlink(conf.name)
    return ok, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("queries", help="query list: 'name TYPE' per line")
    ap.add_argument("--server", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=256)
    ap.add_argument("--timeout", type=float, default=2.0)
    a = ap.parse_args()
    if not a.server.startswith("127."):
        sys.exit("cares_bench: refusing a non-loopback server")
    queries = []
    with open(a.queries) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                queries.append((parts[0], parts[1].upper()))
    ok, secs = asyncio.run(run(queries, a.server, a.port, a.concurrency, a.timeout))
    print(f"cares: {len(queries)} queries ({ok} ok) in {secs:.2f} s: {len(queries) / secs:.0f} queries/s")


if __name__ == "__main__":
    main()
