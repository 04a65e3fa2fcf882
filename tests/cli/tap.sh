# tap.sh: sourced by the CLI tests. A temporary folder removed at exit
# (with the process in $pid killed, if any), and check/ok/no counters that
# end in the "N passed, N failed" line ctest and CI read (tap_summary).
tmp=$(mktemp -d)
pid=""
tap_cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap tap_cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
tap_summary() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
