#!/usr/bin/env bash
# Cluster-name queries per second: Cairn vs Knot DNS serving the same records, measured with
# dnsperf in the same run, on loopback only. Prints a table (server, round, qps), the medians and
# the ratio cairn/knot. Raw output goes to bench/out/<timestamp>/.
#
# Usage: bench/cluster_qps.sh [--services N | --large] [--rounds R] [--duration S]
#                             [--clients C] [--outstanding Q] [--max-qps Q] [--seed S]
#                             [--endpoints-per-headless K] [--compare N] [--no-build] [--knot-only]
# --knot-only measures Knot alone (no Cairn build, no comparison, no ratio).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

services=1000
rounds=3
duration=10
clients=4
outstanding=200
max_qps=""            # empty: unbounded (dnsperf keeps --outstanding queries in flight)
seed=1
per_headless=3
build=1
compare=200         # distinct names from queries.txt compared too, besides verify.txt
servers=(knot cairn)
knot_port=${KNOT_PORT:-15353}
cairn_port=${CAIRN_PORT:-15354}

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --services) services=$2; shift 2 ;;
        --large) services=10000; shift ;;
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --outstanding) outstanding=$2; shift 2 ;;
        --max-qps) max_qps=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --endpoints-per-headless) per_headless=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --compare) compare=$2; shift 2 ;;
        --knot-only) servers=(knot); build=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "cluster_qps: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

bench_name=cluster_qps
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- tools -----------------------------------------------------------------------------------
# command=Debian package, installed with apt-get when missing (needs root).
install_tools knotd=knot knotc=knot kdig=knot-dnsutils dnsperf=dnsperf dig=bind9-dnsutils \
    python3=python3 ss=iproute2
command -v cargo >/dev/null 2>&1 || [[ $build -eq 0 ]] || die "cargo not found (install Rust)"

# --- output, cleanup -------------------------------------------------------------------------
stamp=$(date +%Y%m%d-%H%M%S)
out="$repo/bench/out/cluster_qps-$stamp"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
knot_pid=""
cairn_pid=""

cleanup() {
    stop "$cairn_pid"
    stop "$knot_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free "$knot_port" || die "port $knot_port is in use (set KNOT_PORT)"
port_free "$cairn_port" || die "port $cairn_port is in use (set CAIRN_PORT)"

cores=$(nproc)
log "cores: $cores; services: $services; rounds: $rounds x ${duration}s; clients: $clients"
warn_if_loaded
load_start=$(load_average)

# --- build, data -----------------------------------------------------------------------------
cairn="$repo/target/release/cairn"
if [[ $build -eq 1 ]]; then
    build_cairn "$repo" "$out"
fi
[[ ${#servers[@]} -eq 1 || -x $cairn ]] || die "no Cairn binary at $cairn"

python3 "$here/gen_cluster.py" --services "$services" --endpoints-per-headless "$per_headless" \
    --seed "$seed" --out "$work/data"
cp "$work/data/verify.txt" "$out/"

# --- Knot ------------------------------------------------------------------------------------
mkdir -p "$work/knot/run" "$work/knot/storage"
cp "$work/data/cluster.zone" "$work/knot/storage/cluster.local.zone"
cat >"$work/knot/knot.conf" <<EOF
server:
    rundir: "$work/knot/run"
    listen: 127.0.0.1@$knot_port
    udp-workers: $cores
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$work/knot/storage"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$work/knot/storage"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: cluster.local.
    file: cluster.local.zone
EOF
cp "$work/knot/knot.conf" "$out/knot.conf"
knotd -c "$work/knot/knot.conf" >"$out/knot.log" 2>&1 &
knot_pid=$!
# SOA answered: the zone is loaded, not only the port bound.
wait_for_answer "$knot_port" "$knot_pid" knot cluster.local. SOA hostmaster
log "knot $(knotd --version | awk '{print $NF}') answering on 127.0.0.1:$knot_port (pid $knot_pid)"

if [[ ${#servers[@]} -gt 1 ]]; then
# --- Cairn -----------------------------------------------------------------------------------
RUST_LOG=${RUST_LOG:-warn} "$cairn" serve --from "$work/data/cluster.json" \
    --listen "127.0.0.1:$cairn_port" >"$out/cairn.log" 2>&1 &
cairn_pid=$!
wait_for_answer "$cairn_port" "$cairn_pid" cairn cluster.local. SOA hostmaster
log "cairn answering on 127.0.0.1:$cairn_port (pid $cairn_pid)"

# --- compare answers -------------------------------------------------------------------------
# One normalised line per answer: rcode, then the answer and authority records sorted (names lower-cased,
# SOA serial blanked: Cairn's is the load time, Knot's the zone file's).
answer() {
    local raw rc recs
    raw=$(dig +time=2 +tries=2 +norec +noall +comments +answer +authority -p "$1" @127.0.0.1 "$2" "$3") || true
    rc=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$raw" | head -1)
    recs=$(grep -v '^;' <<<"$raw" | awk 'NF { $1 = tolower($1); if ($4 == "SOA") $7 = "SERIAL"; print }' \
        | sort | paste -sd'|' -)
    echo "${rc:-NO-ANSWER} ${recs}"
}
diffs=0
: >"$out/compare.txt"
while read -r qname qtype; do
    [[ -n $qname ]] || continue
    k=$(answer "$knot_port" "$qname" "$qtype")
    c=$(answer "$cairn_port" "$qname" "$qtype")
    if [[ $k == "$c" ]]; then
        printf 'same  %s %s: %s\n' "$qname" "$qtype" "$k" >>"$out/compare.txt"
    else
        diffs=$((diffs + 1))
        printf 'DIFF  %s %s\n  knot:  %s\n  cairn: %s\n' "$qname" "$qtype" "$k" "$c" \
            | tee -a "$out/compare.txt" >&2
    fi
done < <(cat "$work/data/verify.txt"; awk '!seen[$0]++' "$work/data/queries.txt" | head -n "$compare")
first=$(head -1 "$work/data/verify.txt")
grep -q "^same  ${first% *} ${first#* }:" "$out/compare.txt" \
    || die "Cairn and Knot disagree on the basic name $first: see $out/compare.txt"
log "answers compared: $(grep -c '^same' "$out/compare.txt") same, $diffs different ($out/compare.txt)"

fi

# --- dnsperf ---------------------------------------------------------------------------------
cp "$work/data/queries.txt" "$out/queries.txt"
perf_args=(-d "$work/data/queries.txt" -c "$clients" -T 1 -l "$duration" -q "$outstanding" -t 2)
[[ -n $max_qps ]] && perf_args+=(-Q "$max_qps")
printf '%s\n' "dnsperf ${perf_args[*]}" >"$out/dnsperf-args.txt"

results="$out/results.tsv"
printf 'server\tround\tqps\n' >"$results"
for ((r = 1; r <= rounds; r++)); do
    # Alternate who goes first, so drift (thermal, noisy neighbours) hits both alike.
    order=("${servers[@]}")
    ((r % 2)) || order=("${order[@]:1}" "${order[0]}")
    for s in "${order[@]}"; do
        if [[ $s == knot ]]; then port=$knot_port; else port=$cairn_port; fi
        qps=$(dnsperf_round "$s" "$port" "$r")  # an assignment, so a failure stops the run
        printf '%s\t%s\t%s\n' "$s" "$r" "$qps" >>"$results"
    done
done

# --- report ----------------------------------------------------------------------------------
python3 - "$results" "$services" "$cores" "${diffs:-0}" "$load_start" "$(load_average)" <<'EOF' \
    | tee "$out/summary.txt"
import statistics, sys
path, services, cores, diffs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
load0, load1 = sys.argv[5], sys.argv[6]
rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
print(f"cluster-name QPS, {services} services, {cores} cores shared by both servers and dnsperf")
print(f"{'server':<8}{'round':>6}{'qps':>12}")
for s, r, q in sorted(rows, key=lambda x: (x[0] != "cairn", int(x[1]))):
    print(f"{s:<8}{r:>6}{float(q):>12.0f}")
names = [s for s in ("cairn", "knot") if any(n == s for n, _, _ in rows)]
med = {s: statistics.median(float(q) for n, _, q in rows if n == s) for s in names}
for s in names:
    print(f"{s:<8}{'median':>6}{med[s]:>12.0f}")
if len(names) == 2:
    print(f"ratio cairn/knot (medians): {med['cairn'] / med['knot']:.2f}")
    # Each round runs the two back to back: its ratio cancels drift slower than a round.
    by = {(n, r): float(q) for n, r, q in rows}
    per = [by["cairn", r] / by["knot", r] for r in sorted({r for _, r, _ in rows}, key=int)]
    print("per-round ratios: " + " ".join(f"{x:.2f}" for x in per)
          + f"; median {statistics.median(per):.2f}")
if diffs:
    print(f"note: {diffs} answers differ between the servers (see compare.txt)")
# One machine-readable line (bench/all.sh reads it).
fields = [f"bench=cluster_qps services={services}",
          f"rounds={len({r for _, r, _ in rows})}"]
fields += [f"{s}_qps={med[s]:.0f}" for s in names]
if len(names) == 2:
    fields += [f"ratio={med['cairn'] / med['knot']:.3f}",
               f"round_ratio_median={statistics.median(per):.3f}"]
fields += [f"diffs={diffs}", f"load_start={load0}", f"load_end={load1}"]
print("RESULT " + " ".join(fields))
EOF
log "raw output in $out"
