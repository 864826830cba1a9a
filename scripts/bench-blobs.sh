#!/usr/bin/env bash
# Blob store throughput against a plain static file server (`make bench-blobs`).
#
# Builds passerelle-blobstore and passerelle-loadgen in release, writes a
# fresh Ed25519 key (the blob store trusts its JWKS), then for each object
# size and concurrency of the ladder starts, one after the other:
#   blobstore  passerelle-blobstore, local backend, capabilities checked;
#   blobstore-nosync  the same with storage.local.fsync = false (no fsync,
#              as nginx), so the cost of durability is measured apart;
#   nginx      nginx from Debian with its WebDAV module (`dav_methods PUT`),
#              on a config of its own: same port range, same disk, no log;
# each with a fresh data directory, and runs `passerelle-loadgen blobs`
# (PUT of fresh ids, then GET of what was uploaded) against it. Both servers
# get the same CPUs (taskset) and the same number of workers; the load
# generator runs on the other CPUs. Every server is stopped after its run,
# temp dirs are removed on exit, and a Markdown table (ours, nginx, ratio)
# is printed and saved in target/bench-blobs/summary.md.
#
# Knobs (environment): BLOB_BENCH_DURATION (10 s per phase),
# BLOB_BENCH_SMALL ("1 8 32": clients for 4 KiB objects), BLOB_BENCH_LARGE
# ("1 4": clients for 10 MiB objects), BLOB_BENCH_SERVER_CPUS (1),
# BLOB_BENCH_CLIENT_CPUS (0), BLOB_BENCH_WORKERS (1), BLOB_BENCH_DIR (parent
# of the data dirs, default target/: must be the disk under test, not a
# tmpfs), BLOB_BENCH_SERVERS ("blobstore blobstore-nosync nginx"), BLOB_BENCH_MAX_LOAD (1.5:
# wait, up to BLOB_BENCH_LOAD_WAIT = 600 s, until the 1-minute load average
# is below it), BLOB_BENCH_BUILD (1), BLOB_BENCH_BIN (prebuilt binaries),
# BLOB_BENCH_PORT (first port).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${BLOB_BENCH_DURATION:-10}
SMALL=${BLOB_BENCH_SMALL:-"1 8 32"}
LARGE=${BLOB_BENCH_LARGE:-"1 4"}
SERVER_CPUS=${BLOB_BENCH_SERVER_CPUS:-1}
CLIENT_CPUS=${BLOB_BENCH_CLIENT_CPUS:-0}
WORKERS=${BLOB_BENCH_WORKERS:-1}
SERVERS=${BLOB_BENCH_SERVERS:-"blobstore blobstore-nosync nginx"}
MAX_LOAD=${BLOB_BENCH_MAX_LOAD:-1.5}
LOAD_WAIT=${BLOB_BENCH_LOAD_WAIT:-600}
PORT=${BLOB_BENCH_PORT:-$((19100 + RANDOM % 800))}
# BLOB_BENCH_BIN: a directory of prebuilt binaries (e.g. a copy kept from
# before a change, for a before/after comparison); implies no build.
BIN=${BLOB_BENCH_BIN:-$ROOT/target/release}
OUT=$ROOT/target/bench-blobs
# Objects per run at most (the PUT phase ends early when they are used up):
# 4 KiB × 100,000 = 400 MiB, 10 MiB × 300 = 3 GiB.
SMALL_MAX=100000
LARGE_MAX=300

if ! command -v nginx >/dev/null 2>&1 && [[ " $SERVERS " == *" nginx "* ]]; then
    echo "nginx is not installed: apt-get install -y nginx-light (Debian; has the WebDAV module)" >&2
    exit 2
fi
if [[ " $SERVERS " == *" nginx "* ]] && ! nginx -V 2>&1 | grep -q -- --with-http_dav_module; then
    echo "this nginx has no WebDAV module (ngx_http_dav_module): PUT is impossible" >&2
    exit 2
fi

mkdir -p "${BLOB_BENCH_DIR:-$ROOT/target}"
WORK=$(mktemp -d "${BLOB_BENCH_DIR:-$ROOT/target}/blob-bench.XXXXXX")
SERVER_PIDS=()

stop_servers() {
    for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    SERVER_PIDS=()
}
trap 'stop_servers; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

wait_http() { # URL PID LOG
    for _ in $(seq 1 80); do
        # Any HTTP answer will do (nginx has no /healthz: 404 is fine).
        if curl -s -o /dev/null "$1" 2>/dev/null; then return 0; fi
        if ! kill -0 "$2" 2>/dev/null; then break; fi
        sleep 0.25
    done
    echo "server did not start; its log:" >&2
    cat "$3" >&2
    return 1
}

# start_blobstore DIR PORT FSYNC: sets ACCOUNT (the --server-pid argument).
start_blobstore() {
    local dir=$1 port=$2 fsync=$3
    env PASSERELLE_BLOBS__SERVER__BIND="127.0.0.1:$port" \
        PASSERELLE_BLOBS__STORAGE__LOCAL__FSYNC="$fsync" \
        PASSERELLE_BLOBS__SERVER__WORKERS="$WORKERS" \
        PASSERELLE_BLOBS__SERVER__SHUTDOWN_TIMEOUT_SECS=5 \
        PASSERELLE_BLOBS__STORAGE__BACKEND=local \
        PASSERELLE_BLOBS__STORAGE__LOCAL__DIR="$dir/data" \
        PASSERELLE_BLOBS__CAPABILITIES__JWKS_FILE="$WORK/keys/jwks.json" \
        PASSERELLE_BLOBS__LOG__FILTER=warn \
        taskset -c "$SERVER_CPUS" "$BIN/passerelle-blobstore" >"$dir/log" 2>&1 &
    local pid=$!
    SERVER_PIDS+=("$pid")
    wait_http "http://127.0.0.1:$port/healthz" "$pid" "$dir/log"
    ACCOUNT="blobstore=$pid"
}

# start_nginx DIR PORT: the baseline, with everything (config, pid file,
# logs, request body temp files, document root) under DIR. WebDAV PUT writes
# the body to a temp file, then renames it into the root, like ours; no
# fsync. Keep-alive connections are never closed by request count, as ours.
start_nginx() {
    local dir=$1 port=$2
    mkdir -p "$dir/root/v1/blobs" "$dir/body-tmp"
    cat >"$dir/nginx.conf" <<EOF
worker_processes $WORKERS;
user root;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
    client_max_body_size 200m;
    client_body_temp_path $dir/body-tmp;
    server {
        listen 127.0.0.1:$port;
        root $dir/root;
        location /v1/blobs/ {
            dav_methods PUT;
            dav_access user:rw;
            create_full_put_path on;
        }
    }
}
EOF
    taskset -c "$SERVER_CPUS" nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" \
        >"$dir/log" 2>&1 &
    local pid=$!
    SERVER_PIDS+=("$pid")
    wait_http "http://127.0.0.1:$port/" "$pid" "$dir/error.log"
    local workers
    workers=$(pgrep -P "$pid" | paste -sd+)
    ACCOUNT="nginx=$pid${workers:++$workers}"
}

# bench SERVER SIZE CLIENTS MAX_OBJECTS: one run on a fresh server.
bench() {
    local server=$1 size=$2 clients=$3 max=$4
    local name="$server-$size-c$clients" dir=$WORK/$server-$size-c$clients
    local port=$((PORT++))
    mkdir -p "$dir"
    local auth=()
    case $server in
    blobstore | blobstore-nosync)
        local fsync=true
        [ "$server" = blobstore-nosync ] && fsync=false
        start_blobstore "$dir" "$port" "$fsync"
        auth=(--key "$WORK/keys/key.pem")
        ;;
    nginx) start_nginx "$dir" "$port" ;;
    esac
    echo "---- $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
    if ! taskset -c "$CLIENT_CPUS" "$BIN/passerelle-loadgen" blobs --url "http://127.0.0.1:$port" \
        "${auth[@]}" --size "$size" --concurrency "$clients" --duration "$DURATION" \
        --max-objects "$max" --label "$server" --server-pid "$ACCOUNT" \
        --json "$OUT/$name.json" 2>&1 | tee "$OUT/$name.txt"; then
        echo "!!!! $name failed (see $OUT/$name.txt)"
        FAILED=1
    fi
    stop_servers
    rm -rf "$dir"
    # Each run starts with no dirty pages left by the previous one.
    sync
}

if [ "${BLOB_BENCH_BUILD:-1}" = 1 ] && [ -z "${BLOB_BENCH_BIN:-}" ]; then
    cargo build --release --bin passerelle-blobstore --bin passerelle-loadgen
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.txt "$OUT"/summary.md
"$BIN/passerelle-loadgen" blob-keys "$WORK/keys"

waited=0
while awk -v max="$MAX_LOAD" '{ exit !($1 > max) }' /proc/loadavg && [ "$waited" -lt "$LOAD_WAIT" ]; do
    echo "== load average $(cut -d' ' -f1-3 /proc/loadavg) above $MAX_LOAD: waiting (${waited}s of ${LOAD_WAIT}s)"
    sleep 30
    waited=$((waited + 30))
done
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
FS=$(df -T "$WORK" | awk 'NR == 2 {print $1 " (" $2 ")"}')
echo "== blob store vs nginx: $(nproc) CPUs, $(uname -sr), data on $FS"
echo "== servers on CPU(s) $SERVER_CPUS with $WORKERS worker(s); load generator on CPU(s) $CLIENT_CPUS"
echo "== $DURATION s per phase; load average at start $LOAD_START"

FAILED=0
for c in $SMALL; do
    for s in $SERVERS; do bench "$s" 4KiB "$c" "$SMALL_MAX"; done
done
for c in $LARGE; do
    for s in $SERVERS; do bench "$s" 10MiB "$c" "$LARGE_MAX"; done
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "Servers on CPU(s) $SERVER_CPUS, $WORKERS worker(s) each; load generator on CPU(s) $CLIENT_CPUS;"
    echo "data on $FS; $DURATION s per phase; load average $LOAD_START at start, $LOAD_END at end."
    echo
    for ours in blobstore blobstore-nosync; do
        if [[ " $SERVERS " == *" $ours "* ]]; then
            echo
            "$BIN/passerelle-loadgen" blob-summary --ours "$ours" --baseline nginx "$OUT"/*.json
        fi
    done
} | tee "$OUT/summary.md"
exit "$FAILED"
