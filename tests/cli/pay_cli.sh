#!/usr/bin/env bash
# wxpay-pay as a POS runs it against a real wxpay-mock: every magic auth
# code ends as a POS must end it (paid, declined, or reversed after polling
# within the timeout, never paid twice), in the direct and the partner
# form, with --json and exit statuses scripts can test.
#
# Usage: tests/cli/pay_cli.sh BIN_DIR FIXTURES_DIR
set -u
bin=$1
fx=$2
k=$fx/keys
. "$(dirname "$0")/tap.sh"
pay() { "$bin/wxpay-pay" "$@"; }

out=$(pay --help); rc=$?
check "--help exits 0 and names the exit statuses" '[ $rc -eq 0 ] && [[ $out == *"7 not paid"* ]] && [[ $out == *--poll-interval* ]]'
out=$(pay --version); rc=$?
check "--version prints the version" '[ $rc -eq 0 ] && [[ $out == "wxpay-pay "* ]]'
err=$(pay --mchid 1 --amount 1 order_0001 2>&1); rc=$?
check "no auth code exits 2 naming --auth-code" '[ $rc -eq 2 ] && [[ $err == *"--auth-code"* ]]'
err=$(pay --auth-code 130000000000000001 --amount 1.5 order_0001 2>&1); rc=$?
check "a fractional amount exits 2" '[ $rc -eq 2 ] && [[ $err == *"whole fen"* ]]'

exec 3< <(exec "$bin/wxpay-mock" --port 0 --quiet)
pid=$!
read -r -t 10 line <&3
base="http://127.0.0.1:${line##*:}"
export WXPAY_BASE_URL=$base WXPAY_MCHID=1230000109 WXPAY_APPID=wxd678efh567hg6787 \
  WXPAY_PRIVATE_KEY=$k/merchant_key.pem WXPAY_MERCHANT_CERT=$k/merchant_cert.pem \
  WXPAY_WECHATPAY_PUBLIC_KEY=$k/wechatpay_pub.pem \
  WXPAY_WECHATPAY_SERIAL=PUB_KEY_ID_01123000010920261128000000000001 \
  WXPAY_TIMEOUT=1 WXPAY_POLL_INTERVAL=0.2 WXPAY_PAY_TIMEOUT=2

n=0
# flow CODE [EXTRA ARGS...]: runs one payment on a fresh order whose
# USERPAYING lasts 500 ms; sets out, rc, otn.
flow() {
  local code=$1; shift
  n=$((n + 1)); otn=pos_cli_$$_$n
  curl -s -X PUT "$base/__admin/orders/$otn" -d '{"trade_state":"NOTPAY","pay_after_ms":500}' >/dev/null
  out=$(pay --json --auth-code "$code" --amount 100 "$@" "$otn" 2>/dev/null); rc=$?
}
field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" <<<"$out"; }
# requests the mock journaled for the order, as "endpoint ..." in order
calls() { curl -s "$base/__admin/journal?out_trade_no=$otn" | grep -o '"endpoint":"[a-z_]*"' | cut -d'"' -f4 | tr '\n' ' '; }

flow 130000000000000001
check "paid at once: exit 0, one codepay" '[ $rc -eq 0 ] && [ "$(field outcome)" = paid ] && [ "$(calls)" = "codepay " ]'
flow 130000000000000002
check "USERPAYING then paid: polled, never paid twice, exit 0" \
  '[ $rc -eq 0 ] && [ "$(field outcome)" = paid ] && [[ $(calls) == "codepay query "* ]] && [[ $(calls) != *"codepay codepay"* ]] && [[ $(calls) != *reverse* ]]'
flow 130000000000000003
check "USERPAYING then cancelled: reversed, exit 7" '[ $rc -eq 7 ] && [ "$(field outcome)" = reversed ] && [[ $(calls) == *"query reverse " ]]'
t0=$(date +%s%N)
flow 130000000000000004
t1=$(date +%s%N)
check "USERPAYING for ever: reversed after --pay-timeout (2 s), not before" \
  '[ $rc -eq 7 ] && [ $(( (t1 - t0) / 1000000 )) -ge 2000 ] && [[ $(calls) == *reverse* ]]'
o=$(curl -s "$base/__admin/orders/$otn")
check "... and the order is REVOKED with no refund" '[[ $o == *"\"trade_state\":\"REVOKED\""* ]] && [[ $o == *"\"refund\":null"* ]]'
flow 130000000000000005
check "insufficient funds: declined, exit 3, nothing more sent" '[ $rc -eq 3 ] && [ "$(field outcome)" = declined ] && [ "$(calls)" = "codepay " ]'
flow 130000000000000006
check "invalid code: declined, exit 3" '[ $rc -eq 3 ] && [[ $out == *PARAM_ERROR* ]]'
flow 130000000000000007
check "SYSTEM_ERROR but paid: the query finds it, exit 0, no second codepay" \
  '[ $rc -eq 0 ] && [ "$(field outcome)" = paid ] && [ "$(calls)" = "codepay query " ]'
flow 130000000000000008
check "no answer, never paid: reversed within the window, exit 7" '[ $rc -eq 7 ] && [[ $(calls) == codepay*reverse* ]]'
flow 130000000000000009
check "no answer but paid: found paid by a query, exit 0" '[ $rc -eq 0 ] && [ "$(field outcome)" = paid ]'

# The partner form: the service provider signs for its sub-merchant.
flow 130000000000000002 --mchid 1900000100 --appid wx8888888888888888 --sub-mchid 1900000109 \
  --private-key "$k/sp_key.pem" --merchant-cert "$k/sp_cert.pem"
check "partner form: codepay, queries and the answer checks pass, exit 0" \
  '[ $rc -eq 0 ] && [[ $(calls) == "partner_codepay partner_query"* ]]'
n=$((n + 1)); otn=pos_cli_$$_$n
out=$(pay --json --auth-code 130000000000000004 --amount 100 --pay-timeout 0.5 --mchid 1900000100 \
  --appid wx8888888888888888 --sub-mchid 1900000109 --private-key "$k/sp_key.pem" \
  --merchant-cert "$k/sp_cert.pem" "$otn" 2>/dev/null); rc=$?
check "partner form: a payment that never ends is reversed through the partner path" \
  '[ $rc -eq 7 ] && [[ $(calls) == *partner_reverse* ]]'
kill -TERM "$pid"; wait "$pid"; pid=""

tap_summary
