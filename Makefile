# Passerelle developer commands. `make help` lists them.
#
# The test suite runs against the embedded SQLite default; `make test-postgres`
# runs the same suite on PostgreSQL + Redis (plus the Redis-only tests).

PG_URL    ?= postgres://postgres@127.0.0.1:5432/postgres
REDIS_URL ?= redis://127.0.0.1:6379
CARGO     ?= cargo

.PHONY: help run test test-sqlite test-postgres test-all lint fmt openapi check-openapi release

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

run: ## Run a node on the embedded default (SQLite in ./data, 127.0.0.1:8080)
	$(CARGO) run --bin passerelle -- serve

test: test-sqlite ## Run the test suite (embedded SQLite)

test-sqlite: ## Every test, on the embedded SQLite backend
	$(CARGO) test --workspace

test-postgres: ## Every test, on PostgreSQL + Redis, Redis-only tests included
	PASSERELLE_TEST_BACKEND=postgres PASSERELLE_TEST_DATABASE_URL=$(PG_URL) \
	PASSERELLE_TEST_REDIS_URL=$(REDIS_URL) $(CARGO) test --workspace -- --include-ignored

test-all: test-sqlite test-postgres ## Both backends, as CI does

lint: ## Formatting and clippy, as CI checks them
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

openapi: ## Regenerate openapi/openapi.json from the code
	$(CARGO) run --quiet --bin passerelle -- openapi > openapi/openapi.json

release: ## Optimised binaries in target/release/ (passerelle, passerelle-blobstore)
	$(CARGO) build --release --bin passerelle --bin passerelle-blobstore

.PHONY: blobstore
blobstore: ## Run the blob store (local dir ./data/blobs, 127.0.0.1:8090; keys from the gateway on :8080)
	PASSERELLE_BLOBS__CAPABILITIES__JWKS_URL=$${PASSERELLE_BLOBS__CAPABILITIES__JWKS_URL:-http://127.0.0.1:8080/.well-known/jwks.json} \
	$(CARGO) run --bin passerelle-blobstore

.PHONY: bench bench-presence bench-typing bench-per-device bench-expiry bench-blobs
bench: ## Load benchmarks (SQLite; Postgres + Redis on two nodes); results in target/bench/
	BENCH_PG_URL=$(PG_URL) BENCH_REDIS_URL=$(REDIS_URL) scripts/bench.sh

# Only one scenario of scripts/bench.sh: the others' knobs set to skip.
BENCH_ONLY = BENCH_PG_URL=$(PG_URL) BENCH_REDIS_URL=$(REDIS_URL) BENCH_RATES=" " BENCH_GROUP=0 \
	BENCH_IDLE=0 BENCH_HANDSHAKES=0

bench-presence: ## Presence: a user with 5,000 online watchers changes state (both backends)
	$(BENCH_ONLY) BENCH_TYPING=0 scripts/bench.sh

bench-typing: ## Typing indicators of 1,000 users (both backends)
	$(BENCH_ONLY) BENCH_PRESENCE=0 scripts/bench.sh

bench-per-device: ## Direct messages plain vs per-device (deviceEntries), 100 users x 3 devices, 1000 and 2000 msg/s (both backends)
	$(BENCH_ONLY) BENCH_PRESENCE=0 BENCH_TYPING=0 BENCH_PER_DEVICE=1 BENCH_DEVICES=3 \
	BENCH_RATES="1000 2000" scripts/bench.sh

bench-expiry: ## Disappearing-message sweeper: 1M expiring messages, on SQLite then Postgres
	$(CARGO) build --release -p passerelle-store --example expiry_bench
	./target/release/examples/expiry_bench
	EXPIRY_BENCH_BACKEND=postgres EXPIRY_BENCH_PG_URL=$(PG_URL) ./target/release/examples/expiry_bench

bench-blobs: ## Blob store PUT/GET throughput (4 KiB, 10 MiB) against nginx's WebDAV on the same disk
	scripts/bench-blobs.sh
