#!/usr/bin/env bash
# Cairn serving from the Kubernetes API at scale: propagation latency (change applied at the API
# test server -> new answer from Cairn) and Cairn's RSS, against CoreDNS's scaling-guide figure.
# Loopback only; installs nothing. Raw output goes to bench/out/api-<timestamp>/.
#
# Usage: bench/api.sh [--no-build] [api_bench flags: --services N --endpoints-per-service M
#                     --namespaces N --changes K --gap-ms MS --hostnames --no-small ...]
# bench/api.sh --help lists every api_bench flag (after building it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"

build=1
args=()
for a in "$@"; do
    case $a in
        --no-build) build=0 ;;
        *) args+=("$a") ;;
    esac
done

if [[ $build == 1 ]]; then
    cargo build --release --quiet --bin cairn --example api_bench
fi
bench=target/release/examples/api_bench
if [[ ! -x $bench || ! -x target/release/cairn ]]; then
    echo "api.sh: $bench or target/release/cairn missing; run without --no-build" >&2
    exit 1
fi
for a in "${args[@]}"; do
    if [[ $a == --help || $a == -h ]]; then exec "$bench" --help; fi
done

out="bench/out/api-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
    echo "api.sh: load average $load: the machine is not quiet; figures will be noisy" >&2
fi
"$bench" --cairn target/release/cairn --out "$out" "${args[@]}"
echo "raw output: $out"
