# kotae (答え) container image.
#
#   docker build -t kotae .
#   docker run -d --name kotae --env-file deploy/kotae.env -v kotae-state:/state -p 127.0.0.1:9184:9184 kotae
#
# The default fact base is baked in at /knowledge; mount a moderated copy
# over it (-v ./knowledge:/knowledge:ro) to answer from that instead. Sessions,
# the Matrix crypto store and other records live in the /state volume.
# Configuration is the environment (KOTAE_*, secrets as KOTAE_*_FILE) or a
# kotae.toml named by KOTAE_CONFIG. See README.md, "Docker".

# ---------------------------------------------------------------- build stage
# The toolchain of Cargo.toml's rust-version.
FROM rust:1.95-bookworm AS build

# Cargo features to build ("matrix discord" by default; "matrix" or
# "discord" alone make a smaller binary).
ARG KOTAE_FEATURES="matrix discord"
# A release binary without symbols: smaller image, same behaviour.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_TERM_COLOR=never

WORKDIR /src

# Dependencies first, in their own layer: the real manifest and lock file with
# stub sources, so editing src/ or knowledge/ reuses every compiled
# dependency. The bench and test stubs stay (Cargo.toml names those
# targets: the adapters' test files declare required-features).
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src benches tests \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > benches/matcher.rs \
 && echo 'fn main() {}' > benches/records.rs \
 && echo 'fn main() {}' > tests/discord_asking.rs \
 && echo 'fn main() {}' > tests/discord_connection.rs \
 && echo 'fn main() {}' > tests/discord_languages.rs \
 && echo 'fn main() {}' > tests/discord_moderation.rs \
 && echo 'fn main() {}' > tests/discord_refusals.rs \
 && echo 'fn main() {}' > tests/discord_serve.rs \
 && echo 'fn main() {}' > tests/matrix_asking.rs \
 && echo 'fn main() {}' > tests/matrix_crypto.rs \
 && echo 'fn main() {}' > tests/matrix_lifecycle.rs \
 && echo 'fn main() {}' > tests/matrix_moderation.rs \
 && echo 'fn main() {}' > tests/matrix_rooms.rs \
 && echo 'fn main() {}' > tests/serve.rs \
 && cargo build --release --locked --no-default-features --features "$KOTAE_FEATURES" \
 && rm -rf src target/release/.fingerprint/kotae-* target/release/deps/kotae-* target/release/deps/libkotae-*

# The project itself. knowledge/ must be here before compiling: the binary
# embeds it (include_dir!) as its built-in fact base.
COPY knowledge ./knowledge
COPY src ./src
RUN cargo build --release --locked --no-default-features --features "$KOTAE_FEATURES" \
 && install -m 0755 target/release/kotae /usr/local/bin/kotae \
 && kotae check knowledge

# -------------------------------------------------------------- runtime stage
FROM debian:bookworm-slim

# CA certificates for the TLS connections to Discord and Matrix homeservers.
# Not pinned to a version: Debian replaces ca-certificates in place with
# security updates, so a pinned version stops being installable.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid (10001), so host directories mounted at /state
# can be given to it: chown 10001:10001 DIR.
RUN groupadd --gid 10001 kotae \
 && useradd --no-log-init --uid 10001 --gid kotae \
      --home-dir /state --no-create-home --shell /usr/sbin/nologin kotae \
 && mkdir -p /state \
 && chown kotae:kotae /state

COPY --from=build /usr/local/bin/kotae /usr/local/bin/kotae
COPY --chmod=0755 deploy/healthcheck.sh /usr/local/bin/kotae-healthcheck
# The default fact base, the same files the binary embeds, owned by root and
# read-only for the bot.
COPY knowledge /knowledge

ENV KOTAE_KNOWLEDGE=/knowledge \
    KOTAE_STATE_DIR=/state \
    KOTAE_HTTP_LISTEN=0.0.0.0:9184 \
    KOTAE_LOG_JSON=true

VOLUME ["/knowledge", "/state"]
EXPOSE 9184
WORKDIR /state
USER 10001:10001

# Healthy when GET /healthz is 200: fact base loaded and every enabled adapter
# connected. The first start logs in and syncs, hence the start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["kotae-healthcheck"]

ENTRYPOINT ["kotae"]
CMD ["serve"]
