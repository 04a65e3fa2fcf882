#!/usr/bin/env bash
# The house rules, checked on the built objects (docs/architecture.md):
# - within each library and program, no two source files call each other,
#   directly or round a circle (the file graph, from nm, sorts with tsort);
# - the documented order holds: each file calls only the files listed
#   below it in its folder's header;
# - libcurl, libmicrohttpd and OpenSSL are each called from one file per
#   library or program.
#
# Usage: tests/cli/layers.sh BUILD_DIR
set -u
build=$1
. "$(dirname "$0")/tap.sh"

# objects of a library (from its archive) or of a program (its object dir)
objects() {
  case $1 in
    lib*) (cd "$tmp" && rm -rf x && mkdir x && cd x && ar x "$build/lib/$1.a" && ls "$PWD"/*.o) ;;
    *) ls "$build"/$1/*.o ;;
  esac
}

# "caller callee" pairs of files (defined and undefined global symbols)
edges() {
  local objs
  objs=$(objects "$1")
  for o in $objs; do
    f=$(basename "$o"); f=${f%.o}; f=${f%.c}
    nm "$o" | awk -v f="$f" '$2 ~ /^[TDBR]$/ {print "D", f, $3} $1 == "U" {print "U", f, $2}'
  done | awk '$1 == "D" {def[$3] = $2} $1 == "U" {use[NR] = $2 " " $3}
              END {for (i in use) {split(use[i], p, " "); if ((p[2] in def) && def[p[2]] != p[1]) print p[1], def[p[2]]}}' |
    sort -u
}

# the library calls of a unit, by outside library
outside() {
  local objs
  objs=$(objects "$1")
  for o in $objs; do
    f=$(basename "$o"); f=${f%.o}; f=${f%.c}
    nm -u "$o" | awk -v f="$f" '
      $2 ~ /^curl_/ {print "libcurl", f}
      $2 ~ /^MHD_/ {print "libmicrohttpd", f}
      $2 ~ /^(EVP_|OSSL_|PEM_|X509_|BN_|RSA_|RAND_|ERR_|OPENSSL_|BIO_|SSL_|TLS_)/ {print "OpenSSL", f}'
  done | sort -u
}

# order FILE...: every edge must point from a file to one listed after it
check_order() {
  local unit=$1; shift
  local bad=""
  while read -r a b; do
    ia=-1 ib=-1 i=0
    for f in "$@"; do [ "$f" = "$a" ] && ia=$i; [ "$f" = "$b" ] && ib=$i; i=$((i + 1)); done
    if [ $ia -lt 0 ] || [ $ib -lt 0 ] || [ $ib -le $ia ]; then bad="$bad $a->$b"; fi
  done < <(edges "$unit")
  check "$unit: every call points down the documented order ($*)" '[ -z "$bad" ] || { echo "  against it:$bad"; false; }'
}

units="libwxp_protocol libwxpay libwxpay_mock client/CMakeFiles/wxpay-reverse.dir/cli
conform/CMakeFiles/wxpay-conform.dir tools/bench/CMakeFiles/wxpay-bench.dir"
for u in $units; do
  loops=$(edges "$u" | tsort 2>&1 >/dev/null)
  check "$u: no circle between its files" '[ -z "$loops" ] || { echo "$loops"; false; }'
  per=$(outside "$u" | awk '{n[$1]++; f[$1] = f[$1] " " $2} END {for (l in n) if (n[l] > 1) print l ":" f[l]}')
  check "$u: each outside library called from one file" '[ -z "$per" ] || { echo "  $per"; false; }'
done

# The orders written in the folders' headers, top first.
check_order libwxpay engine certs judge request settings http
check_order libwxpay_mock server wire handler admin pay rules checks payloads sigdiag answer orderjson catalogue \
  request keys script store journal nonces config
check_order tools/bench/CMakeFiles/wxpay-bench.dir main modes floors loadgen tls mockproc report common
check_order conform/CMakeFiles/wxpay-conform.dir main flow report http

tap_summary
