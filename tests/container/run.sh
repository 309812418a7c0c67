#!/usr/bin/env bash
# Builds kotae's Dockerfile with Podman and checks the image for real:
#
#   1. makes the two base images the Dockerfile names when they are missing
#      (no registry needed): debian:bookworm-slim from debootstrap, and the
#      Rust build image from that plus this machine's Rust toolchain;
#   2. `podman build --pull=never` of the project's own Dockerfile;
#   3. checks the image's metadata (non-root user, volumes, entrypoint,
#      healthcheck, environment), `kotae ask` in the container with the
#      baked-in fact base, a mounted /knowledge replacing it, and that
#      `serve` with no adapter exits with its clear error;
#   4. on the default (bridge) network with a published port and a
#      homeserver that cannot be reached: GET /healthz is 503 with a reason,
#      the HEALTHCHECK says unhealthy, /metrics still answers;
#   5. starts a real Synapse on the host (configured from
#      deploy/synapse/homeserver.yaml, the bot registered as
#      docker-compose.synapse.yml does it), runs `kotae serve` in the
#      container (non-root, read-only root filesystem, no capabilities, named
#      /state volume, environment file and a Docker-style secret file only,
#      --network host), waits until GET /healthz and the image's own
#      HEALTHCHECK say healthy, reads /metrics, asks the bot a question over
#      Matrix, checks the logs are JSON, stops it (SIGTERM, exit 0) and
#      restarts it on the same /state, then stops Synapse (503) and starts
#      it again (200).
#
# Everything it starts (containers and their volumes, Synapse, temp dirs) is
# removed on exit. It prints the image size, the build time and the times to
# healthy.
#
# Usage: tests/container/run.sh            (from anywhere; needs root Podman)
#        tests/container/run.sh bases      (only make the base images)
# Environment:
#   KOTAE_IMAGE          tag to build (default localhost/kotae:test)
#   KOTAE_NO_CACHE=1     build without the layer cache (a cold build)
#   KOTAE_SKIP_BUILD=1   test an image already built under KOTAE_IMAGE
#   KOTAE_SYNAPSE_VENV   Synapse virtualenv (default target/synapse-venv,
#                        created with pip on first use)
#   KOTAE_KEEP=1         leave the temp dir (logs, Synapse config) behind
#
# Podman on this kind of sandbox needs the runc runtime and default rlimits,
# and only host networking reaches the package registries; the flags below
# are harmless elsewhere.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/container"
IMAGE=${KOTAE_IMAGE:-localhost/kotae:test}
DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
RUN_ID="kotae-ctest-$$"
WORK=$(mktemp -d /tmp/kotae-container-test.XXXXXX)
CONTAINERS=()
VOLUMES=()
SYNAPSE_PID=

# Podman, without its complaints that it cannot schedule health checks
# through systemd (there is none here; the test runs them itself).
pm() { "${PODMAN[@]}" "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }

log() { printf '\n=== %s\n' "$*" >&2; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local rc=$?
    set +e
    for c in "${CONTAINERS[@]}"; do
        if [ "$rc" -ne 0 ] && pm container exists "$c" 2>/dev/null; then
            echo "--- logs of $c" >&2
            "${PODMAN[@]}" logs --tail 40 "$c" >&2 2>&1
        fi
        pm rm -f -v -t 2 "$c" >/dev/null 2>&1
    done
    for v in "${VOLUMES[@]}"; do pm volume rm -f "$v" >/dev/null 2>&1; done
    if [ -n "$SYNAPSE_PID" ]; then
        if [ "$rc" -ne 0 ]; then
            echo "--- Synapse log tail" >&2
            tail -n 20 "$WORK/synapse/homeserver.log" >&2 2>/dev/null
        fi
        kill "$SYNAPSE_PID" 2>/dev/null
        wait "$SYNAPSE_PID" 2>/dev/null
    fi
    if [ "${KOTAE_KEEP:-0}" = 1 ]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    if [ "$rc" -eq 0 ]; then echo "container test: PASS" >&2; else echo "container test: FAIL" >&2; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# GET a URL on the host; prints "STATUS BODY".
http_get() {
    python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception as e:
    print(0, e)
EOF
}

# The image the Dockerfile's build stage starts from, as Podman names it.
rust_image() {
    local name
    name=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$ROOT/Dockerfile")
    case "$name" in
        */*/*) ;;
        */*) name="docker.io/$name" ;;
        *) name="docker.io/library/$name" ;;
    esac
    echo "$name"
}

# ---------------------------------------------------------------- base images

ensure_debian_base() {
    if pm image exists "$DEBIAN_IMAGE"; then return; fi
    log "creating $DEBIAN_IMAGE with debootstrap"
    command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install debootstrap"
    local rootfs="$WORK/rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 ||
        { tail -n 20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
    # Slim it as the official -slim image is (docs, man pages, locales and apt
    # lists removed, and kept out of later installs) so image sizes compare.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
        "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
        "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/linda/* "$rootfs"/usr/share/groff/*
    find "$rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    tar -C "$rootfs" -c . | pm import \
        --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$DEBIAN_IMAGE" >/dev/null
    rm -rf "$rootfs"
}

ensure_rust_image() {
    local name toolchain rustup_home
    name=$(rust_image)
    if pm image exists "$name"; then return; fi
    log "creating $name from $DEBIAN_IMAGE and this machine's Rust toolchain"
    command -v rustup >/dev/null || fail "rustup is missing"
    local version
    version=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml")
    rustup_home=$(rustup show home)
    toolchain=$(readlink -f "$rustup_home/toolchains/$version.0-x86_64-unknown-linux-gnu" 2>/dev/null ||
        readlink -f "$rustup_home/toolchains/$version-x86_64-unknown-linux-gnu")
    [ -x "$toolchain/bin/cargo" ] || fail "no Rust $version toolchain under $rustup_home (rustup toolchain install $version)"
    local full
    full=$("$toolchain/bin/rustc" -V | awk '{ print $2 }')
    mkdir -p "$WORK/rust-context" "$WORK/extra-ca"
    # Extra CAs the host trusts (such as a TLS-intercepting proxy's), for
    # cargo's downloads during the image build.
    cp /usr/local/share/ca-certificates/*.crt "$WORK/extra-ca/" 2>/dev/null || true
    pm build --pull=never --network host "${LIMITS[@]}" \
        --build-arg "RUST_VERSION=$full" \
        -v "$toolchain:/mnt/toolchain:ro" \
        -v "$(readlink -f "$(command -v rustup)"):/mnt/rustup:ro" \
        -v "$WORK/extra-ca:/mnt/extra-ca:ro" \
        --format docker -f "$HERE/rust-image.Containerfile" -t "$name" "$WORK/rust-context" >"$WORK/rust-image.log" 2>&1 ||
        { tail -n 30 "$WORK/rust-image.log" >&2; fail "building $name failed"; }
}

# ---------------------------------------------------------------------- build

build_image() {
    # --format docker: Podman's default OCI format has no HEALTHCHECK.
    local args=(--pull=never --format docker --network host "${LIMITS[@]}" -f "$ROOT/Dockerfile" -t "$IMAGE")
    if [ "${KOTAE_NO_CACHE:-0}" = 1 ]; then args+=(--no-cache); fi
    log "podman build ${args[*]} $ROOT"
    local t0
    t0=$(now)
    pm build "${args[@]}" "$ROOT" >"$WORK/build.log" 2>&1 ||
        { tail -n 40 "$WORK/build.log" >&2; fail "podman build failed (log above)"; }
    BUILD_SECONDS=$(since "$t0")
    echo "built $IMAGE in ${BUILD_SECONDS}s" >&2
}

# --------------------------------------------------------------- image checks

inspect() { pm image inspect --format "$1" "$IMAGE"; }

# A one-shot container of the image (kotae ask, kotae check, ...); no health
# checks, which Podman would try to schedule through systemd.
once() { pm run --rm "${LIMITS[@]}" --no-healthcheck "$@"; }

check_metadata() {
    log "image metadata"
    local user entrypoint cmd volumes env health size
    user=$(inspect '{{.Config.User}}')
    entrypoint=$(inspect '{{json .Config.Entrypoint}}')
    cmd=$(inspect '{{json .Config.Cmd}}')
    volumes=$(inspect '{{json .Config.Volumes}}')
    env=$(inspect '{{json .Config.Env}}')
    health=$(inspect '{{json .Config.Healthcheck}}')
    size=$(inspect '{{.Size}}')
    echo "user=$user entrypoint=$entrypoint cmd=$cmd" >&2
    echo "volumes=$volumes" >&2
    echo "healthcheck=$health" >&2
    case "$user" in "" | root | 0 | 0:*) fail "the image runs as root ($user)" ;; esac
    [ "$entrypoint" = '["kotae"]' ] || fail "entrypoint is $entrypoint"
    [ "$cmd" = '["serve"]' ] || fail "cmd is $cmd"
    for v in /knowledge /state; do
        grep -q "\"$v\"" <<<"$volumes" || fail "$v is not a volume"
    done
    for e in KOTAE_KNOWLEDGE=/knowledge KOTAE_STATE_DIR=/state KOTAE_HTTP_LISTEN=0.0.0.0:9184 KOTAE_LOG_JSON=true; do
        grep -q "\"$e\"" <<<"$env" || fail "$e is not set in the image"
    done
    grep -q healthz <<<"$health" || grep -q healthcheck <<<"$health" || fail "no HEALTHCHECK"
    IMAGE_MB=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1000000 }')
    echo "image size: ${IMAGE_MB} MB" >&2
    # Whatever the user says, it must not be able to write the fact base.
    once --entrypoint sh "$IMAGE" -c \
        'id; test ! -w /knowledge/facts && test -w /state && ls /knowledge/facts | grep -q .' >&2 ||
        fail "the user can write /knowledge or cannot write /state, or /knowledge is empty"
}

check_ask() {
    log "kotae ask with the baked-in fact base"
    local out
    out=$(once "$IMAGE" ask "Who announced the closure of the Japan Centers?") ||
        fail "kotae ask failed: $out"
    echo "$out" >&2
    grep -q "Hayashi" <<<"$out" || fail "the answer does not name Hayashi"
    once "$IMAGE" check /knowledge >&2 || fail "kotae check /knowledge failed in the image"
}

check_mounted_knowledge() {
    log "a mounted /knowledge replaces the baked-in fact base"
    local dir="$WORK/knowledge" question out
    cp -r "$ROOT/knowledge" "$dir"
    cp "$HERE/extra-fact.toml" "$dir/facts/zz-container-test.toml"
    chmod -R a+rX "$dir"
    question=$(sed -n 's/^# ask: //p' "$HERE/extra-fact.toml")
    [ -n "$question" ] || fail "extra-fact.toml names no question"
    out=$(once -v "$dir:/knowledge:ro" "$IMAGE" check /knowledge 2>&1) ||
        fail "kotae check rejects the mounted knowledge: $out"
    out=$(once -v "$dir:/knowledge:ro" "$IMAGE" ask "$question") ||
        fail "kotae ask with the mounted knowledge failed: $out"
    echo "$out" >&2
    grep -q "container-test-marker" <<<"$out" || fail "the mounted fact base's extra fact was not used"
    out=$(once "$IMAGE" ask "$question") || true
    if grep -q "container-test-marker" <<<"$out"; then fail "the baked-in fact base knows the test fact"; fi
}

check_no_adapter() {
    log "serve with no adapter exits with a clear error"
    local out rc=0
    out=$(once "$IMAGE" 2>&1) || rc=$?
    echo "$out" >&2
    [ "$rc" -ne 0 ] || fail "serve with no adapter exited 0"
    grep -q "no chat adapter" <<<"$out" || fail "serve with no adapter did not say why"
}

# The image's own network setup (bridge network, published port, the
# default 0.0.0.0:9184) with a homeserver that cannot be reached: kotae keeps
# retrying, /healthz says 503 and why, and the HEALTHCHECK says unhealthy.
check_unreachable_homeserver() {
    log "/healthz is 503 with a reason while the homeserver is unreachable (bridge network, -p)"
    local port name="$RUN_ID-unreachable" t0 last=""
    port=$(free_port)
    pm run -d --name "$name" "${LIMITS[@]}" -p "127.0.0.1:$port:9184" \
        -e KOTAE_MATRIX_HOMESERVER=http://127.0.0.1:9 -e KOTAE_MATRIX_USER=kotae \
        -e KOTAE_MATRIX_PASSWORD=unused "$IMAGE" >/dev/null
    CONTAINERS+=("$name")
    t0=$(now)
    until [ "${last%% *}" = 503 ]; do
        [ "$(since "$t0" | cut -d. -f1)" -lt 30 ] || fail "no 503 from /healthz; last: $last"
        [ "$(pm inspect --format '{{.State.Running}}' "$name")" = true ] ||
            fail "kotae exited: $("${PODMAN[@]}" logs --tail 5 "$name" 2>&1)"
        sleep 0.2
        last=$(http_get "http://127.0.0.1:$port/healthz")
    done
    echo "$last" >&2
    grep -q '"reason":"not connected: matrix"' <<<"$last" || fail "the 503 does not say why"
    if pm healthcheck run "$name" >&2; then fail "the HEALTHCHECK says healthy on a 503"; fi
    local metrics
    metrics=$(http_get "http://127.0.0.1:$port/metrics")
    [ "${metrics%% *}" = 200 ] || fail "/metrics answers ${metrics%% *} while unhealthy"
    pm rm -f -v -t 2 "$name" >/dev/null
}

# -------------------------------------------------------------------- Synapse

synapse_python() {
    local venv=${KOTAE_SYNAPSE_VENV:-$ROOT/target/synapse-venv}
    if ! "$venv/bin/python" -c 'import synapse.app.homeserver' 2>/dev/null; then
        log "installing Synapse into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet matrix-synapse
    fi
    echo "$venv/bin/python"
}

start_synapse() {
    log "starting Synapse on the host (with deploy/synapse/homeserver.yaml)"
    local py dir="$WORK/synapse"
    py=$(synapse_python)
    SYNAPSE_PYTHON=$py
    SYNAPSE_PORT=$(free_port)
    mkdir -p "$dir"
    "$py" "$HERE/synapse_config.py" "$ROOT/deploy/synapse/homeserver.yaml" "$dir" "$SYNAPSE_PORT"
    # Synapse makes its signing key and registration secret on first start.
    spawn_synapse
    local register
    register="$(dirname "$py")/register_new_matrix_user"
    BOT_PASSWORD="bot-pw-$$"
    ALICE_PASSWORD="alice-pw-$$"
    mkdir -p "$WORK/secrets"
    printf '%s\n' "$BOT_PASSWORD" >"$WORK/secrets/matrix_password"
    chmod 0644 "$WORK/secrets/matrix_password"
    # As docker-compose.synapse.yml's register-bot does it (twice: an
    # existing account is fine).
    for _ in 1 2; do
        "$register" --config="$dir/homeserver.yaml" --no-admin --exists-ok --user=kotae \
            --password-file="$WORK/secrets/matrix_password" "http://127.0.0.1:$SYNAPSE_PORT" >&2
    done
    "$register" -c "$dir/homeserver.yaml" -u alice -p "$ALICE_PASSWORD" --no-admin "http://127.0.0.1:$SYNAPSE_PORT" >&2
}

# Starts (or restarts) Synapse in $WORK/synapse and waits until it answers.
spawn_synapse() {
    local dir="$WORK/synapse" t0
    (cd "$dir" && exec "$SYNAPSE_PYTHON" -m synapse.app.homeserver -c homeserver.yaml >>"$dir/stdout.log" 2>&1) &
    SYNAPSE_PID=$!
    t0=$(now)
    until [ "$(http_get "http://127.0.0.1:$SYNAPSE_PORT/_matrix/client/versions" | cut -d' ' -f1)" = 200 ]; do
        kill -0 "$SYNAPSE_PID" 2>/dev/null || { tail -n 30 "$dir/stdout.log" >&2; fail "Synapse exited"; }
        [ "$(since "$t0" | cut -d. -f1)" -lt 90 ] || fail "Synapse did not start in 90 s"
        sleep 0.3
    done
    echo "Synapse up on 127.0.0.1:$SYNAPSE_PORT in $(since "$t0")s" >&2
}

stop_synapse() {
    kill "$SYNAPSE_PID" 2>/dev/null || true
    wait "$SYNAPSE_PID" 2>/dev/null || true
    SYNAPSE_PID=
}

# ---------------------------------------------------------------------- serve

# Runs `kotae serve` the way docker-compose.yml does: named /state volume,
# read-only root, no capabilities, an environment file and a secret file.
run_serve() {
    local name=$1
    pm run -d --name "$name" "${LIMITS[@]}" \
        --network host \
        --read-only --tmpfs /tmp \
        --cap-drop ALL --security-opt no-new-privileges \
        -v "$STATE_VOLUME:/state" \
        -v "$WORK/secrets/matrix_password:/run/secrets/kotae_matrix_password:ro" \
        --env-file "$WORK/kotae.env" \
        "$IMAGE" >/dev/null
    CONTAINERS+=("$name")
}

# Waits until both GET /healthz from the host and the image's own HEALTHCHECK
# say healthy; prints the seconds it took from $1.
wait_healthy() {
    local t0=$1 name=$2 status="" last=""
    while :; do
        if [ "$(pm inspect --format '{{.State.Running}}' "$name")" != true ]; then
            fail "the container exited: $("${PODMAN[@]}" logs --tail 20 "$name" 2>&1)"
        fi
        last=$(http_get "http://127.0.0.1:$HTTP_PORT/healthz")
        status=${last%% *}
        if [ "$status" = 200 ]; then break; fi
        [ "$(since "$t0" | cut -d. -f1)" -lt 120 ] || fail "not healthy after 120 s; last /healthz: $last"
        sleep 0.2
    done
    local seconds
    seconds=$(since "$t0")
    # The HEALTHCHECK as the engine runs it (inside the container, as the
    # image's user); Podman without systemd timers runs it on request.
    pm healthcheck run "$name" >&2 || fail "the image's HEALTHCHECK says unhealthy although /healthz is 200"
    echo "$seconds"
}

check_serve() {
    log "kotae serve in the container against Synapse"
    HTTP_PORT=$(free_port)
    STATE_VOLUME="$RUN_ID-state"
    pm volume create "$STATE_VOLUME" >/dev/null
    VOLUMES+=("$STATE_VOLUME")
    # The listen port is moved off 9184 only because --network host shares
    # the host's ports with everything else running here.
    cat >"$WORK/kotae.env" <<EOF
KOTAE_MATRIX_HOMESERVER=http://127.0.0.1:$SYNAPSE_PORT
KOTAE_MATRIX_USER=@kotae:localhost
KOTAE_MATRIX_PASSWORD_FILE=/run/secrets/kotae_matrix_password
KOTAE_MATRIX_RATE_PER_MINUTE=0
KOTAE_HTTP_LISTEN=127.0.0.1:$HTTP_PORT
EOF
    local t0 name="$RUN_ID-serve"
    t0=$(now)
    run_serve "$name"
    HEALTHY_SECONDS=$(wait_healthy "$t0" "$name")
    echo "healthy ${HEALTHY_SECONDS}s after podman run (first start: login + first sync)" >&2
    http_get "http://127.0.0.1:$HTTP_PORT/healthz" >&2

    log "/metrics"
    local metrics
    metrics=$(http_get "http://127.0.0.1:$HTTP_PORT/metrics")
    [ "${metrics%% *}" = 200 ] || fail "/metrics: $(head -c 300 <<<"$metrics")"
    metrics=${metrics#* }
    grep -q '^# TYPE kotae_facts gauge' <<<"$metrics" || fail "/metrics is not Prometheus text: $(head -c 300 <<<"$metrics")"
    grep -q '^kotae_facts 23$\|^kotae_facts [0-9]' <<<"$metrics" || fail "/metrics has no kotae_facts"
    grep -o '^kotae_[a-z_]*' <<<"$metrics" | sort -u >&2 || true

    log "a question over Matrix"
    python3 "$HERE/matrix_ask.py" "http://127.0.0.1:$SYNAPSE_PORT" alice "$ALICE_PASSWORD" "@kotae:localhost" \
        "!ask Who announced the closure of the Japan Centers?" "Hayashi" >&2 ||
        fail "the bot in the container did not answer over Matrix"
    metrics=$(http_get "http://127.0.0.1:$HTTP_PORT/metrics")
    grep '^kotae_questions_total{' <<<"${metrics#* }" >&2 ||
        fail "/metrics does not count the question asked over Matrix"

    log "logs are JSON lines"
    local logs
    logs=$("${PODMAN[@]}" logs "$name" 2>&1)
    head -n 2 <<<"$logs" >&2
    python3 -c 'import json, sys; [json.loads(l) for l in sys.stdin if l.strip()]' <<<"$logs" ||
        fail "kotae's log has lines that are not JSON"

    log "stop (SIGTERM) and restart on the same /state"
    local t1
    t1=$(now)
    pm stop -t 15 "$name" >/dev/null
    STOP_SECONDS=$(since "$t1")
    local code
    code=$(pm inspect --format '{{.State.ExitCode}}' "$name")
    echo "stopped in ${STOP_SECONDS}s, exit code $code" >&2
    [ "$code" = 0 ] || fail "kotae serve exited $code on SIGTERM"
    once -v "$STATE_VOLUME:/state" --entrypoint sh "$IMAGE" -c 'ls -ln /state' >&2
    pm rm -v "$name" >/dev/null
    t1=$(now)
    run_serve "$name"
    RESTART_HEALTHY_SECONDS=$(wait_healthy "$t1" "$name")
    echo "healthy again ${RESTART_HEALTHY_SECONDS}s after the restart" >&2
    python3 "$HERE/matrix_ask.py" "http://127.0.0.1:$SYNAPSE_PORT" alice "$ALICE_PASSWORD" "@kotae:localhost" \
        "!ask 日本センターの閉鎖を発表したのは誰?" "林" >&2 ||
        fail "the restarted bot did not answer over Matrix"

    log "Synapse goes away and comes back: 503, then 200 again"
    stop_synapse
    t1=$(now)
    local last=""
    until [ "${last%% *}" = 503 ]; do
        [ "$(since "$t1" | cut -d. -f1)" -lt 90 ] || fail "/healthz still says ${last%% *} 90 s after Synapse died"
        sleep 0.5
        last=$(http_get "http://127.0.0.1:$HTTP_PORT/healthz")
    done
    DOWN_SECONDS=$(since "$t1")
    echo "503 ${DOWN_SECONDS}s after Synapse died: $last" >&2
    if pm healthcheck run "$name" >/dev/null; then fail "HEALTHCHECK healthy while disconnected"; fi
    spawn_synapse
    t1=$(now)
    wait_healthy "$t1" "$name" >/dev/null
    RECOVER_SECONDS=$(since "$t1")
    echo "healthy again ${RECOVER_SECONDS}s after Synapse came back" >&2
}

# ----------------------------------------------------------------------- main

# In a function, so bash has read all of it before it runs (editing the
# script during a long build cannot change what this run does).
main() {
    command -v podman >/dev/null || fail "podman is missing: apt-get install podman runc"
    ensure_debian_base
    ensure_rust_image
    if [ "${1:-}" = bases ]; then return 0; fi # only make the base images
    BUILD_SECONDS=skipped
    if [ "${KOTAE_SKIP_BUILD:-0}" != 1 ]; then build_image; fi
    check_metadata
    check_ask
    check_mounted_knowledge
    check_no_adapter
    check_unreachable_homeserver
    start_synapse
    check_serve

    log "figures"
    cat >&2 <<EOF
image:                   $IMAGE
image size:              ${IMAGE_MB} MB (uncompressed)
build time:              ${BUILD_SECONDS}s$([ "${KOTAE_NO_CACHE:-0}" = 1 ] && echo " (no cache)")
healthy after start:     ${HEALTHY_SECONDS}s (first start: login, first sync)
healthy after restart:   ${RESTART_HEALTHY_SECONDS}s (same /state volume)
stop on SIGTERM:         ${STOP_SECONDS}s
503 after Synapse died:  ${DOWN_SECONDS}s; 200 again ${RECOVER_SECONDS}s after it came back
EOF
}

main "$@"
