#!/usr/bin/env bash
# End-to-end benchmark of servedby against peers, on loopback servers started here.
#
#   bench/run.sh [--domains N] [--runs R] [--only dns|pipeline|whatweb[,…]] [--scaling]
#
# Builds servedby, generates a synthetic world of N domains (Knot DNS zones, nginx with
# test-CA certificates and realistic pages), starts knotd and nginx on 127.0.0.1, and
# measures in one run: the DNS stage (servedby resolve vs dnsperf, adnshost, c-ares via
# aiodns), the full pipeline (servedby scan: domains/s, DNS queries/s, p50/p99 latency,
# peak RSS) and page analysis (servedby vs whatweb on the same hosts). Prints a markdown
# table and writes it to bench/results/. See bench/README.md.
#
# Network rule: nothing leaves loopback. The measuring part re-executes itself in a new
# network namespace that has only a loopback interface (unshare -n) whenever it can;
# knotd is authoritative only (no remotes, notify or transfers), nginx serves files and
# proxies nothing, servedby runs with --connect-to to loopback and
# --allow-egress 127.0.0.0/8, and every peer is given 127.0.0.x explicitly.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
ORIG_ARGS=("$@")

DOMAINS=10000
RUNS=1
ONLY="dns,pipeline,whatweb"
SCALING=0
SCALING_SIZES="1000 10000 100000"
DNS_CONC=256          # queries in flight, the same for every DNS tool
SCAN_CONC=256         # domains in flight for the pipeline
SAMPLE=200            # hosts for the whatweb comparison
WW_THREADS=25         # whatweb's default; servedby gets the same concurrency there
KEEP=0
NETNS=auto
INSTALL=1
BUILD=1
INSIDE=0
SERVEDBY="${SERVEDBY:-}"

usage() {
    sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'
    cat <<'EOF'
options:
  --domains N          domains in the synthetic world (default 10000, at most 100000)
  --runs R             repeat each measurement R times and report medians (default 1)
  --only LIST          dns, pipeline, whatweb (comma-separated; default all three)
  --scaling            pipeline at N = 1000, 10000, 100000: time and peak RSS growth
  --scaling-sizes "…"  the N values for --scaling
  --dns-concurrency C  DNS queries in flight for every DNS tool (default 256)
  --scan-concurrency C servedby scan --concurrency (default 256)
  --sample S           hosts for the whatweb comparison (default 200)
  --whatweb-threads T  whatweb --max-threads, and servedby's concurrency there (default 25)
  --servedby PATH      use this binary instead of building (also: $SERVEDBY)
  --no-install         do not apt-get/pip install anything
  --no-build           do not run cargo build
  --no-netns           do not enter a loopback-only network namespace (not advised)
  --keep               keep the temporary world directory
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --domains) DOMAINS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --scaling) SCALING=1; shift ;;
        --scaling-sizes) SCALING_SIZES="$2"; shift 2 ;;
        --dns-concurrency) DNS_CONC="$2"; shift 2 ;;
        --scan-concurrency) SCAN_CONC="$2"; shift 2 ;;
        --sample) SAMPLE="$2"; shift 2 ;;
        --whatweb-threads) WW_THREADS="$2"; shift 2 ;;
        --servedby) SERVEDBY="$2"; shift 2 ;;
        --no-install) INSTALL=0; shift ;;
        --no-build) BUILD=0; shift ;;
        --no-netns) NETNS=no; shift ;;
        --keep) KEEP=1; shift ;;
        --inside-netns) INSIDE=1; shift ;;   # internal: set by the re-exec below
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
for v in DOMAINS RUNS DNS_CONC SCAN_CONC SAMPLE WW_THREADS; do
    is_uint "${!v}" && [ "${!v}" -ge 1 ] || { echo "run.sh: --${v,,} must be a positive integer" >&2; exit 2; }
done
[ "$DOMAINS" -le 100000 ] || { echo "run.sh: --domains is at most 100000" >&2; exit 2; }
for s in $SCALING_SIZES; do
    is_uint "$s" && [ "$s" -ge 1 ] && [ "$s" -le 100000 ] || { echo "run.sh: bad --scaling-sizes" >&2; exit 2; }
done
has_stage() { [[ ",$ONLY," == *",$1,"* ]]; }
for s in ${ONLY//,/ }; do
    case "$s" in dns|pipeline|whatweb) ;; *) echo "run.sh: --only: unknown stage $s" >&2; exit 2 ;; esac
done

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------------ 1. install, build
# (outside the namespace: these are the only steps that talk to package registries)
install_deps() {
    local pkgs=()
    command -v knotd >/dev/null || pkgs+=(knot)
    command -v kdig >/dev/null || pkgs+=(knot-dnsutils)
    command -v nginx >/dev/null || pkgs+=(nginx-light)
    command -v dnsperf >/dev/null || pkgs+=(dnsperf)
    command -v adnshost >/dev/null || pkgs+=(adns-tools)
    command -v whatweb >/dev/null || pkgs+=(whatweb)
    [ -x /usr/bin/time ] || pkgs+=(time)
    command -v ip >/dev/null || pkgs+=(iproute2)
    command -v python3 >/dev/null || pkgs+=(python3 python3-pip)
    if [ ${#pkgs[@]} -gt 0 ]; then
        [ "$(id -u)" -eq 0 ] || die "missing ${pkgs[*]}; run as root or install them"
        log "installing from Debian: ${pkgs[*]}"
        timeout 600 apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -q "${pkgs[@]}" >&2
    fi
    if ! python3 -c 'import aiodns, cryptography' 2>/dev/null; then
        log "installing from PyPI: aiodns cryptography"
        timeout 600 python3 -m pip install -q aiodns cryptography >&2 ||
            timeout 600 python3 -m pip install -q --break-system-packages aiodns cryptography >&2
    fi
}

build() {
    log "building servedby (cargo build --release -p servedby --locked)"
    (cd "$ROOT" && timeout 3600 cargo build --release -p servedby --locked >&2)
}

if [ "$INSIDE" -eq 0 ]; then
    [ "$INSTALL" -eq 1 ] && install_deps
    if [ -z "$SERVEDBY" ]; then
        [ "$BUILD" -eq 1 ] && build
        SERVEDBY="${CARGO_TARGET_DIR:-$ROOT/target}/release/servedby"
    fi
    [ -x "$SERVEDBY" ] || die "no servedby binary at $SERVEDBY"
    SERVEDBY="$(cd "$(dirname "$SERVEDBY")" && pwd)/$(basename "$SERVEDBY")"
    export SERVEDBY

    # ------------------------------------------------------------------ 2. namespace
    # Re-run the measuring part in a network namespace with only loopback, a private
    # mount namespace (for the whatweb /etc/hosts below) and a PID namespace: when this
    # script ends, however it ends, the kernel ends knotd, nginx and every peer with it.
    # --map-root-user makes us root there when we are not, so knotd can still bind
    # 127.0.0.2:53 for adnshost.
    if [ "$NETNS" = auto ]; then
        ns=(unshare --net --mount --pid --fork --kill-child --mount-proc)
        [ "$(id -u)" -eq 0 ] || ns=(unshare --map-root-user --net --mount --pid --fork --kill-child --mount-proc)
        if "${ns[@]}" true 2>/dev/null; then
            log "entering a loopback-only network namespace"
            exec "${ns[@]}" -- bash "$0" "${ORIG_ARGS[@]}" --no-install --no-build --inside-netns
        fi
        log "warning: unshare is not available; running on the host's loopback"
    fi
fi

for t in knotd knotc kdig nginx python3; do command -v "$t" >/dev/null || die "$t not found"; done
[ -x /usr/bin/time ] || die "/usr/bin/time not found (Debian package 'time')"

# ------------------------------------------------------------------ helpers
WORK="$(mktemp -d "${TMPDIR:-/tmp}/servedby-bench.XXXXXX")"
chmod 755 "$WORK"   # nginx workers run as an unprivileged user when we are root

if [ "$INSIDE" -eq 1 ]; then
    ip link set lo up
    # Anything that would ask the system resolver asks loopback instead (nothing listens
    # on 127.0.0.1:53 unless we start it): the namespace cannot reach anything else anyway.
    echo "nameserver 127.0.0.1" > "$WORK/resolv.conf"
    mount --bind "$WORK/resolv.conf" /etc/resolv.conf 2>/dev/null || true
fi
KNOT_PID=""; NGINX_PID=""; WORLD=""

stop_servers() {
    local p
    for p in $NGINX_PID $KNOT_PID; do
        kill "$p" 2>/dev/null || true
    done
    for p in $NGINX_PID $KNOT_PID; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    KNOT_PID=""; NGINX_PID=""
}
cleanup() {
    local rc=$?
    stop_servers
    if [ "$KEEP" -eq 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free 127.0.0.1 port for TCP and UDP at once (inside the namespace any port is free).
free_port() {
    python3 - <<'EOF'
import socket
for _ in range(200):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
EOF
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# Median of the numbers given (ignores "-" for failed runs; "-" if none).
median() {
    printf '%s\n' "$@" | awk '/^[0-9.]+$/' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }
fmt0() { awk -v a="$1" 'BEGIN { if (a ~ /^[0-9.]+$/) printf "%.0f", a; else print "-" }'; }
fmt1() { awk -v a="$1" 'BEGIN { if (a ~ /^[0-9.]+$/) printf "%.1f", a; else print "-" }'; }

# Total queries knotd has answered (mod-stats), for DNS queries/s of the pipeline.
knot_queries() {
    timeout 30 knotc -c "$WORLD/knot.conf" stats mod-stats.request-protocol 2>/dev/null |
        awk -F' = ' '{ s += $2 } END { print s + 0 }'
}

# Generate a world of $1 domains into $WORK/world-$1 and start knotd and nginx on it.
start_world() {
    local n="$1"
    WORLD="$WORK/world-$n"
    DNS_PORT="$(free_port)"; HTTP_PORT="$(free_port)"; HTTPS_PORT="$(free_port)"
    [ -n "$DNS_PORT" ] && [ -n "$HTTP_PORT" ] && [ -n "$HTTPS_PORT" ] || die "no free ports"
    # adnshost can only talk to port 53: give it a second knot listener on 127.0.0.2:53
    # when we may bind it (root, or root in our own namespace) and it is free.
    ADNS_ADDR=""
    if [ "$(id -u)" -eq 0 ] && python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.2", 53))' 2>/dev/null; then
        ADNS_ADDR="127.0.0.2"
    fi
    log "generating a world of $n domains"
    timeout 900 python3 "$HERE/gen_world.py" --out "$WORLD" --domains "$n" --dns-port "$DNS_PORT" \
        --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --adns-addr "$ADNS_ADDR" --sample "$SAMPLE"
    log "starting knotd on 127.0.0.1:$DNS_PORT${ADNS_ADDR:+ and $ADNS_ADDR:53}, nginx on 127.0.0.1:$HTTP_PORT (http) and :$HTTPS_PORT (https)"
    knotd -c "$WORLD/knot.conf" > "$WORLD/run/knot.log" 2>&1 &
    KNOT_PID=$!
    nginx -c "$WORLD/nginx.conf" -e "$WORLD/run/nginx-error.log" > "$WORLD/run/nginx.log" 2>&1 &
    NGINX_PID=$!
    # knotd answers only once every zone is loaded (async-start is off).
    local probe; probe="$(tail -n 1 "$WORLD/lists/targets.txt")"
    local deadline=$((SECONDS + 300 + n / 200))
    until timeout 2 kdig @127.0.0.1 -p "$DNS_PORT" +timeout=1 +retry=0 "$probe" SOA 2>/dev/null | grep -q 'status: NOERROR'; do
        kill -0 "$KNOT_PID" 2>/dev/null || { cat "$WORLD/run/knot.log" >&2; die "knotd exited"; }
        [ $SECONDS -lt $deadline ] || die "knotd did not load the zones in time"
        sleep 1
    done
    until (exec 3<>"/dev/tcp/127.0.0.1/$HTTPS_PORT") 2>/dev/null; do
        kill -0 "$NGINX_PID" 2>/dev/null || { cat "$WORLD/run/nginx-error.log" >&2; die "nginx exited"; }
        [ $SECONDS -lt $deadline ] || die "nginx did not start in time"
        sleep 0.5
    done
    # Warm knotd up: the first pass over freshly loaded zones runs well below its
    # steady rate (first touches of zone memory), and whichever tool came first
    # would pay for it. One untimed dnsperf pass over the mixed list (every name and
    # type of the DNS stage) does it, when dnsperf is there.
    if command -v dnsperf >/dev/null; then
        log "warming knotd up (one untimed pass over the mixed query list)"
        timeout 300 dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORLD/lists/dnsperf-mixed.txt" -n 1 \
            -c 4 -T 2 -q 256 -t 2 -l 120 > /dev/null 2>&1 || true
    fi
    log "servers ready"
}

# servedby's loopback-only network options.
net_opts() {
    printf '%s\n' --nameserver "127.0.0.1:$DNS_PORT" --allow-egress 127.0.0.0/8
}
scan_opts() {
    net_opts
    printf '%s\n' --connect-to "*:443=127.0.0.1:$HTTPS_PORT" --connect-to "*:80=127.0.0.1:$HTTP_PORT" \
        --ca-file "$WORLD/certs/roots.pem" --rdap-server "http://127.0.0.1:$HTTP_PORT/rdap/" --timeout 10
}

# ------------------------------------------------------------------ 3a. DNS stage
# Each function prints "<queries/s> <ok> <total>" or "- - -" when the tool failed.
dns_servedby() {   # $1: list kind (a|mixed)
    local types=A; [ "$1" = mixed ] && types=A,AAAA,MX,TXT,NS,SOA
    local err="$WORK/servedby-resolve-$1.err" jsonl="$WORK/servedby-resolve-$1.jsonl" opts
    mapfile -t opts < <(net_opts)
    if timeout "$DNS_TIMEOUT" "$SERVEDBY" resolve -i "$WORLD/lists/targets.txt" --type "$types" --format jsonl \
        --stats --concurrency "$DNS_CONC" "${opts[@]}" > "$jsonl" 2> "$err"; then
        # --stats: "servedby resolve: N lookups (K ok) in S s: R lookups/s" (excludes startup)
        local qps answered total
        qps=$(grep -oE '[0-9.]+ lookups/s' "$err" | tail -n 1 | cut -d' ' -f1)
        answered=$(grep -cE '"outcome": ?"(ok|nxdomain|no-data)"' "$jsonl" || true)
        total=$(wc -l < "$jsonl")
        echo "${qps:--} $answered $total"
    else
        log "servedby resolve failed: $(tail -n 3 "$err")"; echo "- - -"
    fi
    rm -f "$jsonl"
}
dns_dnsperf() {
    command -v dnsperf >/dev/null || { echo "- - -"; return; }
    local out="$WORK/dnsperf-$1.out"
    if timeout "$DNS_TIMEOUT" dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORLD/lists/dnsperf-$1.txt" -n 1 \
        -c 4 -T 2 -q "$DNS_CONC" -t 2 -l "$DNS_LIMIT" > "$out" 2>&1; then
        awk '/Queries per second:/ { q = $4 } /Queries completed:/ { ok = $3 } /Queries sent:/ { n = $3 }
             END { if (q == "") print "- - -"; else print q, ok, n }' "$out"
    else
        log "dnsperf failed: $(tail -n 3 "$out")"; echo "- - -"
    fi
}
# adnshost has no limit on queries in flight: in bulk mode it sends the whole list at
# once, knotd's socket drops part of the burst, and adns's 2-second retry timer then
# dominates. So it is measured twice: as it is ($2 = all), and fed chunks of
# $DNS_CONC queries, one adnshost process per chunk in turn ($2 = chunks), which keeps
# it at most at the concurrency the other tools get.
dns_adns() {   # $1: list kind (a|mixed), $2: all|chunks
    if ! command -v adnshost >/dev/null || [ -z "$ADNS_ADDR" ]; then echo "- - -"; return; fi
    local list="$WORLD/lists/adns-$1.txt" out="$WORK/adns-$1-$2.out" t0 secs n rc=0
    n=$(grep -c '^- ' "$list")
    local chunks="$WORK/adns-$1-chunks"
    rm -rf "$chunks"; mkdir -p "$chunks"
    if [ "$2" = chunks ]; then
        awk -v c="$DNS_CONC" -v dir="$chunks" '
            /^-t / { t = $0; if (f != "") print t > f; next }
            { if (n % c == 0) { if (f != "") close(f); f = sprintf("%s/%07d", dir, n / c); print t > f }
              print > f; n++ }' "$list"
    else
        cp "$list" "$chunks/0000000"
    fi
    t0=$(now)
    # +e: ignore the environment; --config: ignore /etc/resolv.conf. Bulk pipe mode.
    # adnshost exits 1-6 when some queries failed (NXDOMAIN counts); 10+ is a usage error.
    timeout "$DNS_TIMEOUT" bash -c '
        for f in "$1"/*; do adnshost +e --asynch --config "nameserver $2" -f < "$f" || { r=$?; [ $r -lt 10 ] || exit $r; }; done' \
        _ "$chunks" "$ADNS_ADDR" > "$out" 2> "$out.err" || rc=$?
    secs=$(elapsed "$t0")
    rm -rf "$chunks"
    if [ "$rc" -eq 0 ]; then
        # Status lines: "<id> <nrrs> <status type> <num> <abbrev> <owner> …"; answers
        # from the server are ok, nxdomain and nodata (timeouts are tempfail).
        awk -v n="$n" -v s="$secs" '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ {
                if ($3 == "ok" || $5 == "nxdomain" || $5 == "nodata") ok++ }
             END { printf "%.0f %d %d\n", n / s, ok, n }' "$out"
    else
        log "adnshost failed ($rc): $(tail -n 3 "$out.err")"; echo "- - -"
    fi
}
dns_adns_all() { dns_adns "$1" all; }
dns_adns_chunks() { dns_adns "$1" chunks; }
dns_cares() {
    local out="$WORK/cares-$1.out"
    if timeout "$DNS_TIMEOUT" python3 "$HERE/cares_bench.py" "$WORLD/lists/dnsperf-$1.txt" --server 127.0.0.1 \
        --port "$DNS_PORT" --concurrency "$DNS_CONC" > "$out" 2>&1; then
        sed -nE 's/^cares: ([0-9]+) queries \(([0-9]+) ok\) in .*: ([0-9.]+) queries\/s/\3 \2 \1/p' "$out" | grep . || echo "- - -"
    else
        log "c-ares failed: $(tail -n 3 "$out")"; echo "- - -"
    fi
}

declare -A DNS_QPS DNS_OK
run_dns_stage() {
    local kind tool r res q ok total
    local tools=(servedby dnsperf adns_all adns_chunks cares)
    DNS_TIMEOUT=$((120 + DOMAINS * 6 / 500))
    DNS_LIMIT=$((60 + DOMAINS * 6 / 1000))
    for kind in a mixed; do
        # Rounds, not blocks: each round runs every tool once, so a machine whose speed
        # drifts over the minutes of the stage (these do, by a third and more) weighs
        # on every tool alike instead of on whichever ran during a slow spell.
        local -A vals=() oks=()
        for r in $(seq 1 "$RUNS"); do
            for tool in "${tools[@]}"; do
                log "DNS stage: $tool, $kind queries, round $r/$RUNS"
                res=$("dns_$tool" "$kind")
                read -r q ok total <<< "$res"
                vals[$tool]+="$q "
                oks[$tool]="$ok/$total"
            done
        done
        for tool in "${tools[@]}"; do
            # shellcheck disable=SC2086  # the values are words
            DNS_QPS[$tool-$kind]=$(median ${vals[$tool]})
            DNS_OK[$tool-$kind]="${oks[$tool]}"
        done
    done
}

# ------------------------------------------------------------------ 3b. pipeline
# Runs one scan of the world's targets; prints "wall_s rss_mb dns_qps p50_ms p99_ms".
scan_once() {
    local list="$1" conc="$2" tag="$3" opts db q0 q1 t0 secs
    db="$WORK/scan-$tag.db"; rm -f "$db"
    mapfile -t opts < <(scan_opts)
    q0=$(knot_queries); t0=$(now)
    if ! /usr/bin/time -v -o "$WORK/time-$tag.txt" timeout "$SCAN_TIMEOUT" "$SERVEDBY" scan -i "$list" --db "$db" \
        --quiet --concurrency "$conc" "${opts[@]}" > "$WORK/scan-$tag.out" 2> "$WORK/scan-$tag.err"; then
        log "servedby scan failed: $(tail -n 3 "$WORK/scan-$tag.err")"
        echo "- - - - -"; return
    fi
    secs=$(elapsed "$t0"); q1=$(knot_queries)
    local rss; rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$WORK/time-$tag.txt")
    local stats="$WORK/stats-$tag.json" p50 p99
    timeout 300 python3 "$HERE/scan_stats.py" "$db" > "$stats" 2> "$stats.err" || echo '{}' > "$stats"
    p50=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get("p50_ms"); print("-" if v is None else v)' "$stats")
    p99=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get("p99_ms"); print("-" if v is None else v)' "$stats")
    echo "$secs $rss $(awk -v a="$q0" -v b="$q1" -v s="$secs" 'BEGIN { printf "%.0f", (b - a) / s }') $p50 $p99"
    rm -f "$db"
}

# Pipeline over the current world's $1 domains; sets PIPE_* medians.
run_pipeline() {
    local n="$1" r res walls=() rsss=() qpss=() p50s=() p99s=()
    SCAN_TIMEOUT=$((300 + n / 20))
    for r in $(seq 1 "$RUNS"); do
        log "pipeline: servedby scan of $n domains, run $r/$RUNS"
        res=$(scan_once "$WORLD/lists/targets.txt" "$SCAN_CONC" "pipe-$n-$r")
        read -r w m q a b <<< "$res"
        walls+=("$w"); rsss+=("$m"); qpss+=("$q"); p50s+=("$a"); p99s+=("$b")
        log "  wall ${w}s, peak RSS ${m} MB, knot ${q} queries/s, p50 ${a} ms, p99 ${b} ms"
    done
    PIPE_WALL=$(median "${walls[@]}"); PIPE_RSS=$(median "${rsss[@]}"); PIPE_QPS=$(median "${qpss[@]}")
    PIPE_P50=$(median "${p50s[@]}"); PIPE_P99=$(median "${p99s[@]}")
    PIPE_DPS=$(awk -v n="$n" -v w="$PIPE_WALL" 'BEGIN { if (w ~ /^[0-9.]+$/ && w > 0) printf "%.0f", n / w; else print "-" }')
    PIPE_OUTCOMES="$(cat "$WORK/stats-pipe-$n-$RUNS.json" 2>/dev/null || echo '{}')"
}

# ------------------------------------------------------------------ 3c. whatweb
run_whatweb_stage() {
    local r t0 ww=() sb=() res
    WW_NOTE=""; WW_SEEN="-"
    if ! command -v whatweb >/dev/null; then WW_NOTE="whatweb not installed"; fi
    # whatweb resolves names with the system resolver: inside our private mount namespace
    # /etc/hosts maps the sample hosts to 127.0.0.1 (and nothing else exists here).
    if [ -z "$WW_NOTE" ] && [ "$INSIDE" -eq 1 ] && mount --bind "$WORLD/lists/sample-hosts" /etc/hosts 2>/dev/null; then
        :
    elif [ -z "$WW_NOTE" ]; then
        WW_NOTE="skipped: needs the private namespace (unshare) to map the sample hosts to 127.0.0.1"
    fi
    local n; n=$(wc -l < "$WORLD/lists/sample.txt")
    SCAN_TIMEOUT=$((300 + n))
    for r in $(seq 1 "$RUNS"); do
        if [ -z "$WW_NOTE" ]; then
            log "page analysis: whatweb on $n hosts, run $r/$RUNS"
            t0=$(now)
            if timeout 900 whatweb --no-errors -a 1 --max-threads "$WW_THREADS" --open-timeout 10 --read-timeout 10 \
                -i "$WORLD/lists/sample-urls.txt" --log-brief="$WORK/whatweb-$r.log" > /dev/null 2> "$WORK/whatweb-$r.err"; then
                ww+=("$(elapsed "$t0")")
                WW_SEEN=$(grep -c '^https://' "$WORK/whatweb-$r.log" || true)
            else
                log "whatweb failed: $(tail -n 3 "$WORK/whatweb-$r.err")"; ww+=("-")
            fi
        fi
        log "page analysis: servedby scan of the same $n hosts, run $r/$RUNS"
        res=$(scan_once "$WORLD/lists/sample.txt" "$WW_THREADS" "ww-$r")
        sb+=("${res%% *}")
    done
    [ "$INSIDE" -eq 1 ] && umount /etc/hosts 2>/dev/null || true
    WW_SECS=$(median "${ww[@]}"); SB_SECS=$(median "${sb[@]}")
    WW_N="$n"
}

# ------------------------------------------------------------------ 4. report
machine() {
    local cpu mem
    cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "$(nproc) cores ($cpu), $mem RAM, Linux $(uname -r); knotd, nginx and the client share the cores"
}
versions() {
    local sv kv nv dv av wv cv
    sv=$("$SERVEDBY" --version 2>/dev/null | head -n 1 || echo "?")
    kv=$(knotd -V 2>&1 | head -n 1 | awk '{ print $NF }')
    nv=$(nginx -v 2>&1 | sed 's/.*nginx\///')
    dv=$(dpkg-query -W -f '${Version}' dnsperf 2>/dev/null || echo "?")
    av=$(dpkg-query -W -f '${Version}' adns-tools 2>/dev/null || echo "?")
    wv=$(dpkg-query -W -f '${Version}' whatweb 2>/dev/null || echo "?")
    cv=$(python3 -c 'import pycares, aiodns; print(f"pycares {pycares.__version__} (c-ares {pycares.ARES_VERSION}), aiodns {aiodns.__version__}")' 2>/dev/null || echo "?")
    echo "$sv; knot $kv; nginx $nv; dnsperf $dv; adns-tools $av; whatweb $wv; $cv"
}

# Which build was measured: the repository's commit (and whether its tracked files,
# other than the reports, had changes) and the binary's own digest, so that a report
# can be tied to the code it measured.
build_info() {
    local commit="commit unknown" commit_id sum
    if command -v git >/dev/null && commit_id=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null); then
        commit="commit $commit_id"
        if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':!bench/results' 2>/dev/null)" ]; then
            commit="$commit with local changes"
        fi
    fi
    sum=$(sha256sum "$SERVEDBY" 2>/dev/null | cut -c1-16)
    echo "repository at $commit; servedby binary $SERVEDBY (sha256 ${sum:-?}…)"
}

REPORT="$WORK/report.md"
: > "$REPORT"
out() { printf '%s\n' "$@" >> "$REPORT"; }

header() {
    out "# servedby benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
    out ""
    out "- Machine: $(machine)"
    out "- Versions: $(versions)"
    out "- Build: $(build_info)"
    out "- Load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the machine compete with the servers and the client for the cores)"
    out "- Runs: $RUNS (figures are medians); everything on loopback in a network namespace: $([ "$INSIDE" -eq 1 ] && echo yes || echo no)"
    out ""
}

report_dns() {
    local q_a=$((DOMAINS)) q_m=$((DOMAINS * 6)) tool
    out "## DNS stage: $q_a A queries, and $q_m mixed queries (A, AAAA, MX, TXT, NS, SOA)"
    out ""
    out "Same knotd, same query lists, $DNS_CONC queries in flight for every tool (servedby: $DNS_CONC lookups"
    out "at a time, of which its default \`--per-server\` lets at most 128 be queries at the one server)."
    out "The tools run in rounds, each round every tool once; figures are medians over the rounds."
    out ""
    out "| tool | A queries/s | servedby ÷ tool | answered | mixed queries/s | servedby ÷ tool | answered |"
    out "|---|---:|---:|---:|---:|---:|---:|"
    for tool in servedby dnsperf adns_all adns_chunks cares; do
        local name
        case $tool in
            servedby) name="servedby resolve" ;; dnsperf) name="dnsperf (its own rate)" ;;
            adns_all) name="adnshost (GNU adns), whole list at once" ;;
            adns_chunks) name="adnshost (GNU adns), $DNS_CONC queries at a time" ;;
            cares) name="c-ares (aiodns)" ;;
        esac
        out "| $name | $(fmt0 "${DNS_QPS[$tool-a]}") | $(ratio "${DNS_QPS[servedby-a]}" "${DNS_QPS[$tool-a]}") | ${DNS_OK[$tool-a]} | $(fmt0 "${DNS_QPS[$tool-mixed]}") | $(ratio "${DNS_QPS[servedby-mixed]}" "${DNS_QPS[$tool-mixed]}") | ${DNS_OK[$tool-mixed]} |"
    done
    [ -n "$ADNS_ADDR" ] || out "" "adnshost: skipped (it only talks to port 53; needs root or the namespace)."
    out ""
}

report_pipeline() {
    out "## Full pipeline: servedby scan of $DOMAINS domains (DNS + TLS + HTTP + HTML + RDAP + attribution + store)"
    out ""
    out "| domains | wall s | domains/s | DNS queries/s (knot) | p50 ms | p99 ms | peak RSS MB |"
    out "|---:|---:|---:|---:|---:|---:|---:|"
    out "| $DOMAINS | $(fmt1 "$PIPE_WALL") | $PIPE_DPS | $(fmt0 "$PIPE_QPS") | $(fmt1 "$PIPE_P50") | $(fmt1 "$PIPE_P99") | $(fmt1 "$PIPE_RSS") |"
    out ""
    out "Outcomes of the last run (observation kind:outcome → count) and what attribution found:"
    out ""
    out '```'
    python3 -c 'import json,sys
d = json.loads(sys.argv[1] or "{}")
print("targets %s (done %s), observations %s" % (d.get("targets"), d.get("targets_done"), d.get("observations")))
for k, v in d.get("outcomes", {}).items(): print("  %-28s %d" % (k, v))
print("relationships %s; most frequent (service:provider → count):" % d.get("relationships"))
for k, v in d.get("top_relationships", {}).items(): print("  %-28s %d" % (k, v))' "$PIPE_OUTCOMES" >> "$REPORT"
    out '```'
    out ""
}

report_whatweb() {
    out "## Page analysis: $WW_N hosts, concurrency $WW_THREADS"
    out ""
    if [ -n "$WW_NOTE" ]; then out "whatweb: $WW_NOTE"; out ""; fi
    out "| tool | seconds | whatweb ÷ servedby |"
    out "|---|---:|---:|"
    out "| whatweb -a 1 (https fetch with redirects, plugins; $WW_SEEN result lines) | $(fmt1 "$WW_SECS") | |"
    out "| servedby scan (DNS, TLS, HTTP, HTML, RDAP, attribution, store) | $(fmt1 "$SB_SECS") | $(ratio "$WW_SECS" "$SB_SECS") |"
    out ""
}

# ------------------------------------------------------------------ main
header
if [ "$SCALING" -eq 1 ]; then
    out "## Scaling: servedby scan, time and peak RSS against the number of domains"
    out ""
    out "| domains | wall s | domains/s | s per 1000 domains | DNS queries/s | p50 ms | p99 ms | peak RSS MB |"
    out "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for n in $SCALING_SIZES; do
        start_world "$n"
        run_pipeline "$n"
        out "| $n | $(fmt1 "$PIPE_WALL") | $PIPE_DPS | $(awk -v w="$PIPE_WALL" -v n="$n" 'BEGIN { if (w ~ /^[0-9.]+$/) printf "%.2f", w * 1000 / n; else print "-" }') | $(fmt0 "$PIPE_QPS") | $(fmt1 "$PIPE_P50") | $(fmt1 "$PIPE_P99") | $(fmt1 "$PIPE_RSS") |"
        stop_servers
        rm -rf "$WORLD"
    done
    out ""
    out "Linear time means a constant 's per 1000 domains'; flat memory means peak RSS that does not grow with N."
    RESULT="$HERE/results/$(date -u +%Y-%m-%d)-scaling.md"
else
    start_world "$DOMAINS"
    if has_stage dns; then run_dns_stage; report_dns; fi
    if has_stage pipeline; then run_pipeline "$DOMAINS"; report_pipeline; fi
    if has_stage whatweb; then run_whatweb_stage; report_whatweb; fi
    RESULT="$HERE/results/$(date -u +%Y-%m-%d)-$DOMAINS.md"
fi
mkdir -p "$HERE/results"
cp "$REPORT" "$RESULT"
log "wrote $RESULT"
echo
cat "$REPORT"
