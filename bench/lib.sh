# Shared helpers of the bench scripts; source it after setting `bench_name`.
# shellcheck shell=bash
# Globals set by the sourcing script: bench_name; out, duration and perf_args for dnsperf_round.
# shellcheck disable=SC2154

log() { printf '[%s] %s\n' "$bench_name" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# install_tools CMD=PACKAGE...: installs the Debian packages of the commands that are missing
# (needs root; `apt-get update` only when the first install fails).
install_tools() {
    local pair missing=()
    export PATH=$PATH:/usr/sbin:/sbin
    for pair in "$@"; do
        command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
    done
    [[ ${#missing[@]} -gt 0 ]] || return 0
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    [[ $(id -u) -eq 0 ]] || die "missing packages ${missing[*]}: run as root or install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    fi
}

# stop PID: TERM, wait up to 5 s, then KILL.
stop() {
    local pid=$1 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# port_free PORT: nothing listens on it (UDP or TCP).
port_free() { ! ss -Hlnu "sport = :$1" | grep -q . && ! ss -Hlnt "sport = :$1" | grep -q .; }

# warn_if_loaded: other work on the machine skews the rounds it overlaps; say so up front.
warn_if_loaded() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
        log "warning: load average is $load before starting; other processes will add noise"
    fi
}

# build_cairn REPO OUT [CARGO ARGS...]: the release build of Cairn's binary and whatever else the
# arguments name (`--example ceiling`), its output kept in OUT/build.log.
build_cairn() {
    local repo=$1 out=$2
    shift 2
    local args=(--bin cairn "$@")
    log "building (release): cargo build ${args[*]}"
    (cd "$repo" && cargo build --release --quiet "${args[@]}") 2>&1 | tee "$out/build.log" >&2
    [[ ${PIPESTATUS[0]} -eq 0 ]] || die "cargo build failed"
}

# wait_for_answer PORT PID NAME QNAME QTYPE PATTERN: until `dig` on 127.0.0.1:PORT gets an answer
# to QNAME QTYPE matching PATTERN (grep -E on `+short`), up to 30 s; dies if process PID exits.
wait_for_answer() { wait_for_answer_at "" 127.0.0.1 "$@"; }

# wait_for_answer_at NETNS SERVER PORT PID NAME QNAME QTYPE PATTERN: wait_for_answer against
# SERVER:PORT, with `dig` run inside the network namespace NETNS (empty: this one).
wait_for_answer_at() {
    local netns=$1 server=$2 port=$3 pid=$4 name=$5 qname=$6 qtype=$7 pattern=$8 i
    local in=() where="$server:$port"
    [[ -z $netns ]] || { in=(ip netns exec "$netns"); where+=" (netns $netns)"; }
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during startup (see ${out:-.}/$name.log)"
        if "${in[@]}" dig +time=1 +tries=1 -p "$port" "@$server" "$qname" "$qtype" +short 2>/dev/null \
            | grep -Eq "$pattern"; then
            return 0
        fi
        sleep 0.1
    done
    die "$name did not answer $qname $qtype on $where within 30 s (see ${out:-.}/$name.log)"
}

# dnsperf_round NAME PORT ROUND: one dnsperf run of `perf_args` (global) against 127.0.0.1:PORT,
# its report kept in $out/dnsperf-NAME-ROUND.txt; logs the rate, the losses and the load
# average before the run; prints the queries per second.
dnsperf_round() { dnsperf_round_at "" 127.0.0.1 "$@"; }

# dnsperf_round_at NETNS SERVER NAME PORT ROUND: dnsperf_round against SERVER:PORT, with
# dnsperf run inside the network namespace NETNS (empty: this one).
dnsperf_round_at() {
    local netns=$1 server=$2 name=$3 port=$4 round=$5 file qps lost load in=()
    [[ -z $netns ]] || in=(ip netns exec "$netns")
    load=$(cut -d' ' -f1 /proc/loadavg)
    file="$out/dnsperf-$name-$round.txt"
    timeout $((duration + 30)) "${in[@]}" dnsperf -s "$server" -p "$port" "${perf_args[@]}" \
        >"$file" 2>&1 || die "dnsperf against $name failed (see $file)"
    qps=$(awk '/Queries per second:/ { print $4 }' "$file")
    [[ -n $qps ]] || die "no 'Queries per second' in $file"
    lost=$(awk '/Queries lost:/ { print $3 }' "$file")
    log "round $round $name: $qps qps (lost $lost; 1-min load average before: $load)"
    echo "$qps"
}

# load_average: the 1-minute load average now (for the RESULT lines).
load_average() { cut -d' ' -f1 /proc/loadavg; }
