#!/usr/bin/env bash
# Every benchmark in one run, then one table: each figure of Cairn beside its reference from the
# same run (or the goal, where there is no reference server) as a ratio, the target and whether
# it is met, and the load average at the start of each bench. Reads the RESULT line each script
# prints. Loopback only (node_local: its own network namespaces). Everything goes to
# bench/out/all-<timestamp>/ (table.md, each bench's output); the raw output of each bench in
# its own bench/out/<bench>-<timestamp>/.
#
# Usage: bench/all.sh [--quick] [--rounds R] [--duration S] [--services N] [--names N]
#                     [--api-services N] [--changes K] [--cold-rounds R] [--cold-services N]
#                     [--only cluster,cache,ceiling,api,cold,nodelocal,autopath] [--no-build]
# Defaults: 3 rounds x 10 s, 1000 services (cluster_qps, ceiling), 4000 cached names,
# 10k services x 10 endpoints and 200 changes (api; node_local's RSS too), 5 cold starts of
# 10k x 10. --quick: 2 rounds x 5 s, 50 changes, 3 cold starts. nodelocal needs root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

rounds=3
duration=10
services=1000
names=4000
api_services=10000
changes=200
cold_rounds=5
cold_services=10000
only=cluster,cache,ceiling,api,cold,nodelocal,autopath
build=1

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) rounds=2; duration=5; changes=50; cold_rounds=3; shift ;;
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --services) services=$2; shift 2 ;;
        --names) names=$2; shift 2 ;;
        --api-services) api_services=$2; shift 2 ;;
        --changes) changes=$2; shift 2 ;;
        --cold-rounds) cold_rounds=$2; shift 2 ;;
        --cold-services) cold_services=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "all: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

bench_name=all
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

out="$repo/bench/out/all-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

# The machine, for the record (the table is only comparable on the same one).
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "cores: $(nproc)"
    echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "kernel: $(uname -r)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt" >&2
warn_if_loaded

if [[ $build -eq 1 ]]; then
    build_cairn "$repo" "$out" --bin cairn-apisim --example ceiling --example cluster_probe \
        --example api_bench
fi

qps=(--rounds "$rounds" --duration "$duration" --no-build)
failed=()
run() {  # key script args...: runs one bench, its output (stdout and stderr) in $out/key.txt
    local key=$1 script=$2
    shift 2
    [[ ,$only, == *,$key,* ]] || return 0
    printf '%s\t%s\n' "$key" "$(load_average)" >>"$out/loads.tsv"
    log "--- $script $* (load average $(load_average))"
    if ! "$here/$script" "$@" 2>&1 | tee "$out/$key.txt"; then
        log "$script failed; its row stays empty (see $out/$key.txt)"
        failed+=("$key")
    fi
}
run cluster cluster_qps.sh --services "$services" "${qps[@]}"
run cache cache_qps.sh --names "$names" "${qps[@]}"
run ceiling ceiling.sh --services "$services" "${qps[@]}"
run api api.sh --no-build --services "$api_services" --changes "$changes"
run cold cold_start.sh --rounds "$cold_rounds" --services "$cold_services" --no-build
run nodelocal node_local.sh --rss-services "$api_services" "${qps[@]}"
CAIRN="$repo/target/release/cairn" run autopath autopath.sh "$out/autopath"

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2

# --- the table -------------------------------------------------------------------------------
python3 - "$out" <<'EOF' | tee "$out/table.md"
import glob, os, sys
out = sys.argv[1]
res = {}
loads = dict(l.split() for l in open(os.path.join(out, "loads.tsv"))) \
    if os.path.exists(os.path.join(out, "loads.tsv")) else {}
for path in sorted(glob.glob(os.path.join(out, "*.txt"))):
    for line in open(path, errors="replace"):
        if line.startswith("RESULT "):
            kv = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            res[kv.get("bench")] = kv

def n(v, d=0):
    return f"{float(v):,.{d}f}".replace(",", " ")

rows = []  # figure, cairn, reference, ratio, target, met, load
def row(fig, cairn, ref, ratio, target, ok, load):
    rows.append((fig, cairn, ref, ratio, target,
                 "—" if ok is None else ("met" if ok else "**not met**"), load))

def missing(fig):
    rows.append((fig, "not run / failed", "", "", "", "", ""))

r = res.get("cluster_qps")
if r and "ratio" in r:
    x = float(r["ratio"])
    row(f"cluster-name qps ({r['services']} Services, median of {r['rounds']} rounds)",
        n(r["cairn_qps"]), f"Knot {n(r['knot_qps'])}",
        f"{x:.2f} (per round {float(r['round_ratio_median']):.2f})", "≥ 1.0 × Knot", x >= 1.0,
        loads.get("cluster", ""))
else:
    missing("cluster-name qps vs Knot")
r = res.get("cache_qps")
if r and "ratio" in r:
    x = float(r["ratio"])
    row(f"cache-hit qps ({r['names']} names, median of {r['rounds']} rounds)",
        n(r["cairn_qps"]), f"Unbound {n(r['unbound_qps'])}",
        f"{x:.2f} (per round {float(r['round_ratio_median']):.2f})", "≥ 1.0 × Unbound",
        x >= 1.0, loads.get("cache", ""))
else:
    missing("cache-hit qps vs Unbound")
r = res.get("ceiling")
if r:
    x = float(r["ratio"])
    row(f"cluster-name qps vs the ceiling ({r['services']} Services)", n(r["cairn_qps"]),
        f"no-lookup responder {n(r['ceiling_qps'])}",
        f"{x:.2f} (per round {float(r['round_ratio_median']):.2f})", "≥ 0.9 × ceiling",
        x >= 0.9, loads.get("ceiling", ""))
else:
    missing("cluster-name qps vs the ceiling")
r = res.get("api")
if r:
    size = f"{int(r['services']) // 1000}k/{int(r['endpoints']) // 1000}k"
    guide, rss, hwm = float(r["coredns_mb"]), float(r["rss_sync_mib"]), float(r["hwm_sync_mib"])
    after = float(r["rss_after_mib"])
    settled = float(r.get("rss_after_settled_mib", "nan"))
    full = r["services"] == "10000" and r["endpoints"] == "100000"
    load = loads.get("api", "")
    mb = lambda mib: mib * 1.048576  # the goal is in MB (10^6 bytes), RSS is read in MiB
    row(f"RSS at first sync, {size} (HWM {hwm:.1f} MiB)", f"{rss:.1f} MiB",
        f"CoreDNS guide {guide:.0f} MB", f"{mb(rss) / guide:.2f}", "—", None, load)
    row(f"RSS at first sync, {size}", f"{rss:.1f} MiB ({mb(rss):.1f} MB)", "goal 55 MB",
        f"{mb(rss) / 55:.2f}", "≤ 55 MB at 10k/100k", mb(rss) <= 55 if full else None, load)
    row(f"RSS 0.5 s after {r['changes']} changes, {size} (HWM {float(r['hwm_after_mib']):.1f} MiB)",
        f"{after:.1f} MiB ({mb(after):.1f} MB)", "goal 55 MB", f"{mb(after) / 55:.2f}", "—",
        None, load)
    row(f"RSS 2.5 s after {r['changes']} changes, {size}",
        f"{settled:.1f} MiB ({mb(settled):.1f} MB)", "goal 55 MB", f"{mb(settled) / 55:.2f}",
        "≤ 55 MB at 10k/100k", mb(settled) <= 55 if full else None, load)
    p99 = float(r["p99_ms"])
    misses = f", {r['misses']} missed" if r["misses"] != "0" else ""
    row(f"propagation p50 / p99 ({r['changes']} changes{misses}, {size})",
        f"{float(r['p50_ms']):.1f} / {p99:.1f} ms", "goal p99 50 ms", f"{p99 / 50:.2f}",
        "p99 ≤ 50 ms", p99 <= 50 and r["misses"] == "0", load)
    row(f"first sync from the API, {size}", f"{float(r['sync_s']):.2f} s", "—", "—", "—", None,
        load)
else:
    missing("RSS and propagation (api)")
r = res.get("cold_start")
if r:
    x, mx = float(r["ratio"]), float(r["cairn_max_ms"])
    size = f"{int(r['services']) // 1000}k/{int(r['endpoints']) // 1000}k"
    row(f"cold start p50 / max ({r['rounds']} starts, {size}; RSS {r['cairn_rss_mib']} MiB)",
        f"{float(r['cairn_p50_ms']):.0f} / {mx:.0f} ms",
        f"Knot loading its zone file {float(r['knot_p50_ms']):.0f} / "
        f"{float(r['knot_max_ms']):.0f} ms", f"{x:.2f}", "≤ 1 s", mx <= 1000, loads.get("cold", ""))
else:
    missing("cold start")
r = res.get("node_local")
if r and "ratio" in r:
    load = loads.get("nodelocal", "")
    x = float(r["ratio"])
    row(f"node-local qps, pod -> 169.254.20.10 ({r['services']} Services, median of "
        f"{r['rounds']} rounds)", n(r["nodelocal_qps"]),
        f"proxy path (DNAT -> central Cairn) {n(r['proxy_qps'])}",
        f"{x:.2f} (per round {float(r['round_ratio_median']):.2f})", "—", None, load)
    p99, ref99 = float(r["nodelocal_p99_ms"]), float(r["proxy_p99_ms"])
    row(f"node-local latency p50 / p99, dnsperf at {r['paced_qps']} qps",
        f"{float(r['nodelocal_p50_ms']):.3f} / {p99:.3f} ms",
        f"proxy path {float(r['proxy_p50_ms']):.3f} / {ref99:.3f} ms", f"{p99 / ref99:.2f} (p99)",
        "—", None, load)
    f99, ref99 = float(r["nodelocal_fresh_p99_ms"]), float(r["proxy_fresh_p99_ms"])
    row("node-local latency p50 / p99, a new flow (source port) per query",
        f"{float(r['nodelocal_fresh_p50_ms']):.3f} / {f99:.3f} ms",
        f"proxy path {float(r['proxy_fresh_p50_ms']):.3f} / {ref99:.3f} ms",
        f"{f99 / ref99:.2f} (p99)", "—", None, load)
    ct, cip, ref = (float(r[k]) for k in
                    ("nodelocal_ct_per_10k", "clusterip_ct_per_10k", "proxy_ct_per_10k"))
    row("node conntrack entries per 10k queries (new flow each; 169.254.20.10 / 10.96.0.10)",
        f"{ct:.0f} / {cip:.0f}", f"proxy path {ref:.0f}", f"{ct / ref:.2f}" if ref else "—",
        "0", ct == 0 and cip == 0, load)
else:
    missing("node-local qps, latency, conntrack")
if r and "rss_sync_mib" in r:
    mb = lambda mib: mib * 1.048576
    rss, settled = float(r["rss_sync_mib"]), float(r["rss_settled_mib"])
    size = f"{int(r['rss_services']) // 1000}k/{int(r['rss_endpoints']) // 1000}k"
    full = r["rss_services"] == "10000" and r["rss_endpoints"] == "100000"
    central = f"central Corefile {float(r['central_rss_mib']):.1f} MiB; " \
        if "central_rss_mib" in r else ""
    row(f"node-local RSS at first sync, {size} (HWM {float(r['hwm_sync_mib']):.1f} MiB; "
        f"2 s later {settled:.1f} MiB)", f"{rss:.1f} MiB ({mb(rss):.1f} MB)",
        f"{central}goal 45 MB", f"{mb(rss) / 45:.2f}", "≤ 45 MB at 10k/100k",
        mb(max(rss, settled)) <= 45 if full else None, loads.get("nodelocal", ""))
elif r is not None:
    missing("node-local RSS")

r = res.get("autopath")
if r:
    qa, qb = float(r["queries_without"]), float(r["queries_with"])
    row(f"queries per glibc lookup of {r['name']} (ndots:5, 3 search domains) with autopath",
        f"{qb:.1f}", f"without autopath {qa:.1f}", f"{qb / qa:.2f}", "2 per lookup",
        qb <= 2.0, loads.get("autopath", ""))
else:
    missing("autopath queries per lookup")

head = ("figure", "Cairn", "reference (same run)", "ratio", "target", "met", "load before")
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in rows:
    print("| " + " | ".join(r) + " |")
print("\nratio = Cairn / reference: for qps higher is better, for memory and times lower is better;"
      "\n'load before' = 1-minute load average when the bench started (2 cores: above ~0.5 the"
      "\nmachine was not quiet and the figures are noisy).")
EOF
[[ ${#failed[@]} -eq 0 ]] || log "failed: ${failed[*]}"
log "table in $out/table.md; each bench's output in $out/"
