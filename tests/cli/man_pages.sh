#!/usr/bin/env bash
# The man pages (man/) against the programs: every option a program's --help
# lists is in its page, every page renders without a warning (man, when
# installed), and the pages name the same version as the build.
#
# Usage: tests/cli/man_pages.sh BIN_DIR SOURCE_DIR
set -u
bin=$1
src=$2
. "$(dirname "$0")/tap.sh"
ver=$(sed -n 's/^project([a-z_]* VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
for p in wxpay-mock wxpay-reverse wxpay-pay wxpay-conform wxpay-bench; do
  page=$src/man/$p.1
  # the page's text with roff's \- turned back into -
  text=$(sed 's/\\-/-/g' "$page")
  missing=""
  # the options: what starts an indented line of --help
  for opt in $("$bin/$p" --help | grep -oE -- '^ +(-[a-z], )?--[a-z0-9][a-z0-9-]*' |
               grep -oE -- '--[a-z0-9-]+' | sort -u); do
    grep -q -- "$opt\\b" <<<"$text" || missing="$missing $opt"
  done
  check "$p(1) documents every option of --help" '[ -z "$missing" ] || { echo "  missing:$missing"; false; }'
  check "$p(1) names version $ver" 'grep -q "wxpay harness $ver" "$page"'
done
for page in "$src"/man/*.[135]; do
  if command -v man >/dev/null 2>&1; then
    warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    check "$(basename "$page") renders without warnings" '[ -z "$warn" ] || { echo "$warn" | head -5; false; }'
  else
    check "$(basename "$page") has a NAME section (man is not installed to render it)" 'grep -q "^\.SH NAME" "$page"'
  fi
done
tap_summary
