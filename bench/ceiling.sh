#!/usr/bin/env bash
# The machine's ceiling: Cairn serving cluster names vs a minimal responder that answers every
# query with one fixed A record and looks nothing up (examples/ceiling), measured with dnsperf
# in the same run, alternating rounds, on loopback only. Prints a table (server, round, qps),
# the medians, Cairn's rate as a fraction of the ceiling and a RESULT line. Raw output goes to
# bench/out/ceiling-<timestamp>/.
#
# Usage: bench/ceiling.sh [--services N | --large] [--rounds R] [--duration S] [--clients C]
#                         [--outstanding Q] [--max-qps Q] [--seed S] [--no-build]
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
build=1
servers=(ceiling cairn)
ceiling_port=${CEILING_PORT:-15358}
cairn_port=${CAIRN_PORT:-15359}

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
        --no-build) build=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "ceiling: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

bench_name=ceiling
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

# --- tools -----------------------------------------------------------------------------------
# command=Debian package, installed with apt-get when missing (needs root).
install_tools dnsperf=dnsperf dig=bind9-dnsutils python3=python3 ss=iproute2
command -v cargo >/dev/null 2>&1 || [[ $build -eq 0 ]] || die "cargo not found (install Rust)"

# --- output, cleanup -------------------------------------------------------------------------
out="$repo/bench/out/ceiling-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ceiling.XXXXXX")
exec 2> >(tee -a "$out/run.log" >&2)   # the log (load averages, losses) is kept too
ceiling_pid=""
cairn_pid=""

cleanup() {
    stop "$cairn_pid"
    stop "$ceiling_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free "$ceiling_port" || die "port $ceiling_port is in use (set CEILING_PORT)"
port_free "$cairn_port" || die "port $cairn_port is in use (set CAIRN_PORT)"

cores=$(nproc)
log "cores: $cores; services: $services; rounds: $rounds x ${duration}s; clients: $clients"
warn_if_loaded
load_start=$(load_average)

# --- build, data -----------------------------------------------------------------------------
cairn="$repo/target/release/cairn"
ceiling="$repo/target/release/examples/ceiling"
if [[ $build -eq 1 ]]; then
    build_cairn "$repo" "$out" --example ceiling
fi
[[ -x $cairn && -x $ceiling ]] || die "no $cairn or $ceiling: run without --no-build"

# The same cluster and query mix as cluster_qps.sh (same generator, same seed).
python3 "$here/gen_cluster.py" --services "$services" --seed "$seed" --out "$work/data"
cp "$work/data/queries.txt" "$out/queries.txt"

# --- servers ---------------------------------------------------------------------------------
"$ceiling" --listen "127.0.0.1:$ceiling_port" >"$out/ceiling.log" 2>&1 &
ceiling_pid=$!
wait_for_answer "$ceiling_port" "$ceiling_pid" ceiling "cluster.local." A '^10\.0\.0\.1$'
log "ceiling answering on 127.0.0.1:$ceiling_port (pid $ceiling_pid)"

RUST_LOG=${RUST_LOG:-warn} "$cairn" serve --from "$work/data/cluster.json" \
    --listen "127.0.0.1:$cairn_port" >"$out/cairn.log" 2>&1 &
cairn_pid=$!
wait_for_answer "$cairn_port" "$cairn_pid" cairn "cluster.local." SOA hostmaster
log "cairn answering on 127.0.0.1:$cairn_port (pid $cairn_pid)"

# --- dnsperf ---------------------------------------------------------------------------------
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
        if [[ $s == ceiling ]]; then port=$ceiling_port; else port=$cairn_port; fi
        qps=$(dnsperf_round "$s" "$port" "$r")  # an assignment, so a failure stops the run
        printf '%s\t%s\t%s\n' "$s" "$r" "$qps" >>"$results"
    done
done

# --- report ----------------------------------------------------------------------------------
python3 - "$results" "$services" "$cores" "$load_start" "$(load_average)" <<'EOF' \
    | tee "$out/summary.txt"
import statistics, sys
path, services, cores, load0, load1 = sys.argv[1:6]
rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
print(f"cluster-name QPS against the ceiling (a responder with no lookup), {services} services, "
      f"{cores} cores shared by both and dnsperf")
print(f"{'server':<8}{'round':>6}{'qps':>12}")
for s, r, q in sorted(rows, key=lambda x: (x[0] != "cairn", int(x[1]))):
    print(f"{s:<8}{r:>6}{float(q):>12.0f}")
med = {s: statistics.median(float(q) for n, _, q in rows if n == s) for s in ("cairn", "ceiling")}
for s in ("cairn", "ceiling"):
    print(f"{s:<8}{'median':>6}{med[s]:>12.0f}")
ratio = med["cairn"] / med["ceiling"]
print(f"ratio cairn/ceiling (medians): {ratio:.2f}")
by = {(n, r): float(q) for n, r, q in rows}
per = [by["cairn", r] / by["ceiling", r] for r in sorted({r for _, r, _ in rows}, key=int)]
print("per-round ratios: " + " ".join(f"{x:.2f}" for x in per)
      + f"; median {statistics.median(per):.2f}")
print(f"RESULT bench=ceiling services={services} rounds={len(per)} cairn_qps={med['cairn']:.0f} "
      f"ceiling_qps={med['ceiling']:.0f} ratio={ratio:.3f} "
      f"round_ratio_median={statistics.median(per):.3f} load_start={load0} load_end={load1}")
EOF
log "raw output in $out"
