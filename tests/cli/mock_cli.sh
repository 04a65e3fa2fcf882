#!/usr/bin/env bash
# wxpay-mock as a user runs it: options, config errors, the first stdout
# line, a reverse signed by the openssl command line and sent with curl, the
# answer's signature checked by openssl, the journal file, and SIGTERM.
#
# Usage: tests/cli/mock_cli.sh BIN_DIR FIXTURES_DIR
set -u
bin=$1/wxpay-mock
fx=$2
. "$(dirname "$0")/tap.sh"

# --- options --------------------------------------------------------------
out=$("$bin" --help); rc=$?
check "--help exits 0 and shows usage" '[ $rc -eq 0 ] && [[ $out == *"Usage: wxpay-mock"* ]]'
err=$("$bin" --bogus 2>&1); rc=$?
check "unknown option exits 2 naming it" '[ $rc -eq 2 ] && [[ $err == *"--bogus"* ]]'
err=$("$bin" --port 70000 2>&1); rc=$?
check "bad --port exits 2 naming the value" '[ $rc -eq 2 ] && [[ $err == *"70000"* ]]'
err=$("$bin" --threads 0 2>&1); rc=$?
check "bad --threads exits 2 naming the value" '[ $rc -eq 2 ] && [[ $err == *"--threads \"0\""* ]]'
err=$("$bin" --port 2>&1); rc=$?
check "--port without a value exits 2" '[ $rc -eq 2 ] && [[ $err == *"needs a value"* ]]'

# --- config errors --------------------------------------------------------
sed 's/"mchid": "1230000109"/"mchid": "12x"/' "$fx/mock.json" > "$tmp/bad.json"
err=$("$bin" --config "$tmp/bad.json" --port 0 2>&1); rc=$?
check "bad config exits 2 naming file and field" \
  '[ $rc -eq 2 ] && [[ $err == *"$tmp/bad.json"* ]] && [[ $err == *"merchants[0].mchid"* ]]'
err=$("$bin" --config "$tmp/missing.json" 2>&1); rc=$?
check "missing config exits 2 naming the file" '[ $rc -eq 2 ] && [[ $err == *"missing.json"* ]]'
sed -e 's/"apiv3_key": "TESTONLYwxpaymockAPIv3key0000001"/"apiv3_key": "TESTONLYwxpaymockAPIv3key00000"/' \
    -e "s#\"keys/#\"$fx/keys/#g" "$fx/mock.json" > "$tmp/short.json"
err=$("$bin" --config "$tmp/short.json" --port 0 2>&1); rc=$?
check "a short APIv3 key exits 2 naming wechatpay.apiv3_key" \
  '[ $rc -eq 2 ] && [[ $err == *"wechatpay.apiv3_key: must be exactly 32"*"(it has 30 bytes)"* ]]'
sed -e 's/"mode": "public_key"/"mode": "certificate"/' -e '/"apiv3_key"/d' \
    -e "s#\"keys/#\"$fx/keys/#g" "$fx/mock.json" > "$tmp/nokey.json"
err=$("$bin" --config "$tmp/nokey.json" --port 0 2>&1); rc=$?
check "certificate mode without an APIv3 key exits 2 naming it" \
  '[ $rc -eq 2 ] && [[ $err == *"wechatpay.apiv3_key: is required"* ]]'

# --- a session ------------------------------------------------------------
exec 3< <(exec "$bin" --port 0 --journal-file "$tmp/journal.jsonl" 2>"$tmp/stderr")
pid=$!
line=""
read -r -t 10 line <&3
check "first stdout line names the URL" '[[ $line =~ ^wxpay-mock\ listening\ on\ http://127\.0\.0\.1:[0-9]+$ ]]'
port=${line##*:}
base="http://127.0.0.1:$port"

otn=paid_cli_0001
target="/v3/pay/transactions/out-trade-no/$otn/reverse"
body='{"appid":"wxd678efh567hg6787","mchid":"1230000109"}'
ts=$(date +%s)
nonce=$(openssl rand -hex 16)
printf 'POST\n%s\n%s\n%s\n%s\n' "$target" "$ts" "$nonce" "$body" > "$tmp/msg"
sig=$(openssl dgst -sha256 -sign "$fx/keys/merchant_key.pem" "$tmp/msg" | openssl base64 -A)
auth="WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"$nonce\",timestamp=\"$ts\",serial_no=\"3775B6A45ACD588826D15E583A95F5DD00000001\",signature=\"$sig\""
curl -s -D "$tmp/headers" -o "$tmp/body" -X POST "$base$target" \
  -H "Authorization: $auth" -H 'Content-Type: application/json' -H 'Accept: application/json' \
  --data-binary "$body"
status=$(head -1 "$tmp/headers" | cut -d' ' -f2)
check "openssl-signed reverse answers 200" '[ "$status" = 200 ]'
check "answer names the order" 'grep -q "\"out_trade_no\":\"$otn\"" "$tmp/body"'

hdr() { grep -i "^$1:" "$tmp/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
rts=$(hdr Wechatpay-Timestamp); rnonce=$(hdr Wechatpay-Nonce); rsig=$(hdr Wechatpay-Signature)
check "answer carries Request-ID and Wechatpay-Serial" \
  '[ -n "$(hdr Request-ID)" ] && [ "$(hdr Wechatpay-Serial)" = PUB_KEY_ID_01123000010920261128000000000001 ]'
{ printf '%s\n%s\n' "$rts" "$rnonce"; cat "$tmp/body"; printf '\n'; } > "$tmp/rmsg"
printf '%s' "$rsig" | openssl base64 -d -A > "$tmp/rsig"
v=$(openssl dgst -sha256 -verify "$fx/keys/wechatpay_pub.pem" -signature "$tmp/rsig" "$tmp/rmsg" 2>&1)
check "answer signature verifies with openssl and wechatpay_pub.pem" '[ "$v" = "Verified OK" ]'

order=$(curl -s "$base/__admin/orders/$otn")
check "admin API shows the refund" '[[ $order == *"\"trade_state\":\"REVOKED\""* ]] && [[ $order == *"\"refund\":{"* ]]'

bad=$(curl -s -X POST "$base/v3/pay/transactions/outTradeNo/$otn/reverse" -H 'Content-Type: application/json' --data-binary "$body")
check "path mistake is explained" '[[ $bad == *PARAM_ERROR* ]] && [[ $bad == *dash-case* ]]'

example=$(dirname "$0")/../../mockserver/examples/curl-reverse.sh
out=$(bash "$example" closed_cli_0001 "$base")
check "the curl example (docs/mock.md) reverses against the mock" '[[ $out == *ORDER_CLOSED* ]]'

# Control bytes in the method and target reach the text log escaped.
exec 9<>"/dev/tcp/127.0.0.1/$port"
printf 'PO\033ST /v3/pay/transactions/out-trade-no/abc\033[31m/reverse HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&9
timeout 5 cat <&9 >/dev/null
exec 9<&-
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=""
check "SIGTERM stops it with exit status 0" '[ $rc -eq 0 ]'
check "the text log escapes control bytes (ESC) of method and target" \
  'grep -q "PO\\\\x1BST /v3/pay/transactions/out-trade-no/abc\\\\x1B\[31m" "$tmp/stderr" && ! grep -q $'"'"'\033'"'"' "$tmp/stderr"'
check "stderr logged one line per request" '[ "$(grep -c "/v3/pay" "$tmp/stderr")" -ge 2 ]'
check "journal file has one JSON line per API request" '[ "$(wc -l < "$tmp/journal.jsonl")" -eq 4 ]'
check "journal file is readable by its owner only (it holds Authorization headers)" \
  '[ "$(stat -c %a "$tmp/journal.jsonl")" = 600 ]'

# A journal file that fills up (a 4 KiB file size limit stands in for a full
# disk): no torn line, the loss said on stderr and in health, exit 3.
exec 5< <(ulimit -f 4; exec "$bin" --port 0 --quiet --journal-file "$tmp/full.jsonl" 2>"$tmp/full.err")
pid=$!
read -r -t 10 line <&5
fbase="http://127.0.0.1:${line##*:}"
for i in $(seq 1 30); do
  curl -s -o /dev/null "$fbase/v3/pay/transactions/out-trade-no/full_$i?mchid=1230000109"
done
health=$(curl -s "$fbase/__admin/health")
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "a full journal file: exit status 3 naming the loss" \
  '[ $rc -eq 3 ] && grep -q "journal entries could not be written to $tmp/full.jsonl" "$tmp/full.err"'
check "... the first failure said on stderr" 'grep -q "journal file $tmp/full.jsonl: File too large" "$tmp/full.err"'
check "... health said so while it ran" \
  '[[ $health == *"\"status\":\"journal_file_failing\""* ]] && [[ $health != *"\"journal_file_lost\":0"* ]]'
check "... and no torn line: every line is a whole entry" \
  '[ -s "$tmp/full.jsonl" ] && [ "$(tail -c 1 "$tmp/full.jsonl" | od -An -c | tr -d " ")" = "\\n" ] &&
   ! grep -qv "^{\"seq\":[0-9]*,.*}$" "$tmp/full.jsonl"'

# SIGTERM while 20 requests wait in a delay (slow_: 1.5 s): every one is
# woken and answered before the process ends (before: 0 to 20 of 20).
exec 6< <(exec "$bin" --port 0 --quiet 2>/dev/null)
pid=$!
read -r -t 10 line <&6
pbase="http://127.0.0.1:${line##*:}"
slow() {
  local target="/v3/pay/transactions/out-trade-no/$1/reverse" ts nonce sig
  ts=$(date +%s); nonce=$(openssl rand -hex 16)
  sig=$(printf 'POST\n%s\n%s\n%s\n%s\n' "$target" "$ts" "$nonce" "$body" |
        openssl dgst -sha256 -sign "$fx/keys/merchant_key.pem" | openssl base64 -A)
  curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$pbase$target" -H 'User-Agent: t' \
    -H "Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"$nonce\",timestamp=\"$ts\",serial_no=\"3775B6A45ACD588826D15E583A95F5DD00000001\",signature=\"$sig\"" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary "$body" > "$tmp/parked_$1"
}
clients=()
for i in $(seq -w 1 20); do slow "slow_term_$i" & clients+=($!); done
for t in $(seq 1 200); do
  n=$(curl -s "$pbase/__admin/health" | grep -o '"requests":[0-9]*' | cut -d: -f2)
  [ "${n:-0}" -ge 20 ] && break
  sleep 0.05
done
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
wait "${clients[@]}"
answered=$(cat "$tmp"/parked_* | grep -o 200 | wc -l)
check "SIGTERM answers all 20 requests parked in a delay, then exits 0" '[ $rc -eq 0 ] && [ "$answered" -eq 20 ]'

# Beyond loopback without a token: a warning. With WXPAY_MOCK_ADMIN_TOKEN:
# admin calls need it (health does not). "--host ::" serves IPv4 too.
exec 7< <(WXPAY_MOCK_ADMIN_TOKEN=s3cret exec "$bin" --host :: --port 0 --quiet 2>"$tmp/any.err")
pid=$!
read -r -t 10 line <&7
if [[ $line == *"listening on http://[::]:"* ]]; then
  abase="http://127.0.0.1:${line##*:}"
  check "--host :: answers on IPv4 too" '[ "$(curl -s -o /dev/null -w %{http_code} "$abase/__admin/health")" = 200 ]'
  check "... an admin call without the token is 401" \
    '[ "$(curl -s -o /dev/null -w %{http_code} -X POST "$abase/__admin/reset")" = 401 ]'
  check "... with WXPAY_MOCK_ADMIN_TOKEN as Bearer it is 200" \
    '[ "$(curl -s -o /dev/null -w %{http_code} -X POST -H "Authorization: Bearer s3cret" "$abase/__admin/reset")" = 200 ]'
  check "... and no warning, a token being set" '! grep -q warning "$tmp/any.err"'
else
  echo "# no IPv6 here: the dual-stack checks are skipped ($line)"
fi
kill -TERM "$pid" 2>/dev/null; wait "$pid"; pid=""
exec 8< <(exec "$bin" --host 0.0.0.0 --port 0 --quiet 2>"$tmp/open.err")
pid=$!
read -r -t 10 line <&8
kill -TERM "$pid"; wait "$pid"; pid=""
check "listening on 0.0.0.0 without a token warns that the admin API is open" \
  'grep -q "warning: listening on 0.0.0.0 without --admin-token" "$tmp/open.err"'

# --log-format json: one JSON object per request on stderr.
exec 4< <(exec "$bin" --port 0 --log-format json 2>"$tmp/stderr.json")
pid=$!
read -r -t 10 line <&4
curl -s -o /dev/null "http://127.0.0.1:${line##*:}/v3/pay/transactions/out-trade-no/abc123?mchid=1230000109"
kill -TERM "$pid"; wait "$pid"; pid=""
check "--log-format json logs a JSON line per request" \
  'grep -q "^{\"peer\":\"127.0.0.1:[0-9]*\",\"method\":\"GET\",.*\"status\":401,\"code\":\"SIGN_ERROR\"" "$tmp/stderr.json"'

tap_summary
