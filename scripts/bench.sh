#!/usr/bin/env bash
# Load benchmarks of Passerelle, on loopback only (`make bench`).
#
# Builds the release binaries, then for each backend starts local gateways
# (temp data dirs, killed on exit) and runs passerelle-loadgen:
#   sqlite    one node on the embedded default;
#   postgres  two nodes on a fresh database + a random Redis namespace, one
#             shared signing key, sessions alternating over both nodes (so a
#             user's two devices sit on different nodes: cross-node fan-out).
# Scenarios per backend: a rate ladder (fan-out to 2 recipient devices + 1
# own device; with BENCH_PER_DEVICE=1 each rate runs twice, plain and with
# `--per-device`: one deviceEntries entry per addressed device, each
# delivery checked for its own entry), a group of BENCH_GROUP members (one device each, every
# member online, each message to the whole group), presence (one user with
# BENCH_PRESENCE watchers online changes state; time until the last watcher
# hears it, Redis/Postgres operations per change), typing (BENCH_TYPING
# users sending `typing started` in direct conversations or groups),
# handshakes, idle sessions (gateway RSS per session, on restarted gateways).
# Results: target/bench/<scenario>.json and .txt, plus a summary table.
#
# Knobs (environment): BENCH_BACKENDS ("sqlite postgres"), BENCH_RATES
# ("1000 2000 5000"), BENCH_DURATION (20), BENCH_WARMUP (2), BENCH_USERS
# (100), BENCH_DEVICES (2 devices per user in the rate ladder; other than
# 2, the labels say `-devN`), BENCH_PER_DEVICE (0; 1 adds a
# `<backend>-rate<R>[-devN]-perdevice` run after each plain rate run, the
# same traffic with deviceEntries), BENCH_IDLE (2000), BENCH_HANDSHAKES (2000), BENCH_BUILD (1),
# BENCH_PG_NODES (2: gateway nodes on Postgres + Redis), BENCH_GROUP (1000
# members; 0 skips), BENCH_GROUP_RATES ("20 50 100" messages/s),
# BENCH_PRESENCE (5000 watchers; 0 skips), BENCH_PRESENCE_ROUNDS (20, of
# four changes each), BENCH_TYPING (1000 users; 0 skips),
# BENCH_TYPING_GROUPS ("2 10": members per conversation, 2 = direct),
# BENCH_TYPING_INTERVALS ("3000 1200": ms between a user's frames),
# BENCH_TYPING_DURATION (BENCH_DURATION), BENCH_PG_URL, BENCH_REDIS_URL,
# BENCH_PORT (first port).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
RATES=${BENCH_RATES:-"1000 2000 5000"}
DURATION=${BENCH_DURATION:-20}
WARMUP=${BENCH_WARMUP:-2}
USERS=${BENCH_USERS:-100}
DEVICES=${BENCH_DEVICES:-2}
PER_DEVICE=${BENCH_PER_DEVICE:-0}
IDLE=${BENCH_IDLE:-2000}
PG_NODES=${BENCH_PG_NODES:-2}
HANDSHAKES=${BENCH_HANDSHAKES:-2000}
GROUP=${BENCH_GROUP:-1000}
GROUP_RATES=${BENCH_GROUP_RATES:-"20 50 100"}
PRESENCE=${BENCH_PRESENCE:-5000}
PRESENCE_ROUNDS=${BENCH_PRESENCE_ROUNDS:-20}
TYPING=${BENCH_TYPING:-1000}
TYPING_GROUPS=${BENCH_TYPING_GROUPS:-"2 10"}
TYPING_INTERVALS=${BENCH_TYPING_INTERVALS:-"3000 1200"}
TYPING_DURATION=${BENCH_TYPING_DURATION:-$DURATION}
# The gateways' offline grace, as they were given it (the presence report
# shows it next to the offline latency, which includes it).
GRACE_MS=${PASSERELLE__PRESENCE__OFFLINE_GRACE_MS:-5000}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
PORT=${BENCH_PORT:-$((18100 + RANDOM % 800))}
BIN=$ROOT/target/release
OUT=$ROOT/target/bench
SOURCES=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9
# Most sessions per loadgen process (each may open at most 20,000 files).
PER_PROCESS=15000

WORK=$(mktemp -d /tmp/passerelle-bench.XXXXXX)
GATEWAYS=()
URLS=""
PG_ENV=()
DB=""
NS=""
FAILED=0

stop_gateways() {
    for p in "${GATEWAYS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${GATEWAYS[@]}"; do wait "$p" 2>/dev/null || true; done
    GATEWAYS=()
}

cleanup() {
    stop_gateways
    if [ -n "$DB" ]; then
        psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
        DB=""
    fi
    if [ -n "$NS" ]; then
        redis-cli -u "$REDIS_URL" --scan --pattern "$NS:*" |
            xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
        NS=""
    fi
}
trap 'cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# Settings for benchmarks: no registration/login throttles, no frame rate
# limit, and light argon2 so that setup takes seconds, not minutes. The
# lookup limit (contact adds) is raised for the presence setup, where each
# watcher adds the star once.
GW_ENV=(
    PASSERELLE__LOG__FILTER=warn
    PASSERELLE__BLOBS__BIND=127.0.0.1:0
    PASSERELLE__LIMITS__LOOKUP_PER_MINUTE=100000
    PASSERELLE__LIMITS__REGISTER_PER_ADDRESS=0
    PASSERELLE__LIMITS__LOGIN_PER_ADDRESS=0
    PASSERELLE__LIMITS__LOGIN_PER_USERNAME=0
    PASSERELLE__WS__FRAMES_PER_SEC=100000
    PASSERELLE__WS__FRAME_BURST=100000
    PASSERELLE__AUTH__ARGON2__MEMORY_KIB=1024
    PASSERELLE__AUTH__ARGON2__ITERATIONS=1
)

# start_gateway NAME PORT [ENV...]: starts a node (data kept in
# $WORK/NAME across restarts) and waits for /healthz.
start_gateway() {
    local name=$1 port=$2
    shift 2
    local dir=$WORK/$name
    mkdir -p "$dir"
    env "${GW_ENV[@]}" PASSERELLE__DATA_DIR="$dir" \
        PASSERELLE__SERVER__BIND="127.0.0.1:$port" "$@" \
        "$BIN/passerelle" serve >"$dir/log" 2>&1 &
    local pid=$!
    GATEWAYS+=("$pid")
    for _ in $(seq 1 120); do
        if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.25
    done
    echo "gateway $name did not start; its log:" >&2
    cat "$dir/log" >&2
    return 1
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Sets ACCOUNT: the processes whose CPU and RSS the loadgen reports. The
# Postgres backends are looked up before each run (pools may grow).
account() {
    ACCOUNT=()
    for g in "${GATEWAYS[@]}"; do ACCOUNT+=(--server-pid "gateway$((${#ACCOUNT[@]} / 2 + 1))=$g"); done
    [ -n "$DB" ] || return 0
    local pg redis
    pg=$(psql "$PG_URL" -qAtc "select string_agg(pid::text, '+') from pg_stat_activity
        where datname = '$DB' or backend_type in ('walwriter', 'checkpointer', 'background writer')" || true)
    redis=$(redis-cli -u "$REDIS_URL" info server | awk -F: '/^process_id/ {print $2}' | tr -d '\r' || true)
    # Only when the server processes are on this machine.
    if [ -n "$pg" ] && [ -d "/proc/${pg%%+*}" ]; then ACCOUNT+=(--server-pid "postgres=$pg"); fi
    if [ -n "$redis" ] && [ -d "/proc/$redis" ]; then ACCOUNT+=(--server-pid "redis=$redis"); fi
}

# lg SCENARIO ARGS...: one loadgen run, report in $OUT/SCENARIO.{json,txt}.
lg() {
    local name=$1
    shift
    echo "---- $name"
    account
    if ! "$BIN/passerelle-loadgen" run --label "$name" --json "$OUT/$name.json" \
        --source-addrs "$SOURCES" "${ACCOUNT[@]}" "$@" 2>&1 | tee "$OUT/$name.txt"; then
        echo "!!!! $name: failed or unhealthy (see $OUT/$name.txt)"
        FAILED=1
    fi
}

# Idle sessions: accounts are registered first, then the gateways restart
# (registration's own memory would otherwise hide the sessions'), then the
# sessions open; RSS is compared before and after. More sessions than one
# process may hold are split over several loadgen processes at once, and the
# RSS is then measured here.
idle() { # BACKEND LAUNCHER
    local b=$1 launch=$2 name="$1-idle$IDLE" tokens=$WORK/idle.tokens p
    "$BIN/passerelle-loadgen" run --url "$URLS" --users 0 --rate 0 --duration 0 \
        --idle-sessions "$IDLE" --connect-concurrency 64 --register-only "$tokens" 2>&1 | tail -1
    stop_gateways
    $launch
    if [ "$IDLE" -le "$PER_PROCESS" ]; then
        lg "$name" --url "$URLS" --users 0 --rate 0 --duration 0 --idle-tokens "$tokens"
        return
    fi
    local shards=$(((IDLE + PER_PROCESS - 1) / PER_PROCESS)) before=0 after=0 pids=()
    for p in "${GATEWAYS[@]}"; do before=$((before + $(rss_kib "$p"))); done
    for i in $(seq 0 $((shards - 1))); do
        "$BIN/passerelle-loadgen" run --label "$name-$i" --url "$URLS" --users 0 \
            --rate 0 --duration 0 --idle-tokens "$tokens" --shard "$i/$shards" --hold 15 \
            --source-addrs "$SOURCES" --json "$OUT/$name-$i.json" >"$OUT/$name-$i.txt" 2>&1 &
        pids+=($!)
    done
    for _ in $(seq 1 1200); do
        [ "$(grep -l 'idle open' "$OUT/$name"-*.txt 2>/dev/null | wc -l)" -ge "$shards" ] && break
        sleep 0.5
    done
    sleep 3
    for p in "${GATEWAYS[@]}"; do after=$((after + $(rss_kib "$p"))); done
    for p in "${pids[@]}"; do wait "$p" || FAILED=1; done
    echo "---- $name: $IDLE idle sessions in $shards processes: gateway RSS" \
        "$((before / 1024)) -> $((after / 1024)) MiB," \
        "$(((after - before) * 10 / IDLE / 10)) KiB per session" | tee "$OUT/$name.txt"
}

scenarios() { # BACKEND LAUNCHER
    local b=$1 launch=$2
    $launch
    # Unmeasured warm-up: connection pools fill, caches warm.
    "$BIN/passerelle-loadgen" run --url "$URLS" --users 20 --devices-per-user 2 \
        --rate 1000 --duration 3 --source-addrs "$SOURCES" >"$WORK/warmup-$b.txt" 2>&1 || true
    local dev=""
    [ "$DEVICES" = 2 ] || dev="-dev$DEVICES"
    for r in $RATES; do
        lg "$b-rate$r$dev" --url "$URLS" --users "$USERS" --devices-per-user "$DEVICES" \
            --rate "$r" --duration "$DURATION" --warmup "$WARMUP"
        if [ "$PER_DEVICE" = 1 ]; then
            lg "$b-rate$r$dev-perdevice" --url "$URLS" --users "$USERS" \
                --devices-per-user "$DEVICES" --per-device \
                --rate "$r" --duration "$DURATION" --warmup "$WARMUP"
        fi
    done
    if [ "$GROUP" -gt 0 ]; then
        for r in $GROUP_RATES; do
            lg "$b-group$GROUP-rate$r" --url "$URLS" --users "$GROUP" --devices-per-user 1 \
                --group --rate "$r" --duration "$DURATION" --warmup "$WARMUP"
        done
    fi
    # Server-side counters for the presence and typing costs: Redis INFO
    # and the database's pg_stat_database (Postgres runs only).
    local stats=()
    if [ -n "$DB" ]; then stats=(--pg-url "${PG_URL%/*}/$DB" --redis-url "$REDIS_URL"); fi
    if [ "$PRESENCE" -gt 0 ]; then
        lg "$b-presence$PRESENCE" --url "$URLS" --users 0 --rate 0 --presence "$PRESENCE" \
            --presence-rounds "$PRESENCE_ROUNDS" --presence-grace-ms "$GRACE_MS" "${stats[@]}"
    fi
    if [ "$TYPING" -gt 0 ]; then
        # (`members`/`every`: lg's helpers use `g` and `i` of their own.)
        local members every
        for members in $TYPING_GROUPS; do
            for every in $TYPING_INTERVALS; do
                lg "$b-typing$TYPING-members$members-every$every" --url "$URLS" --users 0 --rate 0 \
                    --typing "$TYPING" --typing-group "$members" --typing-interval-ms "$every" \
                    --duration "$TYPING_DURATION" --baseline 5 "${stats[@]}"
            done
        done
    fi
    if [ "$HANDSHAKES" -gt 0 ]; then
        lg "$b-handshake$HANDSHAKES" --url "$URLS" --users "$HANDSHAKES" \
            --devices-per-user 1 --rate 0 --duration 0
    fi
    if [ "$IDLE" -gt 0 ]; then idle "$b" "$launch"; fi
}

launch_sqlite() {
    start_gateway sqlite "$PORT"
    URLS="http://127.0.0.1:$PORT"
}

launch_postgres() {
    local urls=() i
    for i in $(seq 1 "$PG_NODES"); do
        start_gateway "pg$i" "$((PORT + i))" "${PG_ENV[@]}"
        urls+=("http://127.0.0.1:$((PORT + i))")
    done
    URLS=$(IFS=,; echo "${urls[*]}")
}

if [ "${BENCH_BUILD:-1}" = 1 ]; then
    cargo build --release --bin passerelle --bin passerelle-loadgen
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.txt "$OUT"/summary.md
echo "== Passerelle benchmarks: $(nproc) CPUs, $(free -h | awk '/^Mem:/ {print $2}') RAM, $(uname -sr)"
echo "== gateway settings: argon2 LIGHT (memory 1 MiB, 1 iteration: setup speed only),"
echo "   registration/login throttles off, WebSocket frame limit 100000/s"

for backend in $BACKENDS; do
    case $backend in
    sqlite)
        scenarios sqlite launch_sqlite
        cleanup
        ;;
    postgres)
        if ! psql "$PG_URL" -qAtc 'select 1' >/dev/null 2>&1 || ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
            echo "== skipping postgres: $PG_URL or $REDIS_URL unreachable"
            continue
        fi
        suffix=$(tr -dc 'a-z0-9' </dev/urandom | head -c 10 || true)
        DB=passerelle_bench_$suffix
        NS=passerelle_bench_$suffix
        psql "$PG_URL" -qc "CREATE DATABASE $DB" >/dev/null
        "$BIN/passerelle" keys generate >"$WORK/key.pem"
        PG_ENV=(DATABASE_URL="${PG_URL%/*}/$DB" REDIS_URL="$REDIS_URL"
            PASSERELLE__REDIS__NAMESPACE="$NS"
            PASSERELLE__AUTH__SIGNING_KEY_FILE="$WORK/key.pem")
        scenarios postgres launch_postgres
        cleanup
        ;;
    *) echo "unknown backend $backend" >&2 && exit 2 ;;
    esac
done

echo
echo "== summary (argon2 light; details in $OUT)"
ls "$OUT"/*.json >/dev/null 2>&1 && "$BIN/passerelle-loadgen" summary "$OUT"/*.json | tee "$OUT/summary.md"
exit "$FAILED"
