#!/usr/bin/env bash
# wxpay-conform as a CI pipeline runs it: the reference client passes every
# case; clients broken on purpose (tests/conform/shell_client.sh with
# CLIENT_BUG) fail exactly the cases they should, with the right reason; the
# JUnit and JSON reports say the same.
#
# Usage: tests/cli/conform_cli.sh BIN_DIR SOURCE_DIR
set -u
bin=$1
src=$2
conform=$bin/wxpay-conform
shell_client=$src/tests/conform/shell_client.sh
. "$(dirname "$0")/tap.sh"
# Every program says its version in one line: the one in CMakeLists.txt.
ver=$(sed -n 's/^project([a-z_]* VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
for p in wxpay-mock wxpay-reverse wxpay-pay wxpay-conform wxpay-bench; do
  out=$("$bin/$p" --version); rc=$?
  check "$p --version prints \"$p $ver\" and exits 0" '[ $rc -eq 0 ] && [ "$out" = "$p $ver" ] && [ -n "$ver" ]'
  check "... and --help lists it" '"$bin/$p" --help | grep -q -- "--version"'
done

# The names of the failed cases, from the table, sorted.
failed_cases() { awk '$2 == "FAIL" && NF > 4 {print $1}' "$1" | sort | tr '\n' ' '; }

out=$("$conform" --help); rc=$?
check "--help exits 0" '[ $rc -eq 0 ] && [[ $out == *"Usage: wxpay-conform"* ]]'
out=$("$conform" --list); rc=$?
check "--list names the cases" '[ $rc -eq 0 ] && [ "$(wc -l <<<"$out")" -ge 22 ] && [[ $out == *system_error_is_retried* ]]'
err=$("$conform" --case no_such_case -- true 2>&1); rc=$?
check "unknown --case exits 2" '[ $rc -eq 2 ] && [[ $err == *no_such_case* ]]'
err=$("$conform" --frob -- true 2>&1); rc=$?
check "unknown option exits 2" '[ $rc -eq 2 ] && [[ $err == *--frob* ]]'
err=$("$conform" 2>&1); rc=$?
check "no client command exits 2" '[ $rc -eq 2 ] && [[ $err == *"after --"* ]]'

"$conform" --strict-exit-codes --junit "$tmp/ref.xml" --json "$tmp/ref.json" -- "$bin/wxpay-reverse" > "$tmp/ref.out" 2>&1; rc=$?
check "wxpay-reverse passes every case with strict exit codes" '[ $rc -eq 0 ] && grep -q "^22 passed, 0 failed" "$tmp/ref.out"'
check "progress line per case" '[ "$(grep -c "^\[[0-9]*/22\] " "$tmp/ref.out")" -eq 22 ]'
check "JUnit report: 22 testcases, 0 failures" \
  'grep -q "<testsuite name=\"wxpay-conform\" tests=\"22\" failures=\"0\"" "$tmp/ref.xml" && [ "$(grep -c "<testcase " "$tmp/ref.xml")" -eq 22 ]'
check "JSON report counts" 'grep -q "\"passed\":	22" "$tmp/ref.json" && grep -q "\"failed\":	0" "$tmp/ref.json"'

# The bash client uses fixed keys only: it leaves out the download cases...
"$conform" --strict-exit-codes --skip-group certificates -- bash "$shell_client" > "$tmp/sh.out" 2>&1; rc=$?
check "a correct client in bash passes every case but the download group" '[ $rc -eq 0 ] && grep -q "^19 passed, 0 failed" "$tmp/sh.out"'
# ... and fails them, each saying why, when it does not leave them out.
"$conform" --case certificates_downloaded_with_apiv3_key --case tampered_certificates_not_trusted \
  -- bash "$shell_client" > "$tmp/cd.out" 2>&1; rc=$?
check "a client that cannot download fails the download cases, told to use WXPAY_APIV3_KEY" \
  '[ $rc -eq 1 ] && [ "$(grep -c "only WXPAY_APIV3_KEY, and must GET /v3/certificates" "$tmp/cd.out")" -eq 2 ]'
err=$("$conform" --skip-group certificate -- true 2>&1); rc=$?
check "--skip-group of no group exits 2 naming it" '[ $rc -eq 2 ] && [[ $err == *"no case is in that group"*certificate* ]]'

CLIENT_BUG=no-final-newline "$conform" --skip-group certificates --junit "$tmp/nl.xml" -- bash "$shell_client" > "$tmp/nl.out" 2>&1; rc=$?
check "signing without the final newline fails every case (exit 1)" '[ $rc -eq 1 ] && grep -q "^0 passed, 19 failed" "$tmp/nl.out"'
check "... and each says the message lacks the final \\n" \
  '[ "$(grep -c "signature check (SIGN_ERROR): signature does not verify: the signed message lacks the final" "$tmp/nl.out")" -eq 19 ]'
check "... and the JUnit failure carries the mock's diagnostic" \
  'grep -q "<failure message=\"request 1 was rejected" "$tmp/nl.xml" && grep -q "final_newline_missing" "$tmp/nl.xml"'

CLIENT_BUG=no-retry "$conform" --skip-group certificates -- bash "$shell_client" > "$tmp/nr.out" 2>&1; rc=$?
want="dropped_connection_is_retried frequency_limited_is_retried gateway_page_is_retried system_error_is_retried timeout_is_retried_and_ends_reversed "
check "a client that never retries fails exactly the retry cases" '[ $rc -eq 1 ] && [ "$(failed_cases "$tmp/nr.out")" = "$want" ]'
check "... each saying it should have retried" '[ "$(grep -c "should have retried" "$tmp/nr.out")" -eq 5 ]'

CLIENT_BUG=trust-anything "$conform" --skip-group certificates -- bash "$shell_client" > "$tmp/ta.out" 2>&1; rc=$?
want="bad_signature_is_not_trusted malformed_answer_is_not_trusted query_answer_is_not_a_reverse_answer signtest_probe_is_not_trusted stale_answer_is_not_trusted unknown_serial_is_not_trusted unsigned_answer_is_not_trusted "
check "a client that trusts any answer fails exactly the verification cases" '[ $rc -eq 1 ] && [ "$(failed_cases "$tmp/ta.out")" = "$want" ]'
check "... each saying it reported success on an untrusted answer" '[ "$(grep -c "reported success (exit 0) on an answer it must not trust" "$tmp/ta.out")" -eq 7 ]'

"$conform" --case closed_order_is_not_retried --case-timeout 5 -- sleep 30 > "$tmp/sl.out" 2>&1; rc=$?
check "a client that hangs is stopped after --case-timeout" '[ $rc -eq 1 ] && grep -q "did not finish within 5 s" "$tmp/sl.out"'

# --flow pay: POS clients.
"$conform" --flow pay --junit "$tmp/pay.xml" -- "$bin/wxpay-pay" > "$tmp/pay.out" 2>&1; rc=$?
check "--flow pay: wxpay-pay passes every POS case" '[ $rc -eq 0 ] && grep -q "^9 passed, 0 failed" "$tmp/pay.out"'
"$conform" --flow pay --case paid_at_once --case userpaying_then_paid_is_polled \
  -- "$bin/wxpay-reverse" > "$tmp/pr.out" 2>&1; rc=$?
check "--flow pay: a client that never pays fails, told to send a codepay" \
  '[ $rc -eq 1 ] && [ "$(grep -c "sent no codepay" "$tmp/pr.out")" -eq 2 ]'
"$conform" --flow pay --case paid_at_once -- sh -c '"$0" >/dev/null; exec "$0"' "$bin/wxpay-pay" > "$tmp/p2.out" 2>&1; rc=$?
check "--flow pay: paying twice with one out_trade_no fails" '[ $rc -eq 1 ] && grep -q "2 codepay requests for one out_trade_no" "$tmp/p2.out"'
"$conform" --flow pay -- env WXPAY_PAY_TIMEOUT=0.3 "$bin/wxpay-pay" > "$tmp/pe.out" 2>&1; rc=$?
want="no_answer_paid_is_found_by_a_query no_answer_unpaid_is_reversed userpaying_forever_is_reversed_at_the_timeout userpaying_then_paid_is_polled "
check "--flow pay: a client that gives up after 0.3 s fails exactly the cases where the user was slow" \
  '[ $rc -eq 1 ] && [ "$(failed_cases "$tmp/pe.out")" = "$want" ] && grep -q "s after the codepay, before WXPAY_PAY_TIMEOUT" "$tmp/pe.out"'
err=$("$conform" --flow refund -- true 2>&1); rc=$?
check "--flow of another kind exits 2 naming it" '[ $rc -eq 2 ] && [[ $err == *refund* ]]'

# A running mock guarded by an admin token: --admin-token lets the runner in.
exec 3< <(WXPAY_MOCK_ADMIN_TOKEN=s3cret exec "$bin/wxpay-mock" --port 0 --quiet)
pid=$!
read -r -t 10 line <&3
murl="http://127.0.0.1:${line##*:}"
"$conform" --mock-url "$murl" --case unpaid_order_is_closed -- "$bin/wxpay-reverse" > "$tmp/tok0.out" 2>&1; rc0=$?
"$conform" --mock-url "$murl" --admin-token s3cret --case unpaid_order_is_closed -- "$bin/wxpay-reverse" > "$tmp/tok1.out" 2>&1; rc1=$?
kill -TERM "$pid"; wait "$pid"; pid=""
check "--admin-token reaches a mock that wants one (and without it the case fails)" \
  '[ $rc1 -eq 0 ] && grep -q "^1 passed, 0 failed" "$tmp/tok1.out" && [ $rc0 -ne 0 ]'

# A case that sets the mock's keys puts them back afterwards.
exec 3< <(exec "$bin/wxpay-mock" --port 0 --quiet)
pid=$!
read -r -t 10 line <&3
murl="http://127.0.0.1:${line##*:}"
"$conform" --mock-url "$murl" --case tampered_certificates_not_trusted --case rotation_after_download_is_followed \
  -- "$bin/wxpay-reverse" > "$tmp/rs.out" 2>&1; rc=$?
keys=$(curl -s "$murl/__admin/wechatpay")
kill -TERM "$pid"; wait "$pid"; pid=""
check "the key cases pass against a running mock and leave its keys as they were" \
  '[ $rc -eq 0 ] && [[ $keys == *"\"mode\":\"public_key\""* ]] && [[ $keys == *"\"certificates_script\":[]"* ]] &&
   [[ $keys == *"\"signing_serial\":\"PUB_KEY_ID_"* ]] && [[ $keys == *"\"listed\":false"* ]]'

tap_summary
