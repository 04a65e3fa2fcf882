#!/usr/bin/env bash
# The GitHub Action's script (ci/action.sh) as a runner calls it: start
# writes the url and pid outputs and leaves a mock answering there; stop
# ends it. (The action itself is action.yml around this script.)
#
# Usage: tests/cli/action.sh BIN_DIR SOURCE_DIR
set -u
bin=$1
src=$2
. "$(dirname "$0")/tap.sh"
export RUNNER_TEMP=$tmp GITHUB_OUTPUT=$tmp/outputs WXPAY_MOCK=$bin/wxpay-mock
bash "$src/ci/action.sh" start 2>/dev/null; rc=$?
url=$(sed -n 's/^url=//p' "$tmp/outputs")
pid=$(sed -n 's/^pid=//p' "$tmp/outputs")
check "start: exit 0, outputs url and pid" '[ $rc -eq 0 ] && [[ $url == http://127.0.0.1:* ]] && [ -n "$pid" ]'
h=$(curl -s "$url/__admin/health")
check "... and the mock answers there" '[[ $h == *"\"status\":\"ok\""* ]]'
bash "$src/ci/action.sh" stop 2>/dev/null; rc=$?
check "stop: exit 0 and the mock is gone" '[ $rc -eq 0 ] && ! kill -0 "$pid" 2>/dev/null'
bash "$src/ci/action.sh" stop 2>/dev/null; rc=$?
check "stop without a start exits non-zero" '[ $rc -ne 0 ]'
tap_summary
