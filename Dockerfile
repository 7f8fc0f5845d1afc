# openclaw-bot, the cloud process, as a container image (issue 9). From the repository root:
#
#   docker build -t openclaw-bot .
#
# Three stages: `planner` reduces the workspace to its manifests with stub sources, so that
# `builder` compiles the dependencies in a layer that is rebuilt only when a Cargo.toml or
# Cargo.lock changes; then the real sources are compiled and only the binary and an empty
# data directory go into a small runtime image, run as a non-root user.
#
# The base images are build arguments: pin them by digest for a deploy
# (`--build-arg RUNTIME_IMAGE=gcr.io/distroless/base-nossl-debian12:nonroot@sha256:…`), and
# deploy/check.sh builds with local stand-ins because it cannot pull. The runtime needs
# glibc and libgcc_s and nothing else (SQLite is bundled, TLS is rustls with built-in roots):
# distroless `base-nossl` is glibc without OpenSSL, and libgcc_s comes from the builder, so
# the image carries no libssl, libstdc++ or libgomp (distroless `cc` would add ~9 MB of them).
# `debian:bookworm-slim` works as the runtime too, at more than twice the size.
ARG BUILDER_IMAGE=docker.io/library/rust:1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/base-nossl-debian12:nonroot

FROM ${BUILDER_IMAGE} AS planner
WORKDIR /src
COPY . .
# Every member's manifest, an empty crate root where the member has one, and the lock file.
# The fixed mtime keeps the stub tree byte-identical between builds, so the layers that
# copy it stay cached whatever else changed in the sources.
RUN set -eu; \
    find . -name Cargo.toml -not -path './target/*' | while read -r manifest; do \
        dir=$(dirname "$manifest"); \
        mkdir -p "/stub/$dir/src"; \
        cp "$manifest" "/stub/$dir/Cargo.toml"; \
        if [ -f "$dir/src/lib.rs" ]; then : > "/stub/$dir/src/lib.rs"; fi; \
        if [ -f "$dir/src/main.rs" ]; then echo 'fn main() {}' > "/stub/$dir/src/main.rs"; fi; \
    done; \
    cp Cargo.lock /stub/Cargo.lock; \
    find /stub -exec touch -h -d @0 {} +

FROM ${BUILDER_IMAGE} AS builder
WORKDIR /src
# No symbol table either (the release profile keeps it): a container has no debugger, and
# the binary is the larger part of the image.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
COPY --from=planner /stub/ ./
RUN cargo build --release --locked -p openclaw-bot
COPY . .
# The real sources must look newer than the stub build's outputs: a checkout's mtimes can
# be older, and cargo would then keep the stub binary.
RUN set -eu; \
    find . -name '*.rs' -not -path './target/*' -exec touch {} +; \
    cargo build --release --locked -p openclaw-bot; \
    install -D -m 0755 target/release/openclaw-bot /out/bin/openclaw-bot; \
    install -d -m 0700 /out/state/data; \
    libgcc=$(gcc -print-file-name=libgcc_s.so.1); \
    install -D -m 0644 "$libgcc" "/out/lib/$(gcc -print-multiarch)/libgcc_s.so.1"

FROM ${RUNTIME_IMAGE}
COPY --from=builder /out/bin/openclaw-bot /usr/local/bin/openclaw-bot
# Unwinding (a panic in one request must not take the bot down) needs libgcc_s; into the
# multiarch directory, which Debian's loader searches without an ld.so.cache.
COPY --from=builder /out/lib/ /usr/lib/
# The state (SQLite database, generated tokens) belongs to the bot's user alone, and a new
# named volume takes this owner and mode from the image. /data is copied as an entry of its
# parent, not as the copy's destination: engines give a destination directory default
# permissions (BuildKit applies --chmod to it only since 2025, buildah 1.28 never) but keep
# each copied entry's own mode. An existing destination, here /, is left as it is.
COPY --from=builder --chown=65532:65532 /out/state/ /
USER 65532:65532
ENV OPENCLAW_HTTP__BIND=0.0.0.0:3456 \
    OPENCLAW_STORAGE__DATA_DIR=/data
VOLUME /data
EXPOSE 3456
# No curl in the image: the bot asks its own /health (exit 0 on a 200 within 3 s, else 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/openclaw-bot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/openclaw-bot"]
