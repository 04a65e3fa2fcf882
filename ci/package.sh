#!/usr/bin/env bash
# Makes the .deb (CPack) and checks it the way a user meets it: installed
# with apt into a clean Debian 12 container, where the installed programs
# pass both conformance catalogues against the installed mock and
# fixtures.
#
# Usage: ci/package.sh [--no-check]   (--no-check: make the .deb only)
# Needs: the build dependencies (ci/deps.sh), and for the check podman,
# runc and mmdebstrap (Debian packages; installed here when run as root).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
check=1
[ "${1:-}" = --no-check ] && check=0
die() { echo "ci/package.sh: $*" >&2; exit 1; }

bash ci/deps.sh
command -v cpack >/dev/null || die "cpack is missing: apt-get install cmake"
cmake -S . -B build-package -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build build-package -j"$(nproc)" --target wxpay-mock wxpay-reverse wxpay-pay wxpay-conform \
  wxpay-bench wxpay wxpay_shared wxp_protocol wxp_protocol_shared >/dev/null
(cd build-package && cpack -G DEB >/dev/null) || die "cpack failed (see build-package/_CPack_Packages)"
deb=$(ls -t build-package/wxpay-harness_*.deb | head -1)
[ -f "$deb" ] || die "no .deb was made"
echo "made $deb"
dpkg-deb --field "$deb" Package Version Depends
[ $check -eq 1 ] || exit 0

# The check: a clean Debian 12, apt installs the .deb and its Depends.
. "$top/ci/podman-setup.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$deb" "$tmp/pkg.deb"
cat > "$tmp/check.sh" <<'CHECK'
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q /pkg/pkg.deb >/dev/null
wxpay-mock --version
man -w wxpay-mock >/dev/null 2>&1 || ls /usr/share/man/man1/wxpay-mock.1*
cd /
wxpay-conform --strict-exit-codes --skip-group certificates -- wxpay-reverse | tail -1
wxpay-conform --flow pay -- wxpay-pay | tail -1
CHECK
out=$(podman_run -v "$tmp:/pkg:ro" "$WXPAY_BASE_IMAGE" bash /pkg/check.sh 2>&1) ||
  { echo "$out" | tail -20; die "the .deb failed its check in a clean Debian 12 container"; }
echo "$out" | tail -4
grep -q "^19 passed, 0 failed" <<<"$out" && grep -q "^9 passed, 0 failed" <<<"$out" ||
  die "the installed programs did not pass both catalogues"
echo "ci/package.sh: $deb installs into a clean Debian 12 and passes both catalogues"
