#!/usr/bin/env bash
# A whole wxpay-mock session under valgrind memcheck: start, every scenario
# of the catalogue through wxpay-reverse, admin calls, HTTPS-free faults,
# SIGTERM. Passes only with exit status 0 and no memory error or leak.
#
# Usage: tests/cli/valgrind_mock.sh BIN_DIR FIXTURES_DIR
set -u
bin=$1
fx=$(cd "$2" && pwd)
k=$fx/keys
if ! command -v valgrind >/dev/null 2>&1; then
  echo "SKIPPED: valgrind not installed"
  exit 77
fi
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

exec 3< <(exec valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect --error-exitcode=1 --log-file="$tmp/vg.log" \
            "$bin/wxpay-mock" --port 0 --quiet --journal-file "$tmp/journal.jsonl")
pid=$!
read -r -t 60 line <&3 || { echo "mock did not start under valgrind"; cat "$tmp/vg.log"; exit 1; }
base="http://${line##*http://}"
echo "$line (under valgrind)"

client=("$bin/wxpay-reverse" --base-url "$base" --timeout 8 --retries 1
        --mchid 1230000109 --appid wxd678efh567hg6787
        --private-key "$k/merchant_key.pem" --merchant-cert "$k/merchant_cert.pem"
        --wechatpay-public-key "$k/wechatpay_pub.pem"
        --wechatpay-serial PUB_KEY_ID_01123000010920261128000000000001)
n=0
while IFS=$'\t' read -r otn _; do
  case "$otn" in ''|'#'*) continue ;; esac
  "${client[@]}" "vg_$otn" >/dev/null 2>&1 || true   # prefix vg_: plain orders
  "${client[@]}" "$otn" >/dev/null 2>&1 || true      # the scenario itself
  n=$((n + 2))
done < "$fx/scenarios.tsv"
curl -s -X PUT "$base/__admin/orders/vg_script_01" \
  -d '{"trade_state":"SUCCESS","script":["system_error",{"action":"delay","ms":50,"apply":"after"},"drop","param_error"]}' >/dev/null
for _ in 1 2 3 4 5; do "${client[@]}" --retries 0 vg_script_01 >/dev/null 2>&1 || true; done
curl -s "$base/__admin/journal?out_trade_no=vg_script_01" >/dev/null
curl -s "$base/v3/pay/transactions/out-trade-no/%7Bout_trade_no%7D/reverse" -X POST -d x >/dev/null
curl -s -X POST "$base/__admin/reset" >/dev/null

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=""
echo "valgrind exit status $rc after $n client runs; $(wc -l < "$tmp/journal.jsonl") requests journaled"
if [ $rc -ne 0 ] || [ -s "$tmp/vg.log" ]; then
  cat "$tmp/vg.log"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"
