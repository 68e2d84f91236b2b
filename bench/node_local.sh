#!/usr/bin/env bash
# Node-local mode against the service-proxy path, in a lab of network namespaces this script
# creates (and removes on exit): a pod asks node-local Cairn on 169.254.20.10, or, with node-local
# stopped, 10.96.0.10 through an nftables DNAT (kube-proxy's nftables mode) to a central Cairn;
# same queries, alternating rounds. Reports qps, p50/p99 latency, conntrack entries per 10k
# queries, and node-local Cairn's RSS at 10k Services / 100k endpoints. Needs root. Raw output
# goes to bench/out/node_local-<timestamp>/.
#
# Usage: bench/node_local.sh [--quick] [--rounds R] [--duration S] [--services N] [--clients C]
#                            [--outstanding Q] [--paced-qps Q] [--paced-duration S] [--fresh N]
#                            [--rss-services N] [--per-service M] [--seed S] [--no-rss]
#                            [--no-build]
# Defaults: 3 rounds x 10 s, 1000 services, 4 clients, 200 outstanding; latency from a paced
# run of 2000 qps x 5 s per path and round; 10000 fresh-socket queries per path and round for
# conntrack; RSS at 10000 services x 10 endpoints. --quick: 2 rounds x 5 s, paced 3 s, 5000
# fresh-socket queries.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

rounds=3
duration=10
services=1000
clients=4
outstanding=200
paced_qps=2000
paced_duration=5
fresh=10000
rss_services=10000
per_service=10
seed=1
rss=1
build=1

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) rounds=2; duration=5; paced_duration=3; fresh=5000; shift ;;
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --services) services=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --outstanding) outstanding=$2; shift 2 ;;
        --paced-qps) paced_qps=$2; shift 2 ;;
        --paced-duration) paced_duration=$2; shift 2 ;;
        --fresh) fresh=$2; shift 2 ;;
        --rss-services) rss_services=$2; shift 2 ;;
        --per-service) per_service=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --no-rss) rss=0; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "node_local: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $rounds -ge 1 && $fresh -ge 1 && $rss_services -ge 1 ]] \
    || { echo "node_local: --rounds, --fresh and --rss-services must be >= 1" >&2; exit 2; }

bench_name=node_local
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, nftables, conntrack)"

# --- tools -----------------------------------------------------------------------------------
# command=Debian package, installed with apt-get when missing.
install_tools dnsperf=dnsperf dig=bind9-dnsutils nft=nftables conntrack=conntrack \
    ip=iproute2 python3=python3
command -v cargo >/dev/null 2>&1 || [[ $build -eq 0 ]] || die "cargo not found (install Rust)"

# --- output, the lab's names, cleanup --------------------------------------------------------
out="$repo/bench/out/node_local-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-nodelocal.XXXXXX")
exec 2> >(tee -a "$out/run.log" >&2)

# Namespace names unique to this run: nothing outside them is touched.
lab="cairn-nl-$$-${work##*.}"
ns_pod=$lab-pod
ns_node=$lab-node
ns_dns=$lab-dns
ns_mem=$lab-mem
namespaces=("$ns_pod" "$ns_node" "$ns_dns" "$ns_mem")
pids=()        # every server started, stopped in reverse on exit
nl_pid=""      # node-local Cairn of the qps part, while it runs

cleanup() {
    local i ns pid
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
    for ns in "${namespaces[@]}"; do
        [[ -e /run/netns/$ns ]] || continue
        # Anything still running in the lab was started by this script.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || log "warning: could not delete netns $ns"
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cores=$(nproc)
log "cores: $cores; services: $services; rounds: $rounds x ${duration}s; clients: $clients;" \
    "paced: $paced_qps qps x ${paced_duration}s; fresh-socket queries: $fresh; lab: $lab-*"
warn_if_loaded
load_start=$(load_average)

# --- build, data -----------------------------------------------------------------------------
cairn="$repo/target/release/cairn"
apisim="$repo/target/release/cairn-apisim"
if [[ $build -eq 1 ]]; then
    build_cairn "$repo" "$out" --bin cairn-apisim
fi
[[ -x $cairn ]] || die "no Cairn binary at $cairn: run without --no-build"
[[ $rss -eq 0 || -x $apisim ]] || die "no $apisim: run without --no-build"

python3 "$here/gen_cluster.py" --services "$services" --seed "$seed" --out "$work/data"
cp "$work/data/queries.txt" "$out/queries.txt"

# --- the lab ---------------------------------------------------------------------------------
# pod (10.200.0.2) --veth-- node (10.200.0.1 | 10.201.0.1) --veth-- dns (10.201.0.2)
# mem: loopback only, for the RSS part.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
for ns in "${namespaces[@]}"; do
    [[ ! -e /run/netns/$ns ]] || die "netns $ns exists already"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
ip -n "$ns_node" link add veth-pod type veth peer name eth0 netns "$ns_pod"
ip -n "$ns_node" link add veth-dns type veth peer name eth0 netns "$ns_dns"
ip -n "$ns_node" addr add 10.200.0.1/24 dev veth-pod
ip -n "$ns_node" addr add 10.201.0.1/24 dev veth-dns
ip -n "$ns_pod" addr add 10.200.0.2/24 dev eth0
ip -n "$ns_dns" addr add 10.201.0.2/24 dev eth0
for dev in veth-pod veth-dns; do ip -n "$ns_node" link set "$dev" up; done
ip -n "$ns_pod" link set eth0 up
ip -n "$ns_dns" link set eth0 up
ip -n "$ns_pod" route add default via 10.200.0.1
ip -n "$ns_dns" route add default via 10.201.0.1
in_ns "$ns_node" sysctl -qw net.ipv4.ip_forward=1

# The service proxy, as kube-proxy's nftables mode programs the kube-dns ClusterIP: DNAT in
# prerouting (pods) and output (host network), priority dstnat (-100), udp and tcp.
cat >"$work/proxy.nft" <<'EOF'
table ip kube-proxy {
    chain nat-prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr 10.96.0.10 udp dport 53 dnat to 10.201.0.2:53
        ip daddr 10.96.0.10 tcp dport 53 dnat to 10.201.0.2:53
    }
    chain nat-output {
        type nat hook output priority -100; policy accept;
        ip daddr 10.96.0.10 udp dport 53 dnat to 10.201.0.2:53
        ip daddr 10.96.0.10 tcp dport 53 dnat to 10.201.0.2:53
    }
}
EOF
cp "$work/proxy.nft" "$out/proxy.nft"
in_ns "$ns_node" nft -f "$work/proxy.nft"
log "lab up: $ns_pod 10.200.0.2 -> $ns_node (DNAT 10.96.0.10:53 -> 10.201.0.2:53) -> $ns_dns"

# --- the two Cairns of the qps part ----------------------------------------------------------
# The same plugins and the same dump (--from) on both sides; only the path differs. Nothing is
# forwarded (every query is a cluster name): the upstream is a loopback port nothing answers.
cat >"$work/central.Corefile" <<'EOF'
.:53 {
    bind 10.201.0.2
    health 10.201.0.2:8080
    kubernetes cluster.local in-addr.arpa ip6.arpa
    forward . 127.0.0.1:5399
    cache 30
}
EOF
cat >"$work/nodelocal.Corefile" <<'EOF'
.:53 {
    bind 169.254.20.10 10.96.0.10
    nodelocal {
        interface cairn0
        check 1s
    }
    health 169.254.20.10:8080
    kubernetes cluster.local in-addr.arpa ip6.arpa
    forward . 127.0.0.1:5399
    cache 30
}
EOF
cp "$work/central.Corefile" "$work/nodelocal.Corefile" "$out/"

probe=$(head -1 "$work/data/verify.txt")   # kubernetes.default.svc.cluster.local A
probe_name=${probe% *}

ip netns exec "$ns_dns" env "RUST_LOG=${RUST_LOG:-warn}" "$cairn" serve \
    --corefile "$work/central.Corefile" --from "$work/data/cluster.json" >"$out/central.log" 2>&1 &
central_pid=$!
pids+=("$central_pid")
wait_for_answer_at "$ns_pod" 10.201.0.2 53 "$central_pid" central "$probe_name" A '^10\.'
log "central cairn answering on 10.201.0.2:53 in $ns_dns (pid $central_pid)"

nl_starts=0
table_present() { in_ns "$1" nft list table inet cairn >/dev/null 2>&1; }
link_present() { ip -n "$1" link show cairn0 >/dev/null 2>&1; }

start_nodelocal() {
    local i
    nl_starts=$((nl_starts + 1))
    ip netns exec "$ns_node" env "RUST_LOG=${RUST_LOG:-info}" "$cairn" serve \
        --corefile "$work/nodelocal.Corefile" --from "$work/data/cluster.json" \
        >"$out/nodelocal-$nl_starts.log" 2>&1 &
    nl_pid=$!
    pids+=("$nl_pid")
    wait_for_answer_at "$ns_pod" 169.254.20.10 53 "$nl_pid" "nodelocal-$nl_starts" \
        "$probe_name" A '^10\.'
    # The table goes in once the listeners answer: until then 10.96.0.10 is still DNATed.
    for ((i = 0; i < 100; i++)); do
        table_present "$ns_node" && return 0
        sleep 0.1
    done
    die "node-local cairn answers but installed no table inet cairn" \
        "(see $out/nodelocal-$nl_starts.log)"
}

stop_nodelocal() {   # SIGTERM: node-local removes its table, then its interface, and exits
    local i
    kill -TERM "$nl_pid"
    for ((i = 0; i < 300; i++)); do
        kill -0 "$nl_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$nl_pid" 2>/dev/null && die "node-local cairn did not exit within 30 s of SIGTERM"
    wait "$nl_pid" || log "warning: node-local cairn exited with status $?"
    nl_pid=""
    ! table_present "$ns_node" || die "table inet cairn still there after node-local stopped"
    ! link_present "$ns_node" || die "interface cairn0 still there after node-local stopped"
}

# Node-local's own count of the queries it received (GET /status on its health listener).
local_queries() {
    in_ns "$ns_node" python3 -c '
import json, urllib.request
status = urllib.request.urlopen("http://169.254.20.10:8080/status", timeout=5)
print(json.load(status)["node_local"]["local_queries"])'
}

# conntrack in the node: the entries of the pod's DNS flows (original tuple from 10.200.0.2 to
# port 53; Cairn's own flows, e.g. forward's health checks of its upstream, are not counted).
# A UDP entry lives 30 s and every run here is shorter: after a flush, the entries in the table
# are the ones the run created. (`conntrack -S` insert= stayed 0 on 6.18, so it is not used.)
ct_flush() { in_ns "$ns_node" conntrack -F >/dev/null 2>&1 || true; }
ct_pod_dns() {  # FILE: the table, kept gzipped in FILE.gz; prints the pod's DNS entries
    in_ns "$ns_node" conntrack -L 2>/dev/null >"$1" || true
    grep -Ec '^(udp|tcp) .* src=10\.200\.0\.2 dst=[0-9.]+ sport=[0-9]+ dport=53 ' "$1" || true
    gzip -f "$1"
}

# A client that sends every query from a new socket on its own source port: each query is a
# new flow, as pods' resolvers make them (glibc and musl open a socket per lookup; across a
# node's pods the flows are distinct). One socket per query on random ports would reuse a flow
# still in the table now and then (birthday collisions among 28k ports), so the ports are
# taken in turn. dnsperf keeps one socket per client: its queries are only --clients flows.
cat >"$work/fresh.py" <<'EOF'
import random, socket, struct, sys, time
server, count, qfile, latfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
types = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "TXT": 16, "AAAA": 28, "SRV": 33}
qs = [l.split() for l in open(qfile) if l.strip()]
answered = lost = 0
latencies = []
started = time.monotonic()
for i in range(count):
    name, qtype = qs[i % len(qs)][:2]
    qid = random.getrandbits(16)
    wire = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    wire += b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    wire += struct.pack(">HH", types[qtype], 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        s.bind(("0.0.0.0", 10000 + i % 50000))
        sent = time.perf_counter()
        s.sendto(wire, (server, 53))
        while True:
            reply = s.recv(4096)
            if reply[:2] == wire[:2]:
                latencies.append(time.perf_counter() - sent)
                answered += 1
                break
    except socket.timeout:
        lost += 1
    finally:
        s.close()
open(latfile, "w").write("".join(f"{x:.6f}\n" for x in latencies))
print(answered, lost, f"{time.monotonic() - started:.2f}")
EOF

# fresh_round NAME SERVER ROUND: `fresh` fresh-socket queries from the pod to SERVER, one at a
# time; prints "answered lost seconds entries" (the conntrack entries of those flows in the
# node; the table is kept in $out/conntrack-NAME-ROUND.txt.gz). Each query's time from send to
# answer goes to $out/fresh-latency-NAME-ROUND.txt (seconds): a new flow's first packet, what a
# pod's lookup costs (on the proxy path it includes creating the conntrack entry and the NAT).
fresh_round() {
    local name=$1 server=$2 round=$3 res count
    ct_flush
    res=$(in_ns "$ns_pod" python3 "$work/fresh.py" "$server" "$fresh" "$work/data/queries.txt" \
        "$out/fresh-latency-$name-$round.txt") \
        || die "fresh-socket client against $name failed"
    count=$(ct_pod_dns "$out/conntrack-$name-$round.txt")
    log "round $round $name: $fresh fresh-socket queries to $server: answered/lost/seconds $res;" \
        "conntrack entries $count"
    echo "$res $count"
}

# paced_round NAME SERVER ROUND: dnsperf at a fixed rate, far below saturation, each query's
# latency printed (-v); keeps them in $out/latency-NAME-ROUND.txt (seconds, one a line).
paced_round() {
    local name=$1 server=$2 round=$3 file=$out/paced-$1-$3.txt
    timeout $((paced_duration + 30)) ip netns exec "$ns_pod" dnsperf -s "$server" -p 53 \
        -d "$work/data/queries.txt" -c 1 -T 1 -l "$paced_duration" -Q "$paced_qps" -q 50 -t 2 -v \
        >"$file" 2>&1 || die "paced dnsperf against $name failed (see $file)"
    awk '/^> / && $NF ~ /^[0-9.]+$/ { print $NF }' "$file" >"$out/latency-$name-$round.txt"
    [[ -s $out/latency-$name-$round.txt ]] || die "no per-query latencies in $file"
    log "round $round $name: paced $(awk '/Queries completed:/ { c = $3 } /Queries lost:/ { l = $3 }
        END { printf "%s completed, %s lost", c, l }' "$file") (latencies of the completed ones)"
    gzip -f "$file"   # the per-query lines are kept, compressed
}

# measure PATH ROUND: every figure of one path in one round, appended to results.tsv.
measure() {
    local path=$1 round=$2 server ct qps res lq0 lq1 fres cres
    if [[ $path == nodelocal ]]; then
        [[ -n $nl_pid ]] || start_nodelocal
        server=169.254.20.10
        lq0=$(local_queries)
    else
        [[ -z $nl_pid ]] || stop_nodelocal
        server=10.96.0.10
    fi
    ct_flush
    qps=$(dnsperf_round_at "$ns_pod" "$server" "$path" 53 "$round")
    ct=$(ct_pod_dns "$out/conntrack-dnsperf-$path-$round.txt")
    paced_round "$path" "$server" "$round"
    fres=$(fresh_round "$path" "$server" "$round")
    cres="- - - -"
    if [[ $path == nodelocal ]]; then
        # Pods keep asking 10.96.0.10 (kubelet unchanged): node-local must capture it too.
        cres=$(fresh_round nodelocal-clusterip 10.96.0.10 "$round")
        lq1=$(local_queries)
        local sent
        sent=$(awk '/Queries completed:/ { print $3 }' "$out/dnsperf-$path-$round.txt")
        ((lq1 - lq0 >= sent)) \
            || die "node-local counted $((lq1 - lq0)) queries, dnsperf completed $sent:" \
                "not served locally"
    else
        # The proxy path must have gone through conntrack (DNAT): a check that it was used.
        read -r _ _ _ res <<<"$fres"
        ((res > 0)) || die "no conntrack entry on the proxy path: was 10.96.0.10 DNATed?"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$path" "$round" "$qps" "$ct" \
        "${fres// /$'\t'}" "${cres// /$'\t'}" >>"$results"
}

results="$out/results.tsv"
printf '%s\n' "path round qps dnsperf_ct fresh_answered fresh_lost fresh_s fresh_ct" \
    "cip_answered cip_lost cip_s cip_ct" | paste -sd' ' | tr ' ' '\t' >"$results"
perf_args=(-d "$work/data/queries.txt" -c "$clients" -T 1 -l "$duration" -q "$outstanding" -t 2)
printf '%s\n' "dnsperf ${perf_args[*]}" \
    "paced: dnsperf -c 1 -T 1 -l $paced_duration -Q $paced_qps -q 50 -t 2 -v" >"$out/dnsperf-args.txt"
for ((r = 1; r <= rounds; r++)); do
    # Alternate who goes first (drift hits both alike); it also halves node-local's restarts.
    order=(nodelocal proxy)
    ((r % 2)) || order=(proxy nodelocal)
    for p in "${order[@]}"; do measure "$p" "$r"; done
done
[[ -z $nl_pid ]] || stop_nodelocal
log "node-local started $nl_starts times; each stop removed its table and interface (checked)"

# --- RSS at scale ----------------------------------------------------------------------------
# The synthetic cluster of cold_start.sh (cairn::cluster::synthetic, via gen_cluster.py
# --synthetic's generator) as a dump, served by the API test server in the mem namespace;
# node-local Cairn with the shipped node-local Corefile (deploy/overlays/node-local) lists it
# from there. Reference in the same run: the central Corefile (deploy/base, as api.sh runs it)
# against the same API server.
mem() {  # PID -> "rss_kib hwm_kib anon_kib file_kib"
    awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
         END { print r, h, a, f }' "/proc/$1/status"
}
rss_results="$out/rss.tsv"
printf '%s\n' "server sync_s rss_sync_kib hwm_sync_kib anon_sync_kib file_sync_kib" \
    "rss_settled_kib hwm_settled_kib anon_settled_kib file_settled_kib" | paste -sd' ' \
    | tr ' ' '\t' >"$rss_results"
if [[ $rss -eq 1 ]]; then
    python3 - "$here" "$rss_services" "$per_service" "$work/synthetic.json" <<'EOF'
import json, sys, types
sys.path.insert(0, sys.argv[1])
import gen_cluster
a = types.SimpleNamespace(services=int(sys.argv[2]), endpoints_per_service=int(sys.argv[3]),
                          namespaces=100)
d = gen_cluster.dump([f"team-{n:02}" for n in range(a.namespaces)], gen_cluster.synthetic(a))
# The node-local Corefile has `pods insecure`: no Pod is watched, so none is loaded.
d["items"] = [i for i in d["items"] if i["kind"] != "Pod"]
json.dump(d, open(sys.argv[4], "w"))
EOF
    ip netns exec "$ns_mem" "$apisim" --listen 127.0.0.1:6443 --load "$work/synthetic.json" \
        --kubeconfig "$work/kubeconfig" >"$work/apisim.url" 2>"$out/apisim.log" &
    apisim_pid=$!
    pids+=("$apisim_pid")
    for ((i = 0; i < 600; i++)); do
        grep -q http "$work/apisim.url" 2>/dev/null && break
        kill -0 "$apisim_pid" 2>/dev/null || die "cairn-apisim exited (see $out/apisim.log)"
        sleep 0.1
    done
    grep -q http "$work/apisim.url" || die "cairn-apisim did not come up within 60 s"
    log "apisim: $(tail -1 "$out/apisim.log") ($rss_services services x $per_service endpoints)"

    cat >"$work/nodelocal-rss.Corefile" <<EOF
.:53 {
    bind 169.254.20.10 10.96.0.10
    nodelocal {
        interface cairn0
        check 10s
    }
    health 169.254.20.10:8080 {
        lameduck 5s
    }
    ready 169.254.20.10:8181
    prometheus 169.254.20.10:9253
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $work/kubeconfig
        pods insecure
        snapshot $work/nodelocal.snapshot
    }
    forward . 127.0.0.1:5399
    cache 30
}
EOF
    cat >"$work/central-rss.Corefile" <<EOF
.:5353 {
    bind 127.0.0.1
    errors
    health 127.0.0.1:8080 {
       lameduck 5s
    }
    ready 127.0.0.1:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       kubeconfig $work/kubeconfig
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
       snapshot $work/central.snapshot
    }
    prometheus 127.0.0.1:9153
    forward . 127.0.0.1:5399 {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
EOF
    cp "$work/nodelocal-rss.Corefile" "$work/central-rss.Corefile" "$out/"
    # A Service of the synthetic cluster: svc-I in team-(I % 100), ClusterIP 10.96.(I>>8).(I&255).
    i=$((rss_services > 1234 ? 1234 : rss_services - 1))
    rss_qname=$(printf 'svc-%d.team-%02d.svc.cluster.local' "$i" $((i % 100)))
    rss_expect="10\\.96\\.$((i >> 8 & 255))\\.$((i & 255))"

    rss_run() {  # NAME COREFILE SERVER PORT: start, first answer (= synced), memory, stop
        local name=$1 corefile=$2 server=$3 port=$4 pid t0 secs at settled
        t0=$(date +%s.%N)
        ip netns exec "$ns_mem" env "RUST_LOG=${RUST_LOG:-info}" "$cairn" serve \
            --corefile "$corefile" >"$out/$name.log" 2>&1 &
        pid=$!
        pids+=("$pid")
        # Cairn opens its listeners once every watch has listed: the first answer is the sync.
        wait_for_answer_at "$ns_mem" "$server" "$port" "$pid" "$name" "$rss_qname" A \
            "^$rss_expect\$"
        secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
        at=$(mem "$pid")
        sleep 2
        settled=$(mem "$pid")
        if [[ $name == nodelocal-rss ]]; then
            table_present "$ns_mem" || die "node-local (RSS run) installed no table inet cairn"
        fi
        stop_wait "$pid" "$name"
        printf '%s\t%s\t%s\t%s\n' "$name" "$secs" "${at// /$'\t'}" "${settled// /$'\t'}" \
            >>"$rss_results"
        log "$name: first answer after $secs s; VmRSS/VmHWM/RssAnon/RssFile kB at sync: $at;" \
            "2 s later: $settled"
    }
    stop_wait() {  # PID NAME: SIGTERM (lameduck 5 s), up to 30 s
        local pid=$1 name=$2 i
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do
            kill -0 "$pid" 2>/dev/null || return 0
            sleep 0.1
        done
        log "warning: $name did not exit within 30 s of SIGTERM"
    }
    rss_run nodelocal-rss "$work/nodelocal-rss.Corefile" 169.254.20.10 53
    rss_run central-rss "$work/central-rss.Corefile" 127.0.0.1 5353
fi

# --- report ----------------------------------------------------------------------------------
python3 - "$results" "$rss_results" "$services" "$cores" "$rss_services" "$per_service" \
    "$paced_qps" "$fresh" "$out" "$load_start" "$(load_average)" <<'EOF' | tee "$out/summary.txt"
import glob, os, statistics, sys
(path, rss_path, services, cores, rss_services, per, paced, fresh, out,
 load0, load1) = sys.argv[1:12]
rows = [l.rstrip("\n").split("\t") for l in open(path)]
head, rows = rows[0], rows[1:]
rows = [dict(zip(head, r)) for r in rows]
paths = ("nodelocal", "proxy")
label = {"nodelocal": "node-local (169.254.20.10)",
         "proxy": "proxy path (10.96.0.10 DNAT -> central)"}
print(f"node-local vs the service-proxy path, {services} services, {cores} cores shared by "
      f"both Cairns, dnsperf and the lab")
print(f"{'path':<10}{'round':>6}{'qps':>10}{'ct/dnsperf run':>16}{'fresh ct':>10}{'fresh lost':>11}")
for r in sorted(rows, key=lambda x: (x["path"] != "nodelocal", int(x["round"]))):
    print(f"{r['path']:<10}{r['round']:>6}{float(r['qps']):>10.0f}{r['dnsperf_ct']:>16}"
          f"{r['fresh_ct']:>10}{r['fresh_lost']:>11}")

def med(p, k):
    return statistics.median(float(r[k]) for r in rows if r["path"] == p)

qps = {p: med(p, "qps") for p in paths}
by = {(r["path"], r["round"]): float(r["qps"]) for r in rows}
rounds = sorted({r["round"] for r in rows}, key=int)
per_round = [by["nodelocal", r] / by["proxy", r] for r in rounds]
ratio = qps["nodelocal"] / qps["proxy"]

def pct(v, p):  # nearest rank
    return v[min(len(v), max(1, -(-len(v) * p // 100))) - 1]

def latencies(pattern):  # {round: sorted ms}
    got = {}
    for f in glob.glob(os.path.join(out, pattern)):
        got[f.rsplit("-", 1)[1].split(".")[0]] = sorted(float(x) * 1000 for x in open(f))
    return got

def summary(by_round):  # pooled p50, p99, n; per-round p99s
    pooled = sorted(x for v in by_round.values() for x in v)
    return (pct(pooled, 50), pct(pooled, 99), len(pooled),
            [pct(by_round[r], 99) for r in sorted(by_round, key=int)])

lat = {p: summary(latencies(f"latency-{p}-*.txt")) for p in paths}
flat = {p: summary(latencies(f"fresh-latency-{p}-*.txt")) for p in paths + ("nodelocal-clusterip",)}
per10k = {p: med(p, "fresh_ct") * 10000 / int(fresh) for p in paths}
cip10k = statistics.median(float(r["cip_ct"]) for r in rows if r["path"] == "nodelocal") \
    * 10000 / int(fresh)
dnsperf_ct = {p: med(p, "dnsperf_ct") for p in paths}
for p in paths:
    print(f"{p:<10}{'median':>6}{qps[p]:>10.0f}")
print(f"ratio nodelocal/proxy (medians): {ratio:.2f}; per round "
      + " ".join(f"{x:.2f}" for x in per_round) + f", median {statistics.median(per_round):.2f}")
print(f"latency, dnsperf at {paced} qps (its -v per-query latencies; established flows, far "
      f"below saturation; all rounds pooled):")
for p in paths:
    print(f"  {label[p]:<42} p50 {lat[p][0]:.3f} ms  p99 {lat[p][1]:.3f} ms  (n={lat[p][2]}; "
          f"p99 per round " + " ".join(f"{x:.3f}" for x in lat[p][3]) + ")")
print(f"latency, a new flow per query (the fresh-socket client, one query at a time, timed in "
      f"Python; all rounds pooled):")
for p, name in (("nodelocal", label["nodelocal"]),
                ("nodelocal-clusterip", "node-local (10.96.0.10 captured)"),
                ("proxy", label["proxy"])):
    f = flat[p]
    print(f"  {name:<42} p50 {f[0]:.3f} ms  p99 {f[1]:.3f} ms  (n={f[2]}; p99 per round "
          + " ".join(f"{x:.3f}" for x in f[3]) + ")")
print(f"conntrack entries created in the node per 10k queries (fresh source port per query, "
      f"median over rounds; entries in the table after a flush):")
print(f"  {label['nodelocal']:<42} {per10k['nodelocal']:.0f}")
print(f"  {'node-local (10.96.0.10 captured)':<42} {cip10k:.0f}")
print(f"  {label['proxy']:<42} {per10k['proxy']:.0f}")
print(f"  (a dnsperf run keeps its {dnsperf_ct['proxy']:.0f} sockets: {dnsperf_ct['proxy']:.0f} "
      f"entries per run on the proxy path, {dnsperf_ct['nodelocal']:.0f} via node-local)")

fields = [f"bench=node_local services={services} rounds={len(rounds)}",
          f"nodelocal_qps={qps['nodelocal']:.0f} proxy_qps={qps['proxy']:.0f}",
          f"ratio={ratio:.3f} round_ratio_median={statistics.median(per_round):.3f}",
          f"paced_qps={paced}",
          f"nodelocal_p50_ms={lat['nodelocal'][0]:.3f} nodelocal_p99_ms={lat['nodelocal'][1]:.3f}",
          f"proxy_p50_ms={lat['proxy'][0]:.3f} proxy_p99_ms={lat['proxy'][1]:.3f}",
          f"nodelocal_fresh_p50_ms={flat['nodelocal'][0]:.3f}",
          f"nodelocal_fresh_p99_ms={flat['nodelocal'][1]:.3f}",
          f"clusterip_fresh_p50_ms={flat['nodelocal-clusterip'][0]:.3f}",
          f"clusterip_fresh_p99_ms={flat['nodelocal-clusterip'][1]:.3f}",
          f"proxy_fresh_p50_ms={flat['proxy'][0]:.3f} proxy_fresh_p99_ms={flat['proxy'][1]:.3f}",
          f"fresh_queries={fresh} nodelocal_ct_per_10k={per10k['nodelocal']:.0f}",
          f"clusterip_ct_per_10k={cip10k:.0f} proxy_ct_per_10k={per10k['proxy']:.0f}",
          f"nodelocal_dnsperf_ct={dnsperf_ct['nodelocal']:.0f} proxy_dnsperf_ct={dnsperf_ct['proxy']:.0f}"]

rss = [l.rstrip("\n").split("\t") for l in open(rss_path)]
rss = {r[0]: r for r in rss[1:]}
if "nodelocal-rss" in rss:
    mib = lambda kib: int(kib) / 1024
    mb = lambda kib: int(kib) * 1024 / 1e6
    nl, ce = rss["nodelocal-rss"], rss.get("central-rss")
    print(f"memory, {rss_services} services x {per} endpoints from the API test server "
          f"(VmRSS / VmHWM, /proc/PID/status):")
    for name, r in (("node-local", nl), ("central (reference)", ce)):
        if r:
            print(f"  {name:<20} first answer {float(r[1]):.2f} s; at sync {mib(r[2]):.1f} MiB "
                  f"= {mb(r[2]):.1f} MB (HWM {mib(r[3]):.1f} MiB; anon {mib(r[4]):.1f}, file "
                  f"{mib(r[5]):.1f}); 2 s later {mib(r[6]):.1f} MiB = {mb(r[6]):.1f} MB "
                  f"(HWM {mib(r[7]):.1f} MiB)")
    print(f"  node-local goal 45 MB: {'met' if mb(nl[2]) <= 45 and mb(nl[6]) <= 45 else 'not met'}"
          + (f"; node-local/central {int(nl[2]) / int(ce[2]):.2f}" if ce else ""))
    fields += [f"rss_services={rss_services} rss_endpoints={int(rss_services) * int(per)}",
               f"rss_sync_s={float(nl[1]):.3f}",
               f"rss_sync_mib={mib(nl[2]):.1f} hwm_sync_mib={mib(nl[3]):.1f}",
               f"rss_settled_mib={mib(nl[6]):.1f} hwm_settled_mib={mib(nl[7]):.1f}"]
    if ce:
        fields += [f"central_rss_mib={mib(ce[2]):.1f} central_hwm_mib={mib(ce[3]):.1f}",
                   f"central_rss_settled_mib={mib(ce[6]):.1f}"]
fields += [f"load_start={load0} load_end={load1}"]
print("RESULT " + " ".join(fields))
EOF
log "raw output in $out"
