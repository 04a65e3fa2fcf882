#!/usr/bin/env bash
# The documentation holds together: the README stays a newcomer's page (at
# most 10 KB), and every docs/ page a source comment or a page cites, and
# every relative link, is in the repository.
#
# Usage: tests/cli/docs.sh SOURCE_DIR
set -u
src=$1
. "$(dirname "$0")/tap.sh"
cd "$src" || exit 1
size=$(wc -c < README.md)
check "README.md is at most 10 KB ($size bytes)" '[ "$size" -le 10240 ]'
missing=""
for f in $(git ls-files 2>/dev/null || find . -type f -not -path "./build*" | sed "s|^\./||"); do
  case "$f" in fixtures/vectors/*|*.pem) continue ;; esac
  for cited in $(grep -ohE '\bdocs/[a-z-]+\.md\b' "$f" 2>/dev/null | sort -u); do
    [ -f "$cited" ] || missing="$missing $f->$cited"
  done
done
check "every docs/*.md a file cites exists" '[ -z "$missing" ] || { echo "  missing:$missing"; false; }'
links=""
for l in $(grep -oE '\]\([^)#]+\)' README.md docs/*.md | sed 's/.*](\(.*\))/\1/' | grep -v '^http' | sort -u); do
  [ -e "$l" ] || [ -e "docs/$l" ] || links="$links $l"
done
check "every relative link of README.md and docs/ resolves" '[ -z "$links" ] || { echo "  broken:$links"; false; }'
tap_summary
