#!/usr/bin/env bash
# What the GitHub Action (action.yml) runs: start wxpay-mock on a free port
# for the rest of the job and say its URL, or stop it.
#
# Usage: ci/action.sh start [CONFIG] [ADMIN_TOKEN]    (sets outputs url, pid)
#        ci/action.sh stop                            (exit status of the mock)
# Environment: GITHUB_OUTPUT (where outputs go), RUNNER_TEMP (pid, logs and
# the journal file), WXPAY_MOCK (a wxpay-mock to use; default: build one).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=${RUNNER_TEMP:-/tmp}
out=${GITHUB_OUTPUT:-/dev/stdout}
case "${1:-}" in
  start)
    mock=${WXPAY_MOCK:-}
    if [ -z "$mock" ]; then
      if command -v wxpay-mock >/dev/null; then
        mock=$(command -v wxpay-mock)
      else
        (cd "$top" && bash ci/deps.sh && cmake --preset default >/dev/null &&
           cmake --build --preset default --target wxpay-mock >/dev/null)
        mock=$top/build/bin/wxpay-mock
      fi
    fi
    args=(--port 0 --journal-file "$tmp/wxpay-mock-journal.jsonl")
    [ -n "${2:-}" ] && args+=(--config "$2")
    [ -n "${3:-}" ] && args+=(--admin-token "$3")
    # setsid: the mock outlives this step; stop (or the runner's clean-up
    # of orphan processes at the end of the job) ends it.
    setsid "$mock" "${args[@]}" >"$tmp/wxpay-mock.out" 2>"$tmp/wxpay-mock.log" < /dev/null &
    pid=$!
    echo "$pid" > "$tmp/wxpay-mock.pid"
    for _ in $(seq 100); do
      line=$(head -1 "$tmp/wxpay-mock.out" 2>/dev/null || true)
      [ -n "$line" ] && break
      kill -0 "$pid" 2>/dev/null || { cat "$tmp/wxpay-mock.log" >&2; echo "wxpay-mock did not start" >&2; exit 1; }
      sleep 0.1
    done
    [ -n "$line" ] || { echo "wxpay-mock did not say where it listens" >&2; exit 1; }
    url=${line##* on }
    echo "url=$url" >> "$out"
    echo "pid=$pid" >> "$out"
    echo "wxpay-mock listening on $url (pid $pid, journal $tmp/wxpay-mock-journal.jsonl)" >&2
    ;;
  stop)
    pid=$(cat "$tmp/wxpay-mock.pid" 2>/dev/null) || { echo "no wxpay-mock was started" >&2; exit 1; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$tmp/wxpay-mock.pid"
    echo "wxpay-mock stopped" >&2
    ;;
  *) echo "usage: ci/action.sh start [CONFIG] [ADMIN_TOKEN] | stop" >&2; exit 2 ;;
esac
