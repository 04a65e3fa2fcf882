#!/usr/bin/env bash
# Builds the container image (Dockerfile) and tests it on this machine: the
# container answers a signed reverse from the host, wxpay-conform
# --mock-url against it passes, its health check answers, and it runs as a
# non-root user. No image registry is needed: the base image is built from
# Debian's packages with mmdebstrap (ci/podman-setup.sh sets podman up).
# Not part of .ci/run (it takes minutes); a maintainer runs it by hand.
#
# Usage: ci/container.sh        (as root, or with sudo for the set-up)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
die() { echo "ci/container.sh: $*" >&2; exit 1; }
. "$top/ci/podman-setup.sh"
image=localhost/wxpay-mock:test

echo "building $image on $WXPAY_BASE_IMAGE"
podman build --format docker --network host --build-arg BASE="$WXPAY_BASE_IMAGE" -t "$image" . >/tmp/wxpay-container-build.log 2>&1 ||
  { tail -20 /tmp/wxpay-container-build.log; die "the image did not build (log: /tmp/wxpay-container-build.log)"; }

# The host's programs talk to the container's mock (host network, a free port).
[ -x build/bin/wxpay-reverse ] || { bash ci/deps.sh && cmake --preset default >/dev/null && cmake --build --preset default >/dev/null; }
name=wxpay-mock-test-$$
cleanup() { podman rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
podman run -d --name "$name" --network host "$image" \
  wxpay-mock --host 127.0.0.1 --port 0 >/dev/null
line=""
for _ in $(seq 50); do
  line=$(podman logs "$name" 2>/dev/null | grep -m1 'listening on' || true)
  [ -n "$line" ] && break
  sleep 0.1
done
[ -n "$line" ] || { podman logs "$name"; die "the container's mock did not start"; }
base="http://${line##*http://}"
echo "$line"
k=fixtures/keys
out=$(build/bin/wxpay-reverse --base-url "$base" --mchid 1230000109 --appid wxd678efh567hg6787 \
  --private-key "$k/merchant_key.pem" --merchant-cert "$k/merchant_cert.pem" \
  --wechatpay-public-key "$k/wechatpay_pub.pem" \
  --wechatpay-serial PUB_KEY_ID_01123000010920261128000000000001 paid_ctr_0001) ||
  die "a signed reverse from the host failed: $out"
echo "$out"
build/bin/wxpay-conform --mock-url "$base" -- build/bin/wxpay-reverse | tail -1 | grep -q "^22 passed, 0 failed" ||
  die "wxpay-conform --mock-url against the container failed"
echo "wxpay-conform --mock-url: 22 passed"
user=$(podman exec "$name" id -un)
[ "$user" = wxpay ] || die "the container runs as $user, not the non-root user wxpay"
health=$(podman image inspect "$image")  # docker format keeps HEALTHCHECK
[[ $health == *__admin/health* ]] || die "the image has no health check on /__admin/health"
podman exec "$name" curl -fsS "$base/__admin/health" | grep -q '"status":"ok"' || die "/__admin/health did not answer ok"
echo "ci/container.sh: $image answers from the host, passes conformance, runs as wxpay, health ok"
