#!/usr/bin/env bash
# Runs the Node SDK interop scripts: installs the pinned npm packages
# outside the source tree (once), starts the mocks they need and runs
#   axios_plugin.js  wechatpay-axios-plugin against a public-key and a
#                    certificate-mode mock (http, base URL)
#   node_v3.js       wechatpay-node-v3 against an HTTPS mock that answers for
#                    api.mch.weixin.qq.com (host_map.js, the test CA)
# Exit 77 (ctest: skipped) when node or npm is missing, saying so.
#
# Usage: tests/interop/run.sh BIN_DIR FIXTURES_DIR
set -u
bin=$1
fx=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
PACKAGES=(wechatpay-axios-plugin@0.9.6 wechatpay-node-v3@2.2.1)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: node and npm are needed for the interop test (apt-get install nodejs npm)"
  exit 77
fi
dir=${WXPAY_INTEROP_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wxpay-harness/interop-node}
installed() { # NAME@VERSION is in $dir
  local name=${1%@*} version=${1##*@}
  [ -f "$dir/node_modules/$name/package.json" ] &&
    grep -q "\"version\": \"$version\"" "$dir/node_modules/$name/package.json"
}
need=()
for p in "${PACKAGES[@]}"; do installed "$p" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  mkdir -p "$dir"
  echo "installing ${need[*]} into $dir"
  ok=0
  for try in 1 2 3; do
    if npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "${PACKAGES[@]}" >"$dir/npm.log" 2>&1; then
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

status=0
WXPAY_SDK_DIR=$dir MOCK_URL="http://${a##*http://}" MOCK_CERT_URL="http://${b##*http://}" FIXTURES=$fx \
  node "$here/axios_plugin.js" || status=1

# wechatpay-node-v3: HTTPS for the host it hard-codes, with the test pair.
exec 5< <(WXPAY_MOCK_ADMIN_TOKEN=interop exec "$bin/wxpay-mock" --port 0 --quiet \
  --tls-cert "$fx/tls/server_cert.pem" --tls-key "$fx/tls/server_key.pem")
pids+=($!)
read -r -t 10 c <&5 || { echo "HTTPS mock did not start"; exit 1; }
WXPAY_SDK_DIR=$dir FIXTURES=$fx WXPAY_MOCK_PORT=${c##*:} WXPAY_MOCK_ADMIN_TOKEN=interop \
  NODE_EXTRA_CA_CERTS="$fx/tls/ca_cert.pem" node --require "$here/host_map.js" "$here/node_v3.js" || status=1
exit $status
