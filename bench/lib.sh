# Shared helpers of the bench scripts; source it after setting `bench_name`.
# shellcheck shell=bash

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

# build_cairn REPO OUT: the release build, its output kept in OUT/build.log.
build_cairn() {
    log "building Cairn (release)"
    (cd "$1" && cargo build --release --quiet) 2>&1 | tee "$2/build.log" >&2
    [[ ${PIPESTATUS[0]} -eq 0 ]] || die "cargo build failed"
}
