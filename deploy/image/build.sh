#!/usr/bin/env bash
# Builds Cairn's container image: a static `cairn` binary, then the image's root filesystem
# (exactly what the Dockerfile's runtime stage holds), then an image with docker, podman or
# buildah when one of them works here, else a `docker import`-able tarball of that filesystem.
#
#   deploy/image/build.sh [--out DIR] [--no-image] [--binary PATH] [--tag NAME]
#
#   --out DIR      where the root filesystem (DIR/rootfs) and its tarball (DIR/cairn-rootfs.tar)
#                  go; default target/image. Both are rebuilt from scratch on every run.
#   --no-image     stop after the tarball: do not look for docker, podman or buildah.
#   --binary PATH  put this binary in the image instead of building one. A binary that is not
#                  static (such as `cargo test`'s debug build) gets the shared libraries `ldd`
#                  lists copied in beside it, with a warning: for tests only, never for release.
#   --tag NAME     the image name; default cairn:VERSION-COMMIT (from `cairn --version`).
#
# The static binary is built for musl (x86_64/aarch64-unknown-linux-musl). The `ring` crate has
# C and assembly; without musl-gcc the host's gcc compiles it, with _FORTIFY_SOURCE off (the
# checked libc functions it would call do not exist in musl). When the musl target cannot be
# installed, the gnu target is linked statically (+crt-static) instead. Either way the result is
# checked to be static.
#
# The root filesystem:
#   /cairn                               the binary (mode 0755, debug info stripped)
#   /etc/ssl/certs/ca-certificates.crt   this machine's CA bundle
#   /etc/passwd, /etc/group              root, nobody and nonroot (65532), as in distroless
# all owned by root; the image runs as 65532:65532, so it can write nowhere in it.

set -euo pipefail

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$repo/target/image"
make_image=1
binary=""
tag=""

while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || die "--out needs a directory"; out="$2"; shift 2 ;;
        --no-image) make_image=0; shift ;;
        --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary="$2"; shift 2 ;;
        --tag) [ $# -ge 2 ] || die "--tag needs a name"; tag="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done

mkdir -p "$out"
out="$(cd "$out" && pwd)"

# True when the ELF file $1 needs no dynamic loader.
is_static() {
    if command -v file >/dev/null 2>&1; then
        case "$(file -L "$1")" in
            *"statically linked"* | *"static-pie linked"*) return 0 ;;
            *"dynamically linked"*) return 1 ;;
        esac
    fi
    # glibc's ldd: "not a dynamic executable" or "statically linked" for static ones.
    case "$(ldd "$1" 2>&1 || true)" in
        *"=>"*) return 1 ;;
        *) return 0 ;;
    esac
}

# ---- 1. the binary ---------------------------------------------------------------------------

build_static() {
    local arch musl gnu
    arch="$(uname -m)"
    case "$arch" in
        x86_64 | aarch64) ;;
        *) die "no static build recipe for $arch: pass --binary" ;;
    esac
    musl="$arch-unknown-linux-musl"
    gnu="$arch-unknown-linux-gnu"
    cd "$repo"
    if rustup target list --installed 2>/dev/null | grep -qx "$musl" \
        || { say "installing the Rust target $musl"; rustup target add "$musl" >&2; }; then
        local cc_var="CC_${musl//-/_}" cflags_var="CFLAGS_${musl//-/_}" cc
        cc="${!cc_var:-}"
        if [ -z "$cc" ]; then
            if command -v "$arch-linux-musl-gcc" >/dev/null 2>&1; then cc="$arch-linux-musl-gcc"
            elif command -v musl-gcc >/dev/null 2>&1; then cc="musl-gcc"
            else cc=gcc; say "no musl-gcc: compiling ring's C and assembly with the host's gcc"
            fi
        fi
        say "building cairn for $musl (CC=$cc)"
        # _FORTIFY_SOURCE would make glibc's headers call __*_chk functions musl lacks.
        env "$cc_var=$cc" "$cflags_var=${!cflags_var:--U_FORTIFY_SOURCE}" \
            cargo build --release --locked -p cairn --bin cairn --target "$musl" >&2
        built="$repo/target/$musl/release/cairn"
    else
        say "the musl target is not available: linking the $gnu target statically instead"
        RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
            cargo build --release --locked -p cairn --bin cairn --target "$gnu" >&2
        built="$repo/target/$gnu/release/cairn"
    fi
    is_static "$built" || die "$built is not static: $(file -L "$built" 2>/dev/null || ldd "$built")"
}

built=""
if [ -n "$binary" ]; then
    if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
        die "--binary $binary: not an executable file"
    fi
    built="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
else
    build_static
fi
static=1
is_static "$built" || static=0

# ---- 2. the root filesystem ------------------------------------------------------------------

rootfs="$out/rootfs"
tarball="$out/cairn-rootfs.tar"
ca=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca" ] || die "no CA bundle at $ca (install ca-certificates)"

rm -rf "$rootfs" "$tarball"
mkdir -p "$rootfs/etc/ssl/certs"
if [ "$static" = 1 ] && [ -z "$binary" ] && command -v strip >/dev/null 2>&1; then
    # Function names stay (for panics' backtraces); line tables and debug info go.
    strip --strip-debug -o "$rootfs/cairn" "$built"
else
    cp "$built" "$rootfs/cairn"
fi
chmod 0755 "$rootfs/cairn"
cp "$ca" "$rootfs/etc/ssl/certs/ca-certificates.crt"
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/ssl/certs/ca-certificates.crt"

if [ "$static" = 0 ]; then
    say "WARNING: $built is dynamically linked: copying the shared libraries it needs into"
    say "WARNING: the root filesystem. Fine for a test; a release image must use a static binary."
    # `ldd` lines: `name => /path (addr)`, or `/path (addr)` for the loader.
    ldd "$built" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
        while read -r lib; do
            mkdir -p "$rootfs$(dirname "$lib")"
            cp -L "$lib" "$rootfs$lib"
        done
fi

# Deterministic: sorted, owned by root, one timestamp (the commit's when known).
mtime="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}"
find "$rootfs" -type d -exec chmod 0755 {} +
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime="@$mtime" \
    -C "$rootfs" -cf "$tarball" .

version="$("$rootfs/cairn" --version 2>/dev/null || true)"

# ---- 3. the image ----------------------------------------------------------------------------

# What the Dockerfile says about running the image.
changes=(
    'USER 65532:65532'
    'ENTRYPOINT ["/cairn"]'
    'CMD ["serve", "--corefile", "/etc/coredns/Corefile"]'
    'EXPOSE 53/udp'
    'EXPOSE 53/tcp'
    'EXPOSE 8080/tcp'
    'EXPOSE 8181/tcp'
    'EXPOSE 9153/tcp'
)
if [ -z "$tag" ]; then
    # `cairn 0.1.0 (commit abc1234, ...)` -> cairn:0.1.0-abc1234
    tag="$(printf '%s\n' "$version" | sed -n 's/^cairn \([^ ]*\) (commit \([^,)]*\).*/cairn:\1-\2/p')"
    tag="${tag:-cairn:dev}"
fi

image_tool=""
if [ "$make_image" = 1 ]; then
    for tool in docker podman buildah; do
        command -v "$tool" >/dev/null 2>&1 || continue
        if "$tool" info >/dev/null 2>&1; then image_tool="$tool"; break; fi
        say "$tool is installed but does not work here ($tool info failed)"
    done
fi

image_size=""
case "$image_tool" in
    docker | podman)
        args=()
        for c in "${changes[@]}"; do args+=(--change "$c"); done
        "$image_tool" import "${args[@]}" "$tarball" "$tag" >/dev/null
        image_size="$("$image_tool" image inspect --format '{{.Size}}' "$tag")"
        ;;
    buildah)
        ctr="$(buildah from scratch)"
        buildah add "$ctr" "$tarball" / >/dev/null
        buildah config --user 65532:65532 --entrypoint '["/cairn"]' \
            --cmd 'serve --corefile /etc/coredns/Corefile' \
            --port 53/udp --port 53/tcp --port 8080 --port 8181 --port 9153 "$ctr"
        buildah commit "$ctr" "$tag" >/dev/null
        buildah rm "$ctr" >/dev/null
        image_size="$(buildah inspect --type image --format '{{.Size}}' "$tag" 2>/dev/null || true)"
        ;;
esac

# ---- 4. report -------------------------------------------------------------------------------

echo "binary:  $built ($([ "$static" = 1 ] && echo static || echo "DYNAMIC, shared libraries copied in"))"
[ -n "$version" ] && echo "version: $version"
echo "rootfs:  $rootfs ($(du -sb "$rootfs" | cut -f1) bytes)"
echo "tarball: $tarball ($(stat -c %s "$tarball") bytes)"
echo "contents:"
(cd "$rootfs" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
    printf '  %s %10s  /%s\n' "$(stat -c %A "$p")" "$(stat -c %s "$p")" "${p#./}"
done)
if [ -n "$image_tool" ]; then
    echo "image:   $tag (built with $image_tool, ${image_size:-?} bytes)"
elif [ "$make_image" = 1 ]; then
    echo "image:   not built: no working docker, podman or buildah here. Import the tarball elsewhere:"
    printf '  docker import'
    for c in "${changes[@]}"; do printf " \\\\\n    --change '%s'" "$c"; done
    printf ' \\\n    %s %s\n' "$tarball" "$tag"
else
    echo "image:   not built (--no-image)"
fi
