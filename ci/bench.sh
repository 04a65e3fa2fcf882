#!/usr/bin/env bash
# The whole benchmark in one command (docs/performance.md "Performance"): a Release build,
# then wxpay-bench for the mock with full verification and signing (over
# HTTP and over HTTPS with kept-alive connections), the mock
# without signing, WireMock serving the same static answer (installed from
# npm outside the source tree; skipped, saying so, without java or npm), and
# the client. Figures print as tables; JSON goes to build-bench/bench-*.json.
#
# Usage: ci/bench.sh [SECONDS] [--memory [REQUESTS]]
#   SECONDS    per measurement (default 10)
#   --memory   also the mock's resident size from 10,000 to REQUESTS
#              (default 1,000,000; takes minutes)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-10}
memory=""
[ "${2:-}" = --memory ] && memory=${3:-1000000}

ci/deps.sh >/dev/null || exit 2
cmake --preset bench >/dev/null || exit 2
cmake --build --preset bench -j "$(nproc)" >/dev/null || exit 2
bin=$top/build-bench/bin
out=$top/build-bench
echo "machine: $(nproc) cores; $(openssl version)"

"$bin/wxpay-bench" --seconds "$secs" --json "$out/bench-mock.json" mock codepay https unsigned client
rc=$?

# WireMock, serving the reverse answer as a static stub.
WIREMOCK_VERSION=3.13.2
wdir=${XDG_CACHE_HOME:-$HOME/.cache}/wxpay-harness/wiremock
jar=$wdir/node_modules/wiremock/build/wiremock-standalone-$WIREMOCK_VERSION.jar
if ! command -v java >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "wiremock: SKIPPED (java and npm are needed)"
else
  if [ ! -f "$jar" ]; then
    mkdir -p "$wdir"
    npm install --prefix "$wdir" --no-audit --no-fund --loglevel=error "wiremock@$WIREMOCK_VERSION" >/dev/null 2>&1 ||
      echo "wiremock: SKIPPED (npm install wiremock@$WIREMOCK_VERSION failed)"
  fi
  if [ -f "$jar" ]; then
    # Ports below the ephemeral range (32768+), where the load generator's
    # closed connections linger in TIME_WAIT; a few tries if one is taken.
    up=0
    for _try in 1 2 3 4 5; do
      port=$(( 10000 + RANDOM % 20000 ))
      java -jar "$jar" --port "$port" --bind-address 127.0.0.1 --disable-banner --container-threads 64 \
        > "$out/wiremock.log" 2>&1 &
      wpid=$!
      for _ in $(seq 1 150); do
        kill -0 "$wpid" 2>/dev/null || break
        curl -s -o /dev/null "http://127.0.0.1:$port/__admin/mappings" && { up=1; break; }
        sleep 0.2   # waiting for the JVM to start listening
      done
      [ $up -eq 1 ] && break
      kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
    done
    [ $up -eq 1 ] || { echo "wiremock: SKIPPED (it did not start, see $out/wiremock.log)"; jar=""; }
  fi
  if [ -n "$jar" ] && [ -f "$jar" ]; then
    curl -s -o /dev/null -X POST "http://127.0.0.1:$port/__admin/mappings" -d '{
      "request": {"method": "POST", "urlPathPattern": "/v3/pay/transactions/out-trade-no/[^/]+/reverse"},
      "response": {"status": 200, "headers": {"Content-Type": "application/json"},
        "body": "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\",\"out_trade_no\":\"1217752501201407033233368018\"}"}}'
    # A warm-up round for the JIT, then the measured one.
    "$bin/wxpay-bench" --seconds 5 --url "http://127.0.0.1:$port" --label wiremock-warmup url >/dev/null 2>&1
    "$bin/wxpay-bench" --seconds "$secs" --url "http://127.0.0.1:$port" --label wiremock \
      --json "$out/bench-wiremock.json" url
    kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
  fi
fi

if [ -n "$memory" ]; then
  "$bin/wxpay-bench" --requests "$memory" --json "$out/bench-memory.json" memory || rc=1
fi
exit $rc
