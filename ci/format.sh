#!/usr/bin/env bash
# The house style (.clang-format) on every C file of the repository.
#
# Usage: ci/format.sh          check: lists each file that differs, exit 1
#        ci/format.sh --fix    rewrite the files in place
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
  echo "ci/format.sh: clang-format not found: install the Debian package 'clang-format' (or run ci/deps.sh)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files '*.c' '*.h')
case "${1:-}" in
  --fix) clang-format -i "${files[@]}"; echo "ci/format.sh: formatted ${#files[@]} files" ;;
  "") clang-format --dry-run --Werror "${files[@]}" && echo "ci/format.sh: ${#files[@]} files in the house style" ;;
  -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "ci/format.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac
