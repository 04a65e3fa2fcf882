#!/usr/bin/env bash
# The test command (README): installs missing packages, configures, builds
# with warnings as errors and runs the whole suite with ctest.
#
# Usage: ci/test.sh              default build in build/
#        ci/test.sh --sanitize   ASan+UBSan build in build-sanitize/ (all but memcheck)
#        ci/test.sh --tsan       ThreadSanitizer build in build-tsan/ (integration tests)
# Extra arguments after -- go to ctest (for example: -- -L unit).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

preset=default
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) preset=sanitize ;;
    --tsan) preset=tsan ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci/test.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

ci/deps.sh
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "ci/test.sh: node/npm not found: the interop test (label interop) will be SKIPPED"
fi
cmake --preset "$preset" -DWXP_WERROR=ON
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" "${ctest_args[@]}"
