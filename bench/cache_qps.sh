#!/usr/bin/env bash
# Cache-hit queries per second: Cairn (`forward` + `cache`) vs Unbound, both forwarding to the
# same Knot DNS upstream on loopback, measured with dnsperf in the same run. Prints a table
# (server, round, qps), the medians and the ratio cairn/unbound. Raw output goes to
# bench/out/cache_qps-<timestamp>/.
#
# Usage: bench/cache_qps.sh [--names N] [--rounds R] [--duration S] [--clients C]
#                           [--outstanding Q] [--max-qps Q] [--seed S] [--no-build] [--unbound-only]
# --unbound-only measures Unbound alone (no Cairn build, no comparison, no ratio).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

names=4000           # A records in the upstream zone (queries: these + 10% NODATA + 10% NXDOMAIN)
rounds=3
duration=10
clients=4
outstanding=200
max_qps=""           # empty: unbounded (dnsperf keeps --outstanding queries in flight)
seed=1
build=1
cache_ttl=300        # Cairn `cache 300`; Unbound cache-max-ttl / cache-max-negative-ttl alike
zone_ttl=3600        # record TTL and SOA minimum in the upstream zone (above cache_ttl: capped)
servers=(unbound cairn)
knot_port=${UPSTREAM_PORT:-15355}
unbound_port=${UNBOUND_PORT:-15356}
cairn_port=${CAIRN_PORT:-15357}

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --names) names=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --outstanding) outstanding=$2; shift 2 ;;
        --max-qps) max_qps=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --unbound-only) servers=(unbound); build=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "cache_qps: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

bench_name=cache_qps
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- tools -----------------------------------------------------------------------------------
# command=Debian package, installed with apt-get when missing (needs root).
install_tools knotd=knot knotc=knot unbound=unbound dnsperf=dnsperf dig=bind9-dnsutils \
    python3=python3 ss=iproute2
command -v cargo >/dev/null 2>&1 || [[ $build -eq 0 ]] || die "cargo not found (install Rust)"

# --- output, cleanup -------------------------------------------------------------------------
stamp=$(date +%Y%m%d-%H%M%S)
out="$repo/bench/out/cache_qps-$stamp"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-cachebench.XXXXXX")
exec 2> >(tee -a "$out/run.log" >&2)   # the log (load averages, losses) is kept too
knot_pid=""
unbound_pid=""
cairn_pid=""

cleanup() {
    stop "$cairn_pid"
    stop "$unbound_pid"
    stop "$knot_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

zone=bench.example.
probe="host-00001.$zone"   # the first A record: answers once the server (and upstream) work
                           # (for the resolvers: forwarded and back)

port_free "$knot_port" || die "port $knot_port is in use (set UPSTREAM_PORT)"
port_free "$unbound_port" || die "port $unbound_port is in use (set UNBOUND_PORT)"
port_free "$cairn_port" || die "port $cairn_port is in use (set CAIRN_PORT)"

cores=$(nproc)
log "cores: $cores; names: $names; rounds: $rounds x ${duration}s; clients: $clients"
warn_if_loaded
load_start=$(load_average)

# --- build, data -----------------------------------------------------------------------------
cairn="$repo/target/release/cairn"
if [[ $build -eq 1 ]]; then
    build_cairn "$repo" "$out"
fi
[[ ${#servers[@]} -eq 1 || -x $cairn ]] || die "no Cairn binary at $cairn"

# The upstream zone (N A records, TTL $zone_ttl) and the query file: every A name once, plus
# 10% AAAA of existing names (NODATA) and 10% names that do not exist (NXDOMAIN), shuffled.
# Every query of the file is a distinct cache entry; dnsperf loops over it.
mkdir -p "$work/data"
python3 - "$names" "$seed" "$zone_ttl" "$zone" "$work/data" <<'EOF'
import random, sys
n, seed, ttl, zone, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rng = random.Random(seed)
with open(f"{d}/zone", "w") as z:
    z.write(f"$ORIGIN {zone}\n$TTL {ttl}\n")
    z.write(f"@ SOA ns.{zone} hostmaster.{zone} 1 7200 1800 86400 {ttl}\n")
    z.write(f"@ NS ns.{zone}\nns A 127.0.0.1\n")
    for i in range(1, n + 1):
        z.write(f"host-{i:05d} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
queries = [f"host-{i:05d}.{zone} A" for i in range(1, n + 1)]
extra = max(1, n // 10)
queries += [f"host-{i:05d}.{zone} AAAA" for i in rng.sample(range(1, n + 1), extra)]
queries += [f"missing-{i:05d}.{zone} A" for i in range(1, extra + 1)]
rng.shuffle(queries)
with open(f"{d}/queries.txt", "w") as q:
    q.write("\n".join(queries) + "\n")
EOF
cp "$work/data/queries.txt" "$out/queries.txt"

# --- upstream: Knot ---------------------------------------------------------------------------
# mod-stats counts the queries Knot receives: between two readings, that is how many queries the
# resolvers forwarded (0 while they answer from cache).
mkdir -p "$work/knot/run" "$work/knot/storage"
cp "$work/data/zone" "$work/knot/storage/bench.example.zone"
cat >"$work/knot/knot.conf" <<EOF
server:
    rundir: "$work/knot/run"
    listen: 127.0.0.1@$knot_port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$work/knot/storage"
log:
  - target: stderr
    any: warning
mod-stats:
  - id: default
    request-protocol: on
template:
  - id: default
    storage: "$work/knot/storage"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
    global-module: mod-stats/default
zone:
  - domain: $zone
    file: bench.example.zone
EOF
cp "$work/knot/knot.conf" "$out/knot.conf"
knotd -c "$work/knot/knot.conf" >"$out/knot.log" 2>&1 &
knot_pid=$!
wait_for_answer "$knot_port" "$knot_pid" knot "$probe" A '^10\.'
log "knot $(knotd --version | awk '{print $NF}') (upstream) answering on 127.0.0.1:$knot_port (pid $knot_pid)"

upstream_queries() {  # total queries Knot has received so far
    knotc -c "$work/knot/knot.conf" stats mod-stats.request-protocol 2>/dev/null \
        | awk -F' = ' '{ s += $2 } END { print s + 0 }'
}

# --- Unbound ----------------------------------------------------------------------------------
# A caching forwarder and nothing else: forwards everything to the Knot upstream only (no root
# hints are used: the forward zone is "."), no validator, no logging, own files, foreground.
mkdir -p "$work/unbound"
cat >"$work/unbound/unbound.conf" <<EOF
server:
    interface: 127.0.0.1
    port: $unbound_port
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    num-threads: $cores
    so-reuseport: yes
    so-rcvbuf: 4m
    so-sndbuf: 4m
    access-control: 0.0.0.0/0 refuse
    access-control: ::0/0 refuse
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    chroot: ""
    username: ""
    directory: "$work/unbound"
    pidfile: "$work/unbound/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    log-queries: no
    log-replies: no
    qname-minimisation: no
    prefetch: no
    serve-expired: no
    minimal-responses: yes
    cache-max-ttl: $cache_ttl
    cache-max-negative-ttl: $cache_ttl
    msg-cache-size: 32m
    rrset-cache-size: 64m
    msg-cache-slabs: $cores
    rrset-cache-slabs: $cores
    infra-cache-slabs: $cores
    key-cache-slabs: $cores
    statistics-interval: 0
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$knot_port
EOF
cp "$work/unbound/unbound.conf" "$out/unbound.conf"
unbound-checkconf "$work/unbound/unbound.conf" >"$out/unbound-checkconf.txt" 2>&1 \
    || die "unbound-checkconf rejected the config (see $out/unbound-checkconf.txt)"
unbound -d -c "$work/unbound/unbound.conf" >"$out/unbound.log" 2>&1 &
unbound_pid=$!
wait_for_answer "$unbound_port" "$unbound_pid" unbound "$probe" A '^10\.'
log "unbound $(unbound -V | awk 'NR == 1 { print $2 }') answering on 127.0.0.1:$unbound_port (pid $unbound_pid)"

# --- Cairn -----------------------------------------------------------------------------------
if [[ ${#servers[@]} -gt 1 ]]; then
cat >"$work/Corefile" <<EOF
.:$cairn_port {
    bind 127.0.0.1
    forward . 127.0.0.1:$knot_port
    cache $cache_ttl
}
EOF
cp "$work/Corefile" "$out/Corefile"
# `serve` needs a cluster source; the Corefile has no kubernetes block, so it is unused.
RUST_LOG=${RUST_LOG:-warn} "$cairn" serve --corefile "$work/Corefile" \
    --from "$repo/examples/cluster.yaml" >"$out/cairn.log" 2>&1 &
cairn_pid=$!
wait_for_answer "$cairn_port" "$cairn_pid" cairn "$probe" A '^10\.'
log "cairn answering on 127.0.0.1:$cairn_port (pid $cairn_pid)"
fi

port_of() { case $1 in unbound) echo "$unbound_port" ;; cairn) echo "$cairn_port" ;; esac; }

# --- warm, then compare ----------------------------------------------------------------------
# One pass over every query, one at a time (dig batch mode): fills the cache. A second pass
# must not reach the upstream (all hits) and gives the answers compared: one normalised line
# per query, rcode then the answer and authority records sorted, TTLs blanked (each server
# counts its own down), names lower-cased.
normalise() {
    python3 -c '
import re, sys
out, rc, q, recs, inq = [], None, None, [], False
def flush():
    if q is not None:
        out.append(" | ".join([f"{rc} {q} :"] + sorted(recs)))
for line in sys.stdin:
    line = line.rstrip("\n")
    if "->>HEADER<<-" in line:
        flush(); q, recs = None, []
        rc = re.search(r"status: ([A-Z]+)", line).group(1)
    elif line.startswith(";; QUESTION SECTION:"):
        inq = True
    elif inq and line.startswith(";"):
        f = line[1:].split(); q, inq = f"{f[0].lower()} {f[-1]}", False
    elif line and not line.startswith(";"):
        f = line.split(); f[0] = f[0].lower(); f[1] = "TTL"; recs.append(" ".join(f))
flush()
print("\n".join(out))'
}
dig_pass() {  # port file -> normalised answers
    dig -p "$1" @127.0.0.1 +time=2 +tries=2 +noall +comments +question +answer +authority \
        -f "$2" 2>/dev/null | normalise
}
awk '{ print $1, $2 }' "$work/data/queries.txt" >"$work/batch.txt"
for s in "${servers[@]}"; do
    port=$(port_of "$s")
    before=$(upstream_queries)
    dig_pass "$port" "$work/batch.txt" >"$out/warm-$s.txt"
    mid=$(upstream_queries)
    dig_pass "$port" "$work/batch.txt" >"$out/answers-$s.txt"
    after=$(upstream_queries)
    log "$s warmed: $(wc -l <"$out/answers-$s.txt") answers; upstream queries: $((mid - before)) warming, $((after - mid)) on the second pass"
    [[ $((after - mid)) -eq 0 ]] || log "warning: $s went upstream on the second pass: not every answer was a cache hit"
done
if [[ ${#servers[@]} -gt 1 ]]; then
    if diff <(sort "$out/answers-unbound.txt") <(sort "$out/answers-cairn.txt") >"$out/compare.txt"; then
        log "answers compared: all $(wc -l <"$out/answers-cairn.txt") the same (rcode, answer and authority records)"
        diffs=0
    else
        diffs=$(grep -c '^[<>]' "$out/compare.txt" || true)
        log "answers differ ($diffs lines; < unbound, > cairn), first ones:"
        head -6 "$out/compare.txt" >&2
    fi
    grep -q "^NOERROR ${probe} A : | ${probe} TTL IN A 10.0.0.1$" "$out/answers-cairn.txt" \
        || die "Cairn does not answer the basic name $probe from cache (see $out/answers-cairn.txt)"
fi

# --- dnsperf ---------------------------------------------------------------------------------
perf_args=(-d "$work/data/queries.txt" -c "$clients" -T 1 -l "$duration" -q "$outstanding" -t 2)
[[ -n $max_qps ]] && perf_args+=(-Q "$max_qps")
printf '%s\n' "dnsperf ${perf_args[*]}" >"$out/dnsperf-args.txt"

run_perf() {  # server port round -> prints "qps upstream-queries"
    local name=$1 port=$2 round=$3 file qps lost load before after
    # Entries live $cache_ttl s: refill any that expired since the warm-up (one quick pass,
    # 10 queries outstanding), so the measured run is cache hits only.
    dnsperf -s 127.0.0.1 -p "$port" -d "$work/data/queries.txt" -n 1 -q 10 -t 2 \
        >"$out/rewarm-$name-$round.txt" 2>&1 || die "rewarm of $name failed"
    load=$(cut -d' ' -f1 /proc/loadavg)
    file="$out/dnsperf-$name-$round.txt"
    before=$(upstream_queries)
    timeout $((duration + 30)) dnsperf -s 127.0.0.1 -p "$port" "${perf_args[@]}" >"$file" 2>&1 \
        || die "dnsperf against $name failed (see $file)"
    after=$(upstream_queries)
    qps=$(awk '/Queries per second:/ { print $4 }' "$file")
    [[ -n $qps ]] || die "no 'Queries per second' in $file"
    lost=$(awk '/Queries lost:/ { print $3 }' "$file")
    log "round $round $name: $qps qps (lost $lost; upstream queries $((after - before)); 1-min load average before: $load)"
    echo "$qps $((after - before))"
}

results="$out/results.tsv"
printf 'server\tround\tqps\tupstream\n' >"$results"
for ((r = 1; r <= rounds; r++)); do
    # Alternate who goes first, so drift (thermal, noisy neighbours) hits both alike.
    order=("${servers[@]}")
    ((r % 2)) || order=("${order[@]:1}" "${order[0]}")
    for s in "${order[@]}"; do
        res=$(run_perf "$s" "$(port_of "$s")" "$r")  # an assignment, so a failure stops the run
        printf '%s\t%s\t%s\t%s\n' "$s" "$r" "${res% *}" "${res#* }" >>"$results"
    done
done

# --- report ----------------------------------------------------------------------------------
python3 - "$results" "$names" "$cores" "${diffs:-0}" "$load_start" "$(load_average)" <<'EOF' \
    | tee "$out/summary.txt"
import statistics, sys
path, names, cores, diffs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
load0, load1 = sys.argv[5], sys.argv[6]
rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
print(f"cache-hit QPS, {names + 2 * max(1, names // 10)} cached answers, "
      f"{cores} cores shared by both servers and dnsperf")
print(f"{'server':<8}{'round':>6}{'qps':>12}{'upstream':>10}")
for s, r, q, u in sorted(rows, key=lambda x: (x[0] != "cairn", int(x[1]))):
    print(f"{s:<8}{r:>6}{float(q):>12.0f}{int(u):>10}")
names_ = [s for s in ("cairn", "unbound") if any(n == s for n, *_ in rows)]
med = {s: statistics.median(float(q) for n, _, q, _ in rows if n == s) for s in names_}
for s in names_:
    print(f"{s:<8}{'median':>6}{med[s]:>12.0f}")
if len(names_) == 2:
    print(f"ratio cairn/unbound (medians): {med['cairn'] / med['unbound']:.2f}")
    # Each round runs the two back to back: its ratio cancels drift slower than a round.
    by = {(n, r): float(q) for n, r, q, _ in rows}
    per = [by["cairn", r] / by["unbound", r] for r in sorted({r for _, r, _, _ in rows}, key=int)]
    print("per-round ratios: " + " ".join(f"{x:.2f}" for x in per)
          + f"; median {statistics.median(per):.2f}")
if any(int(u) for *_, u in rows):
    print("note: some rounds reached the upstream (column 'upstream'): not purely cache hits")
if diffs:
    print(f"note: answers differ between the servers ({diffs} lines, see compare.txt)")
# One machine-readable line (bench/all.sh reads it).
fields = [f"bench=cache_qps names={names}", f"rounds={len({r for _, r, _, _ in rows})}"]
fields += [f"{s}_qps={med[s]:.0f}" for s in names_]
if len(names_) == 2:
    fields += [f"ratio={med['cairn'] / med['unbound']:.3f}",
               f"round_ratio_median={statistics.median(per):.3f}"]
fields += [f"upstream={sum(int(u) for *_, u in rows)}", f"diffs={diffs}",
           f"load_start={load0}", f"load_end={load1}"]
print("RESULT " + " ".join(fields))
EOF
log "raw output in $out"
