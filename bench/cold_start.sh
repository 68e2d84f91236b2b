#!/usr/bin/env bash
# Cold start: process start -> first correct answer, for Cairn restoring a snapshot of a
# 10k-Service/100k-endpoint cluster while its API server is unreachable, against Knot loading
# the equivalent zone file, alternating rounds, loopback only. Prints each round, p50/max per
# server, the ratio cairn/knot of the medians and a RESULT line. Raw output goes to
# bench/out/cold_start-<timestamp>/.
#
# Usage: bench/cold_start.sh [--rounds R] [--services N] [--per-service M] [--interval-ms MS]
#                            [--timeout S] [--no-build]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

rounds=5
services=10000
per_service=10
interval_ms=5       # polling interval of the first-answer client
timeout=30          # seconds a start may take before the run fails
build=1
knot_port=${KNOT_PORT:-15360}
cairn_port=${CAIRN_PORT:-15361}
api_port=${API_PORT:-15362}   # where the kubeconfig points: nothing may listen there

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --services) services=$2; shift 2 ;;
        --per-service) per_service=$2; shift 2 ;;
        --interval-ms) interval_ms=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "cold_start: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $services -ge 1 && $rounds -ge 1 ]] || { echo "cold_start: --services and --rounds must be >= 1" >&2; exit 2; }

bench_name=cold_start
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

# --- tools -----------------------------------------------------------------------------------
# command=Debian package, installed with apt-get when missing (needs root).
install_tools knotd=knot python3=python3 ss=iproute2
command -v cargo >/dev/null 2>&1 || [[ $build -eq 0 ]] || die "cargo not found (install Rust)"

# --- output, cleanup -------------------------------------------------------------------------
out="$repo/bench/out/cold_start-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-coldstart.XXXXXX")
exec 2> >(tee -a "$out/run.log" >&2)
cleanup() { rm -rf "$work"; }   # first_answer.py stops each server it starts
trap cleanup EXIT
trap 'exit 130' INT TERM

for p in "$knot_port" "$cairn_port" "$api_port"; do
    port_free "$p" || die "port $p is in use (set KNOT_PORT / CAIRN_PORT / API_PORT)"
done

cores=$(nproc)
log "cores: $cores; cluster: $services services x $per_service endpoints; rounds: $rounds"
warn_if_loaded
load_start=$(load_average)

# --- build, data -----------------------------------------------------------------------------
cairn="$repo/target/release/cairn"
probe="$repo/target/release/examples/cluster_probe"
if [[ $build -eq 1 ]]; then
    build_cairn "$repo" "$out" --example cluster_probe
fi
[[ -x $cairn && -x $probe ]] || die "no $cairn or $probe: run without --no-build"

# Cairn's side: the snapshot of cairn::cluster::synthetic's cluster (and its memory breakdown).
"$probe" --services "$services" --per-service "$per_service" --snapshot "$work/snapshot.bin" \
    >"$out/cluster_probe.txt" || die "cluster_probe failed"
log "snapshot: $(stat -c %s "$work/snapshot.bin") bytes"
# Knot's side: the same cluster as a zone file (names and records as Cairn answers them).
python3 "$here/gen_cluster.py" --synthetic --services "$services" \
    --endpoints-per-service "$per_service" --namespaces 100 --out "$work/data"
log "zone: $(grep -vc '^\$' "$work/data/cluster.zone") records"

# The name polled: a Service of the snapshot (svc-I in team-(I % 100), ClusterIP 10.96.(I>>8).(I&255)).
i=$((services > 1234 ? 1234 : services - 1))
qname=$(printf 'svc-%d.team-%02d.svc.cluster.local' "$i" $((i % 100)))
expect="10.96.$((i >> 8 & 255)).$((i & 255))"
log "polling $qname A (expecting $expect) every $interval_ms ms"

# --- Knot ------------------------------------------------------------------------------------
mkdir -p "$work/knot/run" "$work/knot/storage"
cp "$work/data/cluster.zone" "$work/knot/cluster.local.zone"
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
    any: info
template:
  - id: default
    storage: "$work/knot"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: cluster.local.
    file: cluster.local.zone
EOF
cp "$work/knot/knot.conf" "$out/knot.conf"

# --- Cairn -----------------------------------------------------------------------------------
# The kubeconfig points at a port where nothing listens: Cairn serves the restored snapshot.
mkdir -p "$work/cairn"
cat >"$work/cairn/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: unreachable
  cluster:
    server: http://127.0.0.1:$api_port
contexts:
- name: unreachable
  context:
    cluster: unreachable
    user: nobody
users:
- name: nobody
  user: {}
current-context: unreachable
EOF
cat >"$work/cairn/Corefile" <<EOF
.:$cairn_port {
    bind 127.0.0.1
    kubernetes cluster.local in-addr.arpa {
        kubeconfig $work/cairn/kubeconfig
        snapshot $work/cairn/snapshot.bin
    }
}
EOF
cp "$work/cairn/Corefile" "$out/Corefile"

# --- rounds ----------------------------------------------------------------------------------
start() {  # server round -> prints "seconds polls rss_kib"
    local name=$1 round=$2 port cmd
    if [[ $name == knot ]]; then
        # No state from the previous start: Knot reads the zone file again either way.
        rm -rf "$work/knot/storage" && mkdir -p "$work/knot/storage"
        port=$knot_port
        cmd=(knotd -c "$work/knot/knot.conf")
    else
        # Cairn saves the snapshot again when it stops: start each round from the same file.
        cp "$work/snapshot.bin" "$work/cairn/snapshot.bin"
        port=$cairn_port
        cmd=(env "RUST_LOG=${RUST_LOG:-info}" "$cairn" serve --corefile "$work/cairn/Corefile")
    fi
    port_free "$port" || die "port $port still in use before round $round"
    python3 "$here/first_answer.py" --port "$port" --name "$qname" --expect "$expect" \
        --timeout "$timeout" --interval-ms "$interval_ms" --log "$out/$name-$round.log" \
        -- "${cmd[@]}" || die "$name round $round failed (see $out/$name-$round.log)"
}

results="$out/results.tsv"
printf 'server\tround\tseconds\tpolls\trss_kib\n' >"$results"
for ((r = 1; r <= rounds; r++)); do
    order=(cairn knot)
    ((r % 2)) || order=(knot cairn)
    for s in "${order[@]}"; do
        load=$(load_average)
        res=$(start "$s" "$r")   # an assignment, so a failure stops the run
        read -r secs polls rss <<<"$res"
        log "round $r $s: first answer after $(awk -v s="$secs" 'BEGIN { printf "%.1f", s * 1000 }') ms ($polls queries; RSS $((rss / 1024)) MiB; load before: $load)"
        printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$secs" "$polls" "$rss" >>"$results"
    done
done

# --- report ----------------------------------------------------------------------------------
python3 - "$results" "$services" "$per_service" "$cores" "$load_start" "$(load_average)" <<'EOF' \
    | tee "$out/summary.txt"
import statistics, sys
path, services, per, cores, load0, load1 = sys.argv[1:7]
rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
print(f"cold start (process start -> first correct answer), {services} services x {per} "
      f"endpoints, {cores} cores")
print("  cairn: restoring its snapshot, API unreachable; knot: loading its zone file")
print(f"{'server':<8}{'round':>6}{'ms':>10}{'RSS MiB':>9}")
for s, r, sec, _, rss in sorted(rows, key=lambda x: (x[0] != "cairn", int(x[1]))):
    print(f"{s:<8}{r:>6}{float(sec) * 1000:>10.1f}{int(rss) / 1024:>9.1f}")
ms = {s: sorted(float(sec) * 1000 for n, _, sec, _, _ in rows if n == s) for s in ("cairn", "knot")}
rss = {s: statistics.median(int(x) / 1024 for n, *_, x in rows if n == s) for s in ("cairn", "knot")}
p50 = {s: statistics.median(v) for s, v in ms.items()}
for s in ("cairn", "knot"):
    print(f"{s:<8} p50 {p50[s]:.1f} ms, max {ms[s][-1]:.1f} ms, RSS at first answer {rss[s]:.1f} MiB")
ratio = p50["cairn"] / p50["knot"]
print(f"ratio cairn/knot (p50): {ratio:.2f}; goal for Cairn: <= 1000 ms "
      f"({'met' if ms['cairn'][-1] <= 1000 else 'not met'} at max)")
print(f"RESULT bench=cold_start services={services} endpoints={int(services) * int(per)} "
      f"rounds={len(ms['cairn'])} cairn_p50_ms={p50['cairn']:.1f} cairn_max_ms={ms['cairn'][-1]:.1f} "
      f"knot_p50_ms={p50['knot']:.1f} knot_max_ms={ms['knot'][-1]:.1f} ratio={ratio:.3f} "
      f"cairn_rss_mib={rss['cairn']:.1f} knot_rss_mib={rss['knot']:.1f} "
      f"load_start={load0} load_end={load1}")
EOF
log "raw output in $out"
