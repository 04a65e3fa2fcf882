#!/usr/bin/env bash
# Runs tests/interop/axios_plugin.js: installs the pinned Node SDK outside
# the source tree (once), starts two wxpay-mock (public-key and certificate
# mode) and runs the script. Exit 77 (ctest: skipped) when node or npm is
# missing, saying so.
#
# Usage: tests/interop/run.sh BIN_DIR FIXTURES_DIR
set -u
bin=$1
fx=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
SDK=wechatpay-axios-plugin
SDK_VERSION=0.9.6

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: node and npm are needed for the interop test (apt-get install nodejs npm)"
  exit 77
fi
dir=${WXPAY_INTEROP_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wxpay-harness/interop-node}
if [ ! -f "$dir/node_modules/$SDK/package.json" ] ||
   ! grep -q "\"version\": \"$SDK_VERSION\"" "$dir/node_modules/$SDK/package.json"; then
  mkdir -p "$dir"
  echo "installing $SDK@$SDK_VERSION into $dir"
  ok=0
  for try in 1 2 3; do
    if npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$SDK@$SDK_VERSION" >"$dir/npm.log" 2>&1; then
      ok=1; break
    fi
    echo "npm install failed (try $try), see $dir/npm.log"
  done
  [ $ok -eq 1 ] || { cat "$dir/npm.log"; exit 1; }
fi

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT

sed -e 's/"mode": "public_key"/"mode": "certificate"/' -e "s#\"keys/#\"$fx/keys/#g" "$fx/mock.json" > "$tmp/cert.json"
exec 3< <(exec "$bin/wxpay-mock" --port 0 --quiet)
pids+=($!)
exec 4< <(exec "$bin/wxpay-mock" --port 0 --quiet --config "$tmp/cert.json")
pids+=($!)
read -r -t 10 a <&3 || { echo "mock did not start"; exit 1; }
read -r -t 10 b <&4 || { echo "certificate-mode mock did not start"; exit 1; }

WXPAY_SDK_DIR=$dir MOCK_URL="http://${a##*http://}" MOCK_CERT_URL="http://${b##*http://}" FIXTURES=$fx \
  node "$here/axios_plugin.js"
