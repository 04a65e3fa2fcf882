#!/usr/bin/env bash
# Builds the clang fuzz preset and runs every libFuzzer target (or the ones
# named) for SECONDS each, starting from the committed seeds. New inputs go
# to build-fuzz/corpus/<target>/ (merge them into tests/fuzz/corpus by hand
# when worth keeping); a crash is saved as tests/fuzz/crashes/<target>/crash-*
# so every later ctest run replays it. Exits non-zero on any finding.
#
# Usage: ci/fuzz.sh [SECONDS] [TARGET...]    (default 10 s per target)
#   long session: ci/fuzz.sh 3600 handler
#   reproduce:    build-fuzz/bin/fuzz_<target> tests/fuzz/crashes/<target>/crash-...
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-10}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(auth response template fields json config script handler client_answer certlist)

ci/deps.sh --fuzz >/dev/null || { echo "ci/fuzz.sh: could not install clang (ci/deps.sh --fuzz)" >&2; exit 2; }
cmake --preset fuzz -DWXP_WERROR=ON >/dev/null || exit 2
cmake --build --preset fuzz -j "$(nproc)" >/dev/null || { echo "ci/fuzz.sh: fuzz build failed" >&2; exit 2; }

failed=0
printf '%-14s %12s %10s %8s %s\n' TARGET EXECUTIONS EXEC/S CORPUS RESULT > build-fuzz/fuzz-summary.txt
for t in "${targets[@]}"; do
  bin=build-fuzz/bin/fuzz_$t
  [ -x "$bin" ] || { echo "ci/fuzz.sh: no target '$t'" >&2; exit 2; }
  work=build-fuzz/corpus/$t
  crashes=tests/fuzz/crashes/$t
  mkdir -p "$work" "$crashes"
  dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  echo "== fuzz_$t for ${secs}s"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "${dict[@]}" "$work" "tests/fuzz/corpus/$t" > "build-fuzz/fuzz_$t.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/fuzz_$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "build-fuzz/fuzz_$t.log" | tail -1)
  corpus=$(ls "$work" | wc -l)
  result=ok
  if [ $rc -ne 0 ]; then
    result="FINDING (exit $rc): see build-fuzz/fuzz_$t.log and $crashes/"
    failed=$((failed + 1))
    tail -30 "build-fuzz/fuzz_$t.log"
  fi
  printf '%-14s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$result" >> build-fuzz/fuzz-summary.txt
done
cat build-fuzz/fuzz-summary.txt
echo "$(( ${#targets[@]} - failed )) passed, $failed failed"
[ $failed -eq 0 ]
