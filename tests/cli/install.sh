#!/usr/bin/env bash
# The installed tree as a user gets it: cmake --install to a prefix, the
# prefix moved elsewhere, wxpay-mock started from / with no options serves
# signed answers with the installed fixtures, a program built with
# pkg-config and <wxpay/wxpay.h> against the shared libraries reverses an
# order on it, the man pages are in place, and a program copied away from
# its data says where it looked and what to give instead.
#
# Usage: tests/cli/install.sh BUILD_DIR SOURCE_DIR [SANITIZED]
set -u
build=$1
src=$2
if [ "${3:-OFF}" = ON ]; then
  echo "SKIPPED: a sanitizer build installs libraries a plain program cannot link"
  exit 77
fi
. "$(dirname "$0")/tap.sh"

cmake --install "$build" --prefix "$tmp/first" >"$tmp/install.log" 2>&1; rc=$?
check "cmake --install to a prefix" '[ $rc -eq 0 ] || { tail -5 "$tmp/install.log"; false; }'
mv "$tmp/first" "$tmp/moved"
p=$tmp/moved
libdir=$(cd "$p" && ls -d lib*/ lib/*/ 2>/dev/null | while read -r d; do [ -e "$p/$d/libwxpay.so" ] && echo "${d%/}"; done | head -1)
for f in bin/wxpay-mock bin/wxpay-reverse bin/wxpay-pay bin/wxpay-conform bin/wxpay-bench \
         include/wxpay/wxpay.h include/wxpay/protocol.h include/wxpay/version.h \
         share/wxpay/fixtures/mock.json share/wxpay/fixtures/keys/merchant_key.pem \
         share/wxpay/fixtures/conformance.json share/wxpay/fixtures/pay_flow.json \
         share/man/man1/wxpay-mock.1 share/man/man3/libwxpay.3 share/man/man5/wxpay-mock.json.5; do
  check "installed: $f" '[ -e "$p/$f" ]'
done
check "installed: libwxpay and libwxp_protocol, static and shared with a SONAME" \
  '[ -n "$libdir" ] && [ -e "$p/$libdir/libwxpay.a" ] && [ -e "$p/$libdir/libwxp_protocol.a" ] &&
   objdump -p "$p/$libdir/libwxpay.so" | grep -q "SONAME *libwxpay.so.0" &&
   objdump -p "$p/$libdir/libwxp_protocol.so" | grep -q "SONAME *libwxp_protocol.so.0"'

# The moved tree, started from / with no options but a free port.
exec 3< <(cd / && exec "$p/bin/wxpay-mock" --port 0 --quiet)
pid=$!
read -r -t 10 line <&3
check "the moved wxpay-mock starts from / with its installed fixtures" '[[ $line == "wxpay-mock listening on http://127.0.0.1:"* ]]'
base="http://127.0.0.1:${line##*:}"
k=$p/share/wxpay/fixtures/keys
out=$(cd / && "$p/bin/wxpay-reverse" --base-url "$base" --mchid 1230000109 --appid wxd678efh567hg6787 \
  --private-key "$k/merchant_key.pem" --merchant-cert "$k/merchant_cert.pem" \
  --wechatpay-public-key "$k/wechatpay_pub.pem" \
  --wechatpay-serial PUB_KEY_ID_01123000010920261128000000000001 paid_inst_0001 2>&1); rc=$?
check "... and serves signed answers the installed wxpay-reverse verifies" '[ $rc -eq 0 ] && [[ $out == "reversed paid_inst_0001 "* ]]'
out=$(cd / && "$p/bin/wxpay-conform" --mock-url "$base" --case paid_order_is_refunded -- "$p/bin/wxpay-reverse" 2>&1); rc=$?
check "the moved wxpay-conform finds its catalogue and keys" '[ $rc -eq 0 ] && [[ $out == *"1 passed, 0 failed"* ]]'

# A program of the user's, built from the installed headers and pkg-config.
export PKG_CONFIG_PATH=$p/$libdir/pkgconfig
flags=$(pkg-config --cflags --libs wxpay 2>&1); rc=$?
check "pkg-config --cflags --libs wxpay" '[ $rc -eq 0 ] && [[ $flags == *-lwxpay* ]] && [[ $flags == *"-I$p/include"* || $flags == *"/include"* ]]'
cat > "$tmp/sign.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <wxpay/protocol.h>
int main(int argc, char **argv)
{
    wxp_key *k = NULL;
    char *sig = NULL;
    if (argc < 2 || wxp_key_private_file(argv[1], &k, NULL) != WXP_OK ||
        wxp_sign(k, "hello\n", 6, &sig) != WXP_OK)
        return 1;
    puts(sig);
    free(sig);
    wxp_key_free(k);
    return 0;
}
C
pflags=$(pkg-config --cflags --libs wxp_protocol 2>&1); rc=$?
check "pkg-config --cflags --libs wxp_protocol (the protocol library alone)" '[ $rc -eq 0 ] && [[ $pflags == *-lwxp_protocol* ]] && [[ $pflags != *-lwxpay* ]]'
cc -o "$tmp/sign" "$tmp/sign.c" $pflags >"$tmp/cc.log" 2>&1 &&
  sig=$(LD_LIBRARY_PATH=$p/$libdir "$tmp/sign" "$p/share/wxpay/fixtures/keys/merchant_key.pem") &&
  want=$(printf 'hello\n' | openssl dgst -sha256 -sign "$p/share/wxpay/fixtures/keys/merchant_key.pem" | openssl base64 -A)
check "... a program on it alone signs as the openssl command line does" '[ -n "${sig:-}" ] && [ "$sig" = "$want" ]'
cc -o "$tmp/example" "$src/client/examples/reverse_example.c" $flags >"$tmp/cc.log" 2>&1; rc=$?
check "a program built with pkg-config and <wxpay/wxpay.h>" '[ $rc -eq 0 ] || { head -5 "$tmp/cc.log"; false; }'
out=$(LD_LIBRARY_PATH=$p/$libdir "$tmp/example" "$base" "$p/share/wxpay/fixtures" 2>&1); rc=$?
check "... runs against the shared libraries and reverses" '[ $rc -eq 0 ] && [[ $out == *"sync: reversed paid_example_1"* ]]'
check "... and really uses them (ldd names libwxpay.so.0)" 'LD_LIBRARY_PATH=$p/$libdir ldd "$tmp/example" | grep -q "libwxpay.so.0 => $p"'
kill -TERM "$pid"; wait "$pid"; pid=""

if command -v man >/dev/null 2>&1; then
  out=$(MANWIDTH=80 man -l "$p/share/man/man1/wxpay-pay.1" 2>&1 | head -5)
  check "man shows the installed wxpay-pay(1)" '[[ $out == *"wxpay-pay - take a WeChat Pay code payment"* ]]'
fi

# Away from its data, a program says where it looked and what to give.
cp "$p/bin/wxpay-mock" "$tmp/lonely-mock"
err=$(cd / && "$tmp/lonely-mock" --port 0 2>&1); rc=$?
check "a program without its data names the folder it looked in and --config" \
  '[ $rc -eq 2 ] && [[ $err == *"share/wxpay/fixtures"* ]] && [[ $err == *"--config"* ]] && [[ $err == *WXPAY_FIXTURES_DIR* ]]'
exec 3< <(cd / && WXPAY_FIXTURES_DIR=$p/share/wxpay/fixtures exec "$tmp/lonely-mock" --port 0 --quiet)
pid=$!
read -r -t 10 line <&3
check "... and starts once WXPAY_FIXTURES_DIR names it" '[[ $line == "wxpay-mock listening on "* ]]'
kill -TERM "$pid"; wait "$pid"; pid=""
tap_summary
