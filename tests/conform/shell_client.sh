#!/usr/bin/env bash
# A reversal client in bash + openssl + curl, driven only by the WXPAY_*
# environment that wxpay-conform sets: a client "in another language" for the
# conformance tests. CLIENT_BUG makes it wrong on purpose:
#   no-final-newline  signs the message without its last "\n"
#   no-retry          never retries (timeouts, 5xx, 429, drops)
#   trust-anything    reports success without verifying the answer
# Exit: 0 reversed, 3 error answer, 4 bad answer signature, 5 malformed, 6 no answer.
set -u
: "${WXPAY_BASE_URL:?}" "${WXPAY_OUT_TRADE_NO:?}" "${WXPAY_MCHID:?}" "${WXPAY_APPID:?}"
: "${WXPAY_PRIVATE_KEY:?}" "${WXPAY_SERIAL:?}" "${WXPAY_WECHATPAY_PUBLIC_KEY:?}" "${WXPAY_WECHATPAY_SERIAL:?}"
bug=${CLIENT_BUG:-}
timeout=${WXPAY_TIMEOUT:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

target="/v3/pay/transactions/out-trade-no/$WXPAY_OUT_TRADE_NO/reverse"
body="{\"appid\":\"$WXPAY_APPID\",\"mchid\":\"$WXPAY_MCHID\"}"
hdr() { grep -i "^$1:" "$tmp/h" | tail -1 | cut -d' ' -f2- | tr -d '\r'; }

attempt() {
  local ts nonce tail sig
  ts=$(date +%s)
  nonce=$(openssl rand -hex 16)
  tail='\n'
  [ "$bug" = no-final-newline ] && tail=''
  sig=$(printf "POST\n%s\n%s\n%s\n%s$tail" "$target" "$ts" "$nonce" "$body" |
        openssl dgst -sha256 -sign "$WXPAY_PRIVATE_KEY" | openssl base64 -A)
  curl -sS --max-time "$timeout" -D "$tmp/h" -o "$tmp/b" -X POST "$WXPAY_BASE_URL$target" \
    -H "Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"$WXPAY_MCHID\",nonce_str=\"$nonce\",timestamp=\"$ts\",serial_no=\"$WXPAY_SERIAL\",signature=\"$sig\"" \
    -H 'Accept: application/json' -H 'Content-Type: application/json' -H 'User-Agent: shell-client/1.0' \
    --data-binary "$body" 2>"$tmp/e"
}

tries=4
[ "$bug" = no-retry ] && tries=1
for ((i = 1; i <= tries; i++)); do
  attempt; rc=$?
  status=$(head -1 "$tmp/h" 2>/dev/null | cut -d' ' -f2)
  if [ $rc -ne 0 ]; then
    echo "attempt $i: no answer (curl $rc)" >&2
  elif [ "$status" -ge 500 ] || [ "$status" = 429 ]; then
    echo "attempt $i: HTTP $status" >&2
  else
    break
  fi
  [ $i -lt $tries ] && sleep 0.2
done
[ $rc -ne 0 ] && exit 6
if [ "$status" -lt 200 ] || [ "$status" -ge 300 ]; then
  echo "error answer: HTTP $status $(cat "$tmp/b")" >&2
  exit 3
fi
if [ "$bug" != trust-anything ]; then
  ts=$(hdr Wechatpay-Timestamp); nonce=$(hdr Wechatpay-Nonce); sig=$(hdr Wechatpay-Signature); serial=$(hdr Wechatpay-Serial)
  [ -n "$ts" ] && [ -n "$nonce" ] && [ -n "$sig" ] && [ -n "$serial" ] || { echo "unsigned answer" >&2; exit 4; }
  now=$(date +%s)
  [ $((now - ts)) -lt 300 ] && [ $((ts - now)) -lt 300 ] || { echo "answer timestamp out of window" >&2; exit 4; }
  [ "$serial" = "$WXPAY_WECHATPAY_SERIAL" ] || { echo "unknown Wechatpay-Serial $serial" >&2; exit 4; }
  { printf '%s\n%s\n' "$ts" "$nonce"; cat "$tmp/b"; printf '\n'; } > "$tmp/m"
  printf '%s' "$sig" | openssl base64 -d -A > "$tmp/s" 2>/dev/null
  openssl dgst -sha256 -verify "$WXPAY_WECHATPAY_PUBLIC_KEY" -signature "$tmp/s" "$tmp/m" >/dev/null 2>&1 ||
    { echo "answer signature does not verify" >&2; exit 4; }
  grep -q "\"out_trade_no\":\"$WXPAY_OUT_TRADE_NO\"}$" "$tmp/b" || { echo "malformed answer" >&2; exit 5; }
fi
echo "reversed $WXPAY_OUT_TRADE_NO"
