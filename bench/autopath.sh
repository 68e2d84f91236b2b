#!/usr/bin/env bash
# autopath: what `autopath @kubernetes` saves a pod's glibc resolver. A client network namespace
# (a pod at 10.244.0.5 of namespace `default`, the pod resolv.conf: `search
# default.svc.cluster.local svc.cluster.local cluster.local`, `options ndots:5`) runs `getent
# ahosts NAME` against Cairn in a second namespace (10.244.0.1), which forwards to a tiny
# upstream on that namespace's loopback (external names only, never the internet). For each
# name, with and without `autopath`: the queries reaching Cairn per lookup (its
# `coredns_dns_requests_total` before and after) and the client's time per lookup.
#
# Usage: sudo bench/autopath.sh [OUT_DIR]   (Linux, root; it changes network state only inside
# the two namespaces it creates, removed on exit). CAIRN=path/to/cairn to skip the build.
set -euo pipefail
bench_name=autopath
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

[[ $(id -u) -eq 0 ]] || die "run as root (it creates network namespaces)"
out=${1:-$(mktemp -d /tmp/cairn-autopath.XXXXXX)}
mkdir -p "$out"
work=$(mktemp -d /tmp/cairn-autopath-work.XXXXXX)
rounds=${ROUNDS:-20}
ns_pod=cairn-ap-pod-$$
ns_dns=cairn-ap-dns-$$
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do stop "$pid"; done
    ip netns del "$ns_pod" 2>/dev/null || true
    ip netns del "$ns_dns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns_pod" "$work"
}
trap cleanup EXIT

if [[ -z ${CAIRN:-} ]]; then
    build_cairn "$repo" "$out"
    CAIRN=${CARGO_TARGET_DIR:-$repo/target}/release/cairn
fi
[[ -x $CAIRN ]] || die "no cairn binary at $CAIRN"

# --- the lab: pod 10.244.0.5 <-> dns 10.244.0.1 -----------------------------------------------
ip netns add "$ns_pod"
ip netns add "$ns_dns"
ip -n "$ns_pod" link add eth0 type veth peer name eth0 netns "$ns_dns"
ip -n "$ns_pod" addr add 10.244.0.5/24 dev eth0
ip -n "$ns_dns" addr add 10.244.0.1/24 dev eth0
for ns in "$ns_pod" "$ns_dns"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
done
# `ip netns exec` mounts this over /etc/resolv.conf for the client only.
mkdir -p "/etc/netns/$ns_pod"
cat >"/etc/netns/$ns_pod/resolv.conf" <<'EOF'
search default.svc.cluster.local svc.cluster.local cluster.local
nameserver 10.244.0.1
options ndots:5
EOF
# No /etc/hosts lookups of the names asked: glibc reads the host's hosts file, which has none.

# --- the upstream: A 192.0.2.1 for the external names, NODATA for AAAA, NXDOMAIN otherwise ----
cat >"$work/upstream.py" <<'EOF'
import socket, struct
KNOWN = {b"example.org", b"www.example.com", b"api.github.test"}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5301))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 17:
        continue
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].lower()); i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    name = b".".join(labels)
    flags, an, rr = 0x8180, 0, b""
    if name not in KNOWN:
        flags |= 3
    elif qtype == 1:
        an, rr = 1, b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 1])
    head = q[:2] + struct.pack("!HHHHH", flags | (q[2] & 1) << 8, 1, an, 0, 0)
    s.sendto(head + question + rr, peer)
EOF
ip netns exec "$ns_dns" python3 "$work/upstream.py" &
pids+=($!)

# --- the cluster: namespace default, the kubernetes Service, the client pod -------------------
cat >"$work/cluster.yaml" <<'EOF'
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: default}}
  - apiVersion: v1
    kind: Service
    metadata: {name: kubernetes, namespace: default}
    spec: {type: ClusterIP, clusterIP: 10.96.0.1, clusterIPs: [10.96.0.1], ports: [{name: https, port: 443, protocol: TCP}]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: client, namespace: default}
    status: {phase: Running, podIP: 10.244.0.5, podIPs: [{ip: 10.244.0.5}]}
EOF

# corefile AUTOPATH_LINE: Cairn as a cluster runs it.
corefile() {
    cat <<EOF
.:53 {
    bind 10.244.0.1
    prometheus 10.244.0.1:9153
    cache 30
    $1
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods verified
    }
    forward . 127.0.0.1:5301
}
EOF
}

requests() {
    ip netns exec "$ns_pod" curl -s http://10.244.0.1:9153/metrics |
        awk '/^coredns_dns_requests_total/ { s += $NF } END { print s + 0 }'
}

names=(example.org www.example.com kubernetes.default kubernetes)
declare -A per_lookup ms
for mode in off on; do
    line=""
    [[ $mode == on ]] && line="autopath @kubernetes"
    corefile "$line" >"$work/Corefile.$mode"
    cp "$work/Corefile.$mode" "$out/"
    ip netns exec "$ns_dns" env RUST_LOG=warn "$CAIRN" serve --corefile "$work/Corefile.$mode" \
        --from "$work/cluster.yaml" >"$out/cairn.$mode.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    # Up once both a cluster name and (through forward and the upstream) an external one resolve.
    for ((i = 0; i < 100; i++)); do
        ip netns exec "$ns_pod" getent ahosts kubernetes.default.svc.cluster.local >/dev/null &&
            ip netns exec "$ns_pod" getent ahosts example.org. >/dev/null && break
        kill -0 "$pid" 2>/dev/null || die "cairn exited: $(tail -3 "$out/cairn.$mode.log")"
        sleep 0.1
    done
    for name in "${names[@]}"; do
        ip netns exec "$ns_pod" getent ahosts "$name" >/dev/null ||
            die "$name does not resolve (autopath $mode)"
        before=$(requests)
        start=$(date +%s%N)
        for ((r = 0; r < rounds; r++)); do
            ip netns exec "$ns_pod" getent ahosts "$name" >/dev/null
        done
        end=$(date +%s%N)
        after=$(requests)
        per_lookup[$mode,$name]=$(awk -v a="$after" -v b="$before" -v n="$rounds" 'BEGIN { printf "%.1f", (a - b) / n }')
        ms[$mode,$name]=$(awk -v e="$end" -v s="$start" -v n="$rounds" 'BEGIN { printf "%.2f", (e - s) / n / 1e6 }')
    done
    stop "$pid"
done

{
    echo "| name (getent ahosts, pod in default, ndots:5) | queries/lookup without | with autopath | ratio | ms/lookup without | with | ratio |"
    echo "|---|---|---|---|---|---|---|"
    for name in "${names[@]}"; do
        awk -v n="$name" -v qa="${per_lookup[off,$name]}" -v qb="${per_lookup[on,$name]}" \
            -v ta="${ms[off,$name]}" -v tb="${ms[on,$name]}" \
            'BEGIN { printf "| %s | %s | %s | %.2f | %s | %s | %.2f |\n", n, qa, qb, qb / qa, ta, tb, tb / ta }'
    done
    echo
    echo "Times include starting getent in the namespace (cache 30 before autopath: repeated lookups are cache hits)."
} | tee "$out/table.md"
# One line for bench/all.sh: the external name, the figure the goal is about.
echo "RESULT bench=autopath name=example.org rounds=$rounds queries_without=${per_lookup[off,example.org]} queries_with=${per_lookup[on,example.org]} ms_without=${ms[off,example.org]} ms_with=${ms[on,example.org]}"
