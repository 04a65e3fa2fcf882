#!/usr/bin/env bash
# wxpay-reverse as a user runs it against a real wxpay-mock: options and
# environment, one exit status per outcome class, --json, -v, and --dry-run
# whose Authorization signature the openssl command line verifies.
#
# Usage: tests/cli/reverse_cli.sh BIN_DIR FIXTURES_DIR
set -u
bin=$1
fx=$2
k=$fx/keys
. "$(dirname "$0")/tap.sh"
rev() { "$bin/wxpay-reverse" "$@"; }

out=$(rev --help); rc=$?
check "--help exits 0 and lists exit statuses" '[ $rc -eq 0 ] && [[ $out == *"Exit status: 0 reversed"* ]]'
out=$(rev --version); rc=$?
check "--version prints the version" '[ $rc -eq 0 ] && [[ $out == "wxpay-reverse "* ]]'
err=$(rev --frobnicate x 2>&1); rc=$?
check "unknown option exits 2 naming it" '[ $rc -eq 2 ] && [[ $err == *"--frobnicate"* ]]'
err=$(rev --mchid 1230000109 2>&1); rc=$?
check "missing OUT_TRADE_NO exits 2" '[ $rc -eq 2 ] && [[ $err == *"OUT_TRADE_NO is required"* ]]'
err=$(rev --mchid 1230000109 --appid wxd678efh567hg6787 abc123 2>&1); rc=$?
check "missing private key exits 2 naming the option" '[ $rc -eq 2 ] && [[ $err == *"--private-key"* ]]'
err=$(rev --mchid 1230000109 --appid wxd678efh567hg6787 --private-key "$tmp/nope.pem" --serial X \
      --platform-cert "$k/wechatpay_cert.pem" abc123 2>&1); rc=$?
check "unreadable key file exits 2 naming the file" '[ $rc -eq 2 ] && [[ $err == *"$tmp/nope.pem"* ]]'
err=$(rev --mchid 1230000109 --appid wxd678efh567hg6787 --private-key "$k/other_key.pem" \
      --merchant-cert "$k/merchant_cert.pem" --platform-cert "$k/wechatpay_cert.pem" abc123 2>&1); rc=$?
check "a library setting error is mapped to its flags" \
  '[ $rc -eq 2 ] && [[ $err == *"does not belong to the merchant private key (--merchant-cert or WXPAY_MERCHANT_CERT)"* ]]'

exec 3< <(exec "$bin/wxpay-mock" --port 0 --quiet)
pid=$!
read -r -t 10 line <&3
base="http://127.0.0.1:${line##*:}"
common=(--base-url "$base" --mchid 1230000109 --appid wxd678efh567hg6787
        --private-key "$k/merchant_key.pem" --merchant-cert "$k/merchant_cert.pem"
        --wechatpay-public-key "$k/wechatpay_pub.pem"
        --wechatpay-serial PUB_KEY_ID_01123000010920261128000000000001)

out=$(rev "${common[@]}" paid_cli_0001); rc=$?
check "paid order: exit 0, says reversed" '[ $rc -eq 0 ] && [[ $out == "reversed paid_cli_0001 "* ]]'
err=$(rev "${common[@]}" closed_cli_0001 2>&1 >/dev/null); rc=$?
check "closed order: exit 3 with the code" '[ $rc -eq 3 ] && [[ $err == *ORDER_CLOSED* ]]'
err=$(rev "${common[@]}" badsig_cli_0001 2>&1 >/dev/null); rc=$?
check "bad answer signature: exit 4" '[ $rc -eq 4 ] && [[ $err == *verification* ]]'
err=$(rev "${common[@]}" unknownserial_cli_1 2>&1 >/dev/null); rc=$?
check "unknown answer serial: exit 4" '[ $rc -eq 4 ]'
err=$(rev "${common[@]}" malformed_cli_0001 2>&1 >/dev/null); rc=$?
check "malformed answer: exit 5" '[ $rc -eq 5 ]'
err=$(rev "${common[@]}" --timeout 0.3 --retries 0 hang_cli_0001 2>&1 >/dev/null); rc=$?
check "hang past the timeout with no retries: exit 6" '[ $rc -eq 6 ] && [[ $err == *"no answer in time"* ]]'
err=$(rev "${common[@]}" -v syserr_cli_0001 2>&1 >/dev/null); rc=$?
check "-v shows each attempt, SYSTEM_ERROR then success" \
  '[ $rc -eq 0 ] && [[ $err == *"attempt 1:"*"SYSTEM_ERROR"*"retrying in"*"attempt 2:"* ]]'

out=$(rev "${common[@]}" --json notfound_cli_01); rc=$?
check "--json: one object with outcome, code and exit status" \
  '[ $rc -eq 3 ] && [[ $out == *"\"outcome\":\"business_error\""* ]] && [[ $out == *"\"code\":\"ORDER_NOT_EXIST\""* ]] && [[ $out == *"\"exit_status\":3"* ]]'
out=$(rev "${common[@]}" --json paid_cli_0002); rc=$?
check "--json on success" '[ $rc -eq 0 ] && [[ $out == *"\"outcome\":\"reversed\""* ]] && [[ $out == *"\"attempts\":1"* ]]'

out=$(env WXPAY_BASE_URL="$base" WXPAY_MCHID=1230000109 WXPAY_APPID=wxd678efh567hg6787 \
      WXPAY_PRIVATE_KEY="$k/merchant_key.pem" WXPAY_SERIAL=3775B6A45ACD588826D15E583A95F5DD00000001 \
      WXPAY_PLATFORM_CERT="$k/wechatpay_cert.pem" WXPAY_WECHATPAY_PUBLIC_KEY="$k/wechatpay_pub.pem" \
      WXPAY_WECHATPAY_SERIAL=PUB_KEY_ID_01123000010920261128000000000001 \
      WXPAY_OUT_TRADE_NO=paid_env_0001 "$bin/wxpay-reverse"); rc=$?
check "every setting from WXPAY_* variables" '[ $rc -eq 0 ] && [[ $out == "reversed paid_env_0001 "* ]]'

out=$("$bin/wxpay-example" "$base" "$fx"); rc=$?
check "the library example (docs/clients.md) runs (sync, chain, async)" \
  '[ $rc -eq 0 ] && [[ $out == *"sync: reversed paid_example_1"* ]] && [[ $out == *"ORDER_CLOSED"* ]]'

# The APIv3 key instead of a WeChat Pay key: the certificates are downloaded.
apiv3=TESTONLYwxpaymockAPIv3key0000001
bare=(--base-url "$base" --mchid 1230000109 --appid wxd678efh567hg6787
      --private-key "$k/merchant_key.pem" --merchant-cert "$k/merchant_cert.pem")
out=$(rev "${bare[@]}" --apiv3-key $apiv3 paid_cli_pk01 2>&1); rc=$?
check "--apiv3-key against a public-key mock: exit 3, NOT_FOUND from the download" \
  '[ $rc -eq 3 ] && [[ $out == *"platform certificate download"*NOT_FOUND* ]]'
curl -s -X PUT "$base/__admin/wechatpay" -d '{"mode":"certificate"}' >/dev/null
err=$(WXPAY_APIV3_KEY=$apiv3 rev -v "${bare[@]}" paid_cli_dl01 2>&1); rc=$?
check "WXPAY_APIV3_KEY alone: certificates downloaded, then reversed" \
  '[ $rc -eq 0 ] && [[ $err == *"downloaded 1 platform certificate"* ]]'
curl -s -X PUT "$base/__admin/wechatpay" -d '{"certificates_script":["tampered_ciphertext"]}' >/dev/null
out=$(rev "${bare[@]}" --apiv3-key $apiv3 --json paid_cli_dl02); rc=$?
check "a tampered download: exit 4, never trusted" \
  '[ $rc -eq 4 ] && [[ $out == *"\"verify_error\":\"AES-256-GCM authentication failed\""* ]]'
err=$(rev "${bare[@]}" --apiv3-key short paid_cli_dl03 2>&1); rc=$?
check "a short APIv3 key exits 2 naming the flag" \
  '[ $rc -eq 2 ] && [[ $err == *"exactly 32"*"(--apiv3-key or WXPAY_APIV3_KEY)"* ]]'
err=$(rev "${bare[@]}" paid_cli_dl04 2>&1); rc=$?
check "no WeChat Pay key and no APIv3 key exits 2 naming the options" \
  '[ $rc -eq 2 ] && [[ $err == *"--apiv3-key"* ]]'

kill -TERM "$pid"; wait "$pid"; pid=""

# HTTPS with the test CA, the SDKs' hard-coded host pinned to the mock.
tls=$fx/tls
exec 5< <(exec "$bin/wxpay-mock" --port 0 --quiet --tls-cert "$tls/server_cert.pem" --tls-key "$tls/server_key.pem")
pid=$!
read -r -t 10 line <&5
check "--tls-cert serves https" '[[ $line == "wxpay-mock listening on https://127.0.0.1:"* ]]'
port=${line##*:}
host=api.mch.weixin.qq.com
tlsargs=("${common[@]}" --base-url "https://$host:$port" --ca-file "$tls/ca_cert.pem" --resolve "$host:$port:127.0.0.1")
out=$(rev "${tlsargs[@]}" paid_tls_0001); rc=$?
check "reverse over https to api.mch.weixin.qq.com pinned with --resolve" '[ $rc -eq 0 ] && [[ $out == "reversed paid_tls_0001 "* ]]'
out=$(curl -s --cacert "$tls/ca_cert.pem" --resolve "$host:$port:127.0.0.1" "https://$host:$port/__admin/health"); rc=$?
check "curl --resolve reaches the mock as $host" '[ $rc -eq 0 ] && [[ $out == *"\"status\":\"ok\""* ]]'
curl -s --cacert "$tls/ca_cert.pem" --resolve "other.test:$port:127.0.0.1" "https://other.test:$port/__admin/health" >/dev/null 2>&1; rc=$?
check "a name outside the certificate is refused (curl exit 60)" '[ $rc -eq 60 ]'
err=$(rev "${tlsargs[@]}" --retries 0 --ca-file "$k/other_cert.pem" paid_tls_0002 2>&1); rc=$?
check "an untrusted certificate is a transport failure (exit 6)" '[ $rc -eq 6 ] && [[ $err == *certificate* ]]'
# TLS 1.2 and 1.3 only, forward-secret AEAD suites only: each refusal proved
# by the openssl command line (SECLEVEL=0 lets the client offer old ones).
tls_ok() { timeout 10 openssl s_client -connect "127.0.0.1:$port" "$@" -brief </dev/null 2>&1 | grep -q "CONNECTION ESTABLISHED"; }
check "TLS 1.0 is refused" '! tls_ok -tls1 -cipher "DEFAULT:@SECLEVEL=0"'
check "TLS 1.1 is refused" '! tls_ok -tls1_1 -cipher "DEFAULT:@SECLEVEL=0"'
check "a static-RSA suite is refused (AES128-GCM-SHA256)" '! tls_ok -tls1_2 -cipher AES128-GCM-SHA256'
check "a CBC suite is refused (ECDHE-RSA-AES128-SHA256)" '! tls_ok -tls1_2 -cipher ECDHE-RSA-AES128-SHA256'
check "TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 is served" 'tls_ok -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256'
check "TLS 1.3 is served" 'tls_ok -tls1_3'

kill -TERM "$pid"; wait "$pid"; pid=""

out=$(rev "${bare[@]}" --dry-run --timestamp 1554208460 --nonce 593BEC0C930BF1AFEB40B4A08C8FB242 abc123); rc=$?
check "--dry-run needs no WeChat Pay key" '[ $rc -eq 0 ] && [[ $out == "POST "* ]] && [[ $out != *Wechatpay-Serial* ]]'

# --dry-run: nothing is sent (the mock is gone), the signature is checked by openssl.
dry=(--dry-run --timestamp 1554208460 --nonce 593BEC0C930BF1AFEB40B4A08C8FB242 1217752501201407033233368018)
out=$(rev "${common[@]}" "${dry[@]}"); rc=$?
again=$(rev "${common[@]}" "${dry[@]}")
check "--dry-run exits 0 without a server and is reproducible" '[ $rc -eq 0 ] && [ "$out" = "$again" ]'
check "--dry-run prints the request line" \
  '[[ $(printf "%s\n" "$out" | head -1) == "POST $base/v3/pay/transactions/out-trade-no/1217752501201407033233368018/reverse" ]]'
body=$(printf '%s\n' "$out" | tail -1)
check "--dry-run prints the body" '[ "$body" = "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\"}" ]'
sig=$(printf '%s\n' "$out" | sed -n 's/^Authorization: .*signature="\([^"]*\)".*/\1/p')
printf 'POST\n%s\n%s\n%s\n%s\n' /v3/pay/transactions/out-trade-no/1217752501201407033233368018/reverse \
  1554208460 593BEC0C930BF1AFEB40B4A08C8FB242 "$body" > "$tmp/msg"
printf '%s' "$sig" | openssl base64 -d -A > "$tmp/sig"
openssl x509 -in "$k/merchant_cert.pem" -noout -pubkey > "$tmp/pub"
v=$(openssl dgst -sha256 -verify "$tmp/pub" -signature "$tmp/sig" "$tmp/msg" 2>&1)
check "--dry-run Authorization signature verifies with openssl" '[ "$v" = "Verified OK" ]'
check "--dry-run signature equals the openssl-made vector" '[ "$sig" = "$(cat "$fx/vectors/post_reverse.sig")" ]'

tap_summary
