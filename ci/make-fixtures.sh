#!/usr/bin/env bash
# Regenerates the TEST-ONLY keys in fixtures/keys/ and the known-answer
# vectors in fixtures/vectors/ with the `openssl` command line only, never with
# this project's code, so that the vectors are an independent check of it.
#
# Usage: ci/make-fixtures.sh [keys|vectors|tls|next-platform|service-provider|aead|all]   (default: all)
#
# Keys are random: regenerating them invalidates every vector, so "all" remakes
# both. "vectors" alone re-signs with the keys already committed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
keys="$top/fixtures/keys"
vec="$top/fixtures/vectors"
what=${1:-all}

# Fixed identities (the seed's) and serials. Serials are 40 hex digits whose
# first digit is 1..7, so the X.509 integer is positive and prints with no
# leading zero, which is how the SDKs print it (Go "%X", Java toString(16)).
MCHID=1230000109
APPID=wxd678efh567hg6787
MERCHANT_SERIAL=3775B6A45ACD588826D15E583A95F5DD00000001
PLATFORM_SERIAL=5157F09EFDC096DE15EBE81A47057A7200000002
OTHER_SERIAL=6B1E3A5C7D9F0E2A4B6C8D0E1F2A3B4C00000003
NEXT_PLATFORM_SERIAL=4E0D6A5B3C2F1E0D9C8B7A6F5E4D3C2B00000004
SP_MCHID=1900000100
SP_SERIAL=2F9A8B7C6D5E4F30112233445566778800000005
PUBKEY_ID=PUB_KEY_ID_01123000010920261128000000000001

make_keys() {
  mkdir -p "$keys"
  cd "$keys"
  # Merchant API key (PKCS#8) and its certificate: serial_no in requests.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out merchant_key.pem
  openssl req -new -x509 -key merchant_key.pem -days 7300 -sha256 \
    -set_serial "0x$MERCHANT_SERIAL" \
    -subj "/C=CN/O=wxpay-mock test merchant/OU=$MCHID/CN=$MCHID" -out merchant_cert.pem
  # The same merchant key in PKCS#1 ("BEGIN RSA PRIVATE KEY") form.
  openssl pkey -in merchant_key.pem -traditional -out merchant_key_pkcs1.pem

  # WeChat Pay side: private key (the mock signs with it), public key
  # (public-key mode, id $PUBKEY_ID) and platform certificate (certificate mode).
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wechatpay_key.pem
  openssl pkey -in wechatpay_key.pem -pubout -out wechatpay_pub.pem
  openssl req -new -x509 -key wechatpay_key.pem -days 7300 -sha256 \
    -set_serial "0x$PLATFORM_SERIAL" \
    -subj "/C=CN/O=wxpay-mock test platform/CN=Tenpay.com Root CA test" -out wechatpay_cert.pem

  # Keys for negative tests: an unrelated RSA-2048 key with its certificate,
  # a 1024-bit RSA key and an EC P-256 key (both must be refused).
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other_key.pem
  openssl req -new -x509 -key other_key.pem -days 7300 -sha256 \
    -set_serial "0x$OTHER_SERIAL" \
    -subj "/C=CN/O=wxpay-mock test other/CN=other" -out other_cert.pem
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024_key.pem
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec_key.pem

  printf '%s\n' "$PUBKEY_ID" > wechatpay_pub_id.txt
  cd "$top"
  make_next_platform
  make_service_provider
}

# A service provider (服务商) and its merchant API key and certificate: it
# signs the partner calls of its sub-merchants.
make_service_provider() {
  cd "$keys"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sp_key.pem
  openssl req -new -x509 -key sp_key.pem -days 7300 -sha256 \
    -set_serial "0x$SP_SERIAL" \
    -subj "/C=CN/O=wxpay-mock test service provider/OU=$SP_MCHID/CN=$SP_MCHID" -out sp_cert.pem
  cd "$top"
}

# A second platform certificate with its own key, for rotation tests: the
# mock lists it and can switch to signing with it.
make_next_platform() {
  cd "$keys"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wechatpay_next_key.pem
  openssl req -new -x509 -key wechatpay_next_key.pem -days 7300 -sha256 \
    -set_serial "0x$NEXT_PLATFORM_SERIAL" \
    -subj "/C=CN/O=wxpay-mock test platform/CN=Tenpay.com Root CA test next" \
    -out wechatpay_next_cert.pem
  cd "$top"
}

# AES-256-GCM known answers (certificate downloads) are made by node's
# crypto, never by this project's code: see ci/make-aead-vectors.js.
make_aead() {
  node "$top/ci/make-aead-vectors.js" "$vec" "$keys"
}

# One vector: NAME KIND KEY, then the message parts. Writes NAME.body (the
# exact body bytes), NAME.msg (the exact message signed), NAME.sig (Base64 of
# the signature, no line breaks, no final newline) and NAME.cmd (the commands).
# KIND request: METHOD TARGET TIMESTAMP NONCE; KIND response: TIMESTAMP NONCE.
vector() {
  local name=$1 kind=$2 key=$3 body=$4
  shift 4
  printf '%s' "$body" > "$vec/$name.body"
  if [ "$kind" = request ]; then
    local method=$1 target=$2 ts=$3 nonce=$4
    printf '%s\n%s\n%s\n%s\n' "$method" "$target" "$ts" "$nonce" > "$vec/$name.msg"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$key" "$method" "$target" "$ts" "$nonce" >> "$vec/index.tsv"
  else
    local ts=$1 nonce=$2
    printf '%s\n%s\n' "$ts" "$nonce" > "$vec/$name.msg"
    printf '%s\t%s\t%s\t-\t-\t%s\t%s\n' "$name" "$kind" "$key" "$ts" "$nonce" >> "$vec/index.tsv"
  fi
  cat "$vec/$name.body" >> "$vec/$name.msg"
  printf '\n' >> "$vec/$name.msg"
  openssl dgst -sha256 -sign "$keys/$key" -out "$vec/$name.sig.bin" "$vec/$name.msg"
  openssl base64 -A -in "$vec/$name.sig.bin" -out "$vec/$name.sig"
  rm -f "$vec/$name.sig.bin"
  cat > "$vec/$name.cmd" <<CMD
# $name: made by ci/make-fixtures.sh with these commands (run in fixtures/vectors)
openssl dgst -sha256 -sign ../keys/$key -out $name.sig.bin $name.msg
openssl base64 -A -in $name.sig.bin -out $name.sig
# check: openssl base64 -d -A -in $name.sig -out s.bin && openssl dgst -sha256 -verify <(openssl pkey -in ../keys/$key -pubout) -signature s.bin $name.msg
CMD
}

make_vectors() {
  mkdir -p "$vec"
  rm -f "$vec"/*.msg "$vec"/*.sig "$vec"/*.body "$vec"/*.cmd "$vec/index.tsv"
  printf '# name\tkind\tkey\tmethod\ttarget\ttimestamp\tnonce\n' > "$vec/index.tsv"
  # POST reverse with the seed's example body, signed by the merchant.
  vector post_reverse request merchant_key.pem \
    "{\"appid\":\"$APPID\",\"mchid\":\"$MCHID\"}" \
    POST /v3/pay/transactions/out-trade-no/1217752501201407033233368018/reverse \
    1554208460 593BEC0C930BF1AFEB40B4A08C8FB242
  # POST reverse whose out_trade_no holds '*' and '|', percent-encoded.
  vector post_reverse_encoded request merchant_key.pem \
    "{\"appid\":\"$APPID\",\"mchid\":\"$MCHID\"}" \
    POST /v3/pay/transactions/out-trade-no/ord%2A2026%7C01/reverse \
    1764316800 H5Z9XQ2LW8RMN3KP0TBV6YCJ4AEDFGS7
  # GET query with a query string and an empty body.
  vector get_query request merchant_key.pem "" \
    GET "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=$MCHID" \
    1554208460 593BEC0C930BF1AFEB40B4A08C8FB242
  # A body with non-ASCII UTF-8 (signed as its raw bytes).
  vector post_utf8 request merchant_key.pem \
    '{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"撤销测试 – café ✓"}' \
    POST /v3/pay/transactions/out-trade-no/1217752501201407033233368018/reverse \
    1764316800 k2VhL9aQ0pZr7NcX3mTbY6uW1sE8dJfG
  # A response with a body, signed by WeChat Pay.
  vector response_body response wechatpay_key.pem \
    "{\"appid\":\"$APPID\",\"mchid\":\"$MCHID\",\"out_trade_no\":\"1217752501201407033233368018\"}" \
    1554209980 c5ac7061fccab6bf3e254dcf98995b8c
  # A response with an empty body (the message ends "NONCE\n\n").
  vector response_empty response wechatpay_key.pem "" \
    1554209980 c5ac7061fccab6bf3e254dcf98995b8c
}

# A test CA and a server certificate for the hosts SDKs hard-code, so the
# mock can serve HTTPS (wxpay-mock --tls-cert/--tls-key) behind a host
# override (curl --resolve, /etc/hosts).
make_tls() {
  local tls="$top/fixtures/tls"
  mkdir -p "$tls"
  cd "$tls"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca_key.pem
  openssl req -new -x509 -key ca_key.pem -days 7300 -sha256 -set_serial 0x1001 \
    -subj "/C=CN/O=wxpay-mock TEST-ONLY CA/CN=wxpay-mock test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca_cert.pem
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server_key.pem
  openssl req -new -key server_key.pem -subj "/C=CN/O=wxpay-mock TEST-ONLY/CN=api.mch.weixin.qq.com" \
    -out server.csr
  openssl x509 -req -in server.csr -CA ca_cert.pem -CAkey ca_key.pem -set_serial 0x1002 \
    -days 7300 -sha256 -out server_cert.pem -extfile <(printf '%s\n' \
      "subjectAltName=DNS:api.mch.weixin.qq.com,DNS:api2.mch.weixin.qq.com,DNS:localhost,IP:127.0.0.1" \
      "extendedKeyUsage=serverAuth" "basicConstraints=CA:FALSE")
  rm -f server.csr
  cd "$top"
}

case "$what" in
  keys) make_keys ;;
  vectors) make_vectors ;;
  tls) make_tls ;;
  next-platform) make_next_platform ;;
  service-provider) make_service_provider ;;
  aead) make_aead ;;
  all) make_keys; make_vectors; make_tls; make_aead ;;
  *) echo "usage: $0 [keys|vectors|tls|next-platform|service-provider|aead|all]" >&2; exit 2 ;;
esac
echo "fixtures: done ($what)"
