#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, starts
# wxpay-mock on a free port with the bundled fixtures, runs wxpay-reverse
# through the scenario catalogue (fixtures/scenarios.tsv) and wxpay-pay
# through each magic auth code, prints one row per scenario and flow, stops
# the mock, and exits non-zero if any row differs.
#
# Usage: ci/demo.sh [--no-build]   (--no-build: use the binaries already built)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${1:-}" != "--no-build" ]; then
  ci/deps.sh >/dev/null
  cmake --preset default >/dev/null
  cmake --build --preset default -j "$(nproc)" >/dev/null
fi
bin=${WXPAY_BIN_DIR:-$top/build/bin} # another build's binaries (ctest sets it)
keys=$top/fixtures/keys

tmp=$(mktemp -d)
mock_pid=""
cleanup() {
  if [ -n "$mock_pid" ]; then kill -TERM "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

exec 3< <(exec "$bin/wxpay-mock" --port 0 --quiet --journal-file "$tmp/journal.jsonl" 2>"$tmp/mock.log")
mock_pid=$!
read -r -t 10 line <&3 || { echo "demo: wxpay-mock did not start:" >&2; cat "$tmp/mock.log" >&2; exit 1; }
base="http://${line##*http://}"
echo "$line"

client=("$bin/wxpay-reverse" --json --base-url "$base" --timeout 3 --retries 3
        --mchid 1230000109 --appid wxd678efh567hg6787
        --private-key "$keys/merchant_key.pem" --merchant-cert "$keys/merchant_cert.pem"
        --wechatpay-public-key "$keys/wechatpay_pub.pem"
        --wechatpay-serial PUB_KEY_ID_01123000010920261128000000000001)

field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$2"; }

printf '\n%-20s %-20s %-36s %-8s %-7s %s\n' ORDER EXPECTED OBSERVED ATTEMPTS TIME RESULT
bad=0 n=0
while IFS=$'\t' read -r otn want_outcome want_attempts what; do
  case "$otn" in ''|'#'*) continue ;; esac
  n=$((n + 1))
  t0=$(date +%s%N)
  out=$("${client[@]}" "$otn" 2>/dev/null) || true
  t1=$(date +%s%N)
  got_outcome=$(field outcome "$out")
  got_attempts=$(field attempts "$out")
  code=$(field code "$out")
  shown=$got_outcome
  [ -n "$code" ] && shown="$got_outcome $code"
  verdict=ok
  if [ "$got_outcome" != "$want_outcome" ] || [ "$got_attempts" != "$want_attempts" ]; then
    verdict="DIFFERS"
    bad=$((bad + 1))
  fi
  printf '%-20s %-20s %-36s %-8s %-7s %s  (%s)\n' "$otn" "$want_outcome" "$shown" \
    "${got_attempts:-?}/$want_attempts" "$(( (t1 - t0) / 1000000 ))ms" "$verdict" "$what"
done < fixtures/scenarios.tsv

# The code-payment flow: wxpay-pay, the reference POS client, with each
# magic auth code (the user types the password for 0.6 s when asked).
pos=("$bin/wxpay-pay" --json --base-url "$base" --timeout 1 --poll-interval 0.2 --pay-timeout 2
     --mchid 1230000109 --appid wxd678efh567hg6787
     --private-key "$keys/merchant_key.pem" --merchant-cert "$keys/merchant_cert.pem"
     --wechatpay-public-key "$keys/wechatpay_pub.pem"
     --wechatpay-serial PUB_KEY_ID_01123000010920261128000000000001)
printf '
%-20s %-27s %-10s %-9s %-8s %-11s %-7s %s
' AUTH_CODE CASE EXPECTED OBSERVED QUERIES ORDER TIME RESULT
while IFS=$'\t' read -r code case want; do
  case "$code" in ''|'#'*) continue ;; esac
  n=$((n + 1))
  otn=demo_pos_$n
  curl -s -X PUT "$base/__admin/orders/$otn" -d '{"trade_state":"NOTPAY","pay_after_ms":600}' >/dev/null
  t0=$(date +%s%N)
  out=$("${pos[@]}" --auth-code "$code" --amount 100 "$otn" 2>/dev/null) || true
  t1=$(date +%s%N)
  got=$(field outcome "$out")
  state=$(field trade_state "$(curl -s "$base/__admin/orders/$otn")")
  verdict=ok
  if [ "$got" != "$want" ]; then verdict=DIFFERS; bad=$((bad + 1)); fi
  printf '%-20s %-27s %-10s %-9s %-8s %-11s %-7s %s\n' "$code" "$case" "$want" "${got:-?}" \
    "$(field queries "$out")" "$state" "$(( (t1 - t0) / 1000000 ))ms" "$verdict"
done <<'FLOWS'
130000000000000001	paid	paid
130000000000000002	userpaying_then_paid	paid
130000000000000003	userpaying_then_cancelled	reversed
130000000000000004	userpaying_forever	reversed
130000000000000005	insufficient_funds	declined
130000000000000006	auth_code_invalid	declined
130000000000000007	system_error	paid
130000000000000008	no_answer	reversed
130000000000000009	no_answer_paid	paid
FLOWS

kill -TERM "$mock_pid"; wait "$mock_pid" || true; mock_pid=""
echo
echo "$((n - bad)) passed, $bad failed  (the mock journaled $(wc -l < "$tmp/journal.jsonl") requests)"
[ "$bad" -eq 0 ]
