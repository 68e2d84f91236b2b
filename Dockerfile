# syntax=docker/dockerfile:1
# Cairn's container image: one static binary, the CA bundle, the user database, nothing else.
# The build stage runs deploy/image/build.sh, so this image holds exactly the root filesystem that
# script assembles (and `cargo test --test image` checks). See deploy/image/README.md.
#
#   docker build \
#     --build-arg CAIRN_REVISION="$(git rev-parse --short HEAD)" \
#     --build-arg CAIRN_COMMIT_DATE="$(git log -1 --format=%cs)" \
#     -t cairn .

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
# musl-gcc compiles ring's C and assembly for the static musl binary; `file` checks it is static.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools file ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# .git is not in the build context: the commit `cairn --version` shows comes from these.
ARG CAIRN_REVISION=
ARG CAIRN_COMMIT_DATE=
ARG SOURCE_DATE_EPOCH=0
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    CAIRN_REVISION="${CAIRN_REVISION}" CAIRN_COMMIT_DATE="${CAIRN_COMMIT_DATE}" \
    SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH}" \
    deploy/image/build.sh --no-image --out /out

FROM scratch
COPY --from=build /out/rootfs/ /
USER 65532:65532
EXPOSE 53/udp 53/tcp 8080 8181 9153
ENTRYPOINT ["/cairn"]
CMD ["serve", "--corefile", "/etc/coredns/Corefile"]
