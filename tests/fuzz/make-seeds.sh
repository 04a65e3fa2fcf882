#!/usr/bin/env bash
# Writes the seed corpus of every fuzz target into tests/fuzz/corpus/<target>/
# from the known-answer vectors, the fixtures and the bad inputs the unit
# tests know. Safe to run again (it rewrites the seed-* files only); files the
# fuzzer adds are kept.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
c=$top/tests/fuzz/corpus
v=$top/fixtures/vectors
n=0
seed() { # seed TARGET CONTENT (printf format, no arguments)
  mkdir -p "$c/$1"
  n=$((n + 1))
  printf "$2" > "$c/$1/seed-$(printf %03d $n)"
}
raw() { mkdir -p "$c/$1"; n=$((n + 1)); cat > "$c/$1/seed-$(printf %03d $n)"; }
rm -f "$c"/*/seed-*

S='WECHATPAY2-SHA256-RSA2048 '
sig=$(cat "$v/post_reverse.sig")
raw auth < <(printf '%smchid="1230000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",serial_no="3775B6A45ACD588826D15E583A95F5DD00000001",signature="%s"' "$S" "$sig")
seed auth "${S}mchid=\"1230000109\",serial_no=\"3775B6A45ACD588826D15E583A95F5DD00000001\",timestamp=\"1554208460\",nonce_str=\"abc\",signature=\"dGVzdA==\""
seed auth "${S}mchid=\"1230000109\",nonce_str=\"abc\",timestamp=\"1554208460000\",serial_no=\"X\",signature=\"x\""
seed auth "${S}mchid=1230000109,nonce_str=\"abc\""
seed auth "${S}mchid=\"1230000109\",mchid=\"1\",signature=\"WECHATPAY/SIGNTEST/abc\""
seed auth "wechatpay2-sha256-rsa2048 mchid=\"1\""
seed auth "${S}mchid=\"1230000109\", nonce_str=\"abc\",extra=\"1\""
seed auth "${S}signature=\"unterminated"

for name in response_body response_empty; do
  raw response < <({ cat "$v/$name.msg" | head -2; cat "$v/$name.sig"; printf '\n%s\n' PUB_KEY_ID_01123000010920261128000000000001; cat "$v/$name.body"; })
done
raw response < <({ printf '1554209980\nnonce\nWECHATPAY/SIGNTEST/OWI3MWVhYzc2NDRhNmUzY2I3ZmM3NTk4ZjY4OGNiODc=\n5157F09EFDC096DE15EBE81A47057A7200000002\n{}'; })
seed response '1554209980000\nnonce\nAAAA\nunknown\n'
seed response '1554209980\n\nZm9v\nPUB_KEY_ID_01123000010920261128000000000001\n{"a":1}'

P=/v3/pay/transactions/out-trade-no
for t in "$P/1217752501201407033233368018/reverse" "$P/ord%%2A2026%%7C01/reverse" "$P/ord*2026|01/reverse" \
         "$P/{out_trade_no}/reverse" "$P/%%7Bout_trade_no%%7D/reverse" "/v3/pay/transactions/outTradeNo/_out_trade_no_/reverse" \
         "$P/ord%%252A/reverse" "$P/a/b/reverse" "$P/abc123/reverse/" "$P//reverse" "/api$P/abc123/reverse" \
         "https://api.mch.weixin.qq.com$P/abc123/reverse" "$P/abc123?mchid=1230000109" "$P/ab%%2Fcd/reverse" "$P/ab%%2Gcd/reverse"; do
  seed template "$t"
done

for f in 1217752501201407033233368018 'ord*2026|01' abc12 wxd678efh567hg6787 1230000109 Zm9vYmFy Zg== 'Zh==' '====' 'a b'; do
  seed fields "$f"
done

raw json < <(cat "$v/post_reverse.body")
raw json < <(cat "$v/response_body.body")
seed json '{"code":"SIGN_ERROR","message":"m","detail":{"field":"signature","sign_information":{"method":"POST"}}}'
seed json '{"code":"PARAM_ERROR","detail":{"location":"uri_template","value":""},"message":"x"}'
seed json '<html><body>502 Bad Gateway</body></html>'
seed json '{"appid":1,"mchid":[1],"code":null,"message":{}}'
seed json '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'
seed json '{"appid":"a","appid":"b","mchid":"1"}'

raw config < <(cat "$top/fixtures/mock.json")
raw config < <(sed 's/"mode": "public_key"/"mode": "certificate"/' "$top/fixtures/mock.json")
seed config '{"merchants":[{"mchid":"12x"}]}'
seed config '{"merchants":[{"mchid":"1230000109","certificate":"keys/merchant_cert.pem","appids":["wx1"]}],"wechatpay":{"private_key":"keys/ec_key.pem","public_key_id":"PUB_KEY_ID_01"}}'
seed config '{"verbose":true}'

seed script '["system_error",{"action":"delay","ms":1500,"apply":"before"},"hang","drop","param_error"]'
seed script '[{"action":"explode"}]'
seed script '{"trade_state":"SUCCESS","amount":2500,"age_seconds":10,"script":["bad_signature","signtest","unsigned"]}'
seed script '{"trade_state":"PAID"}'
seed script '{"trade_state":"REVOKED","colour":"red"}'

B='{"appid":"wxd678efh567hg6787","mchid":"1230000109"}'
H='Accept: application/json\nContent-Type: application/json\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n'
for o in plain_fuzz_1 paid_fuzz_01 closed_fuzz_1 expired_fuzz_1 notfound_fz1 syserr_fuzz_1 ratelimit_fz1 slow_fuzz_01 late_fuzz_01 \
         hang_fuzz_01 drop_fuzz_01 dropapplied_f1 badsig_fuzz_1 signtest_fz_1 unsigned_fz_1 skewed_fuzz_1 unknownserial1 malformed_fz1 gateway_fuzz1 'ord%%2A2026'; do
  seed handler "POST $P/$o/reverse\n$H$B"
done
seed handler "GET $P/paid_fuzz_01?mchid=1230000109\nAccept: */*\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n"
seed handler "PUT /__admin/orders/admin_fuzz_1\n\n{\"trade_state\":\"SUCCESS\",\"amount\":300,\"script\":[\"system_error\",{\"action\":\"delay\",\"ms\":5,\"apply\":\"after\"},\"drop\"]}"
seed handler "GET /__admin/journal?out_trade_no=paid_fuzz_01\n\n"
seed handler "POST /__admin/reset\n\n"
seed handler "PUT /__admin/wechatpay\n\n{\"mode\":\"certificate\",\"listed_serials\":[\"5157F09EFDC096DE15EBE81A47057A7200000002\",\"4E0D6A5B3C2F1E0D9C8B7A6F5E4D3C2B00000004\"],\"certificates_script\":[\"tampered_ciphertext\",\"rotate_certificate\",\"bad_signature\"]}"
seed handler "GET /v3/certificates\nAccept: application/json\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n"
seed handler "GET /v3/certificates?algorithm_type=ALL\nAccept: application/json\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n"
seed handler "GET /v3/certificates?algorithm_type=SM3&x=1\nAccept: application/json\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n"
C='{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"d","out_trade_no":"pay_fuzz_01","payer":{"auth_code":"130000000000000002"},"amount":{"total":1,"currency":"CNY"},"scene_info":{"store_info":{"out_id":"1"}}}'
seed handler "POST /v3/pay/transactions/codepay\nAccept: application/json\nContent-Type: application/json\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n${C//\"/\\\"}"
seed handler "POST /v3/pay/transactions/codepay\nAccept: application/json\nContent-Type: application/json\nUser-Agent: fuzz\nWechatpay-Negative-Test: no_answer\nAuthorization: @SIGN\n\n${C//\"/\\\"}"
seed handler "POST /v3/pay/transactions/out-trade-no/pay_fuzz_01/close\nAccept: application/json\nContent-Type: application/json\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n{\"mchid\":\"1230000109\"}"
seed handler "GET /v3/pay/transactions/id/42000000001795849000000000000001?mchid=1230000109\nAccept: application/json\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n"
seed handler "GET /v3/pay/partner/transactions/out-trade-no/pay_fuzz_01?sp_mchid=1900000100&sub_mchid=1900000109\nAccept: application/json\nUser-Agent: fuzz\nAuthorization: @SIGN\n\n"
seed handler "PUT /__admin/orders/pay_fuzz_02\n\n{\"trade_state\":\"NOTPAY\",\"pay_after_ms\":5,\"trade_type\":\"NATIVE\"}"
seed handler "GET /__admin/catalogue\n\n"
seed handler "PUT /__admin/orders/rot_fuzz_01\n\n{\"trade_state\":\"SUCCESS\",\"script\":[\"rotate_certificate\"]}"
seed handler "POST $P/abc123/reverse\nAccept: application/json\nContent-Type: application/json\nUser-Agent: fuzz\nAuthorization: ${S}mchid=\"1230000109\",nonce_str=\"abc\",timestamp=\"1795849000\",serial_no=\"3775B6A45ACD588826D15E583A95F5DD00000001\",signature=\"dGVzdA==\"\n\n$B"
seed handler "POST /v3/pay/transactions/outTradeNo/abc123/reverse\n\n$B"
seed handler "DELETE $P/abc123/reverse\n\n"

seed client_answer "200\nRequest-ID: r1\nWechatpay-Timestamp: 0\nWechatpay-Nonce: n1\nWechatpay-Serial: PUB_KEY_ID_01123000010920261128000000000001\nWechatpay-Signature: @SIGN\nContent-Type: application/json\n\n{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\",\"out_trade_no\":\"1217752501201407033233368018\"}"
seed client_answer "200\nWechatpay-Timestamp: 0\nWechatpay-Nonce: n1\nWechatpay-Serial: PUB_KEY_ID_01123000010920261128000000000001\nWechatpay-Signature: @SIGN\n\n{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\",\"out_"
seed client_answer "200\nWechatpay-Timestamp: 0\nWechatpay-Nonce: n1\nWechatpay-Serial: PUB_KEY_ID_01123000010920261128000000000001\nWechatpay-Signature: @SIGN\n\n{\"appid\":\"x\",\"mchid\":\"1230000109\",\"out_trade_no\":\"other_order_1\"}"
seed client_answer "500\nContent-Type: application/json\n\n{\"code\":\"SYSTEM_ERROR\",\"message\":\"m\"}"
seed client_answer "502\nContent-Type: text/html\n\n<html>502</html>"
seed client_answer "200\n\n{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\",\"out_trade_no\":\"1217752501201407033233368018\"}"
seed client_answer "404\nRequest-ID: r2\n\n{\"code\":\"ORDER_NOT_EXIST\",\"message\":\"m\",\"detail\":{\"x\":1}}"
echo "seeds: $n files in $c"
