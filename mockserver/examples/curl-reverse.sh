#!/usr/bin/env bash
# Reverses one order on a running wxpay-mock with nothing but openssl and
# curl: builds the message, signs it with the test merchant key, sends it,
# and prints the answer. A worked example of docs/protocol.md section 2.
#
# Usage: mockserver/examples/curl-reverse.sh OUT_TRADE_NO [BASE_URL]
#        (BASE_URL defaults to http://127.0.0.1:8080)
set -euo pipefail
otn=${1:?usage: curl-reverse.sh OUT_TRADE_NO [BASE_URL]}
base=${2:-http://127.0.0.1:8080}
keys=$(cd "$(dirname "$0")/../../fixtures/keys" && pwd)

target="/v3/pay/transactions/out-trade-no/$otn/reverse"
body='{"appid":"wxd678efh567hg6787","mchid":"1230000109"}'
ts=$(date +%s)
nonce=$(openssl rand -hex 16)

# METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n, every line ending in \n.
sig=$(printf 'POST\n%s\n%s\n%s\n%s\n' "$target" "$ts" "$nonce" "$body" |
      openssl dgst -sha256 -sign "$keys/merchant_key.pem" | openssl base64 -A)
serial=$(openssl x509 -in "$keys/merchant_cert.pem" -noout -serial | cut -d= -f2)
auth="WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"$nonce\",timestamp=\"$ts\",serial_no=\"$serial\",signature=\"$sig\""

curl -sS -i -X POST "$base$target" \
  -H "Authorization: $auth" \
  -H 'Content-Type: application/json' \
  -H 'Accept: application/json' \
  --data-binary "$body"
echo
