# Sourced by ci/package.sh and ci/container.sh: makes podman usable on a
# fresh Debian machine, as is known to work on these machines (runc, not
# crun; no default ulimits; the host network), and builds the Debian 12
# base image from Debian's packages with mmdebstrap (no image registry is
# needed). Defines podman_run and WXPAY_BASE_IMAGE.
WXPAY_BASE_IMAGE=localhost/wxpay-base:bookworm
need=()
for p in podman runc mmdebstrap uidmap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "missing: ${need[*]}: run as root, or apt-get install ${need[*]}" >&2
    exit 1
  fi
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null ||
    { echo "could not install ${need[*]}" >&2; exit 1; }
fi
conf=/etc/containers/containers.conf
if ! grep -q '^default_ulimits *= *\[\]' "$conf" 2>/dev/null; then
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n' | $SUDO tee -a "$conf" >/dev/null
fi
podman() { command podman --runtime runc "$@"; }
podman_run() { podman run --rm --network host "$@"; }
if ! podman image exists "$WXPAY_BASE_IMAGE"; then
  echo "building the Debian 12 base image with mmdebstrap (once)"
  base_tar=$(mktemp --suffix=.tar)
  mmdebstrap --variant=minbase --include=ca-certificates bookworm "$base_tar" >/dev/null 2>&1 ||
    { rm -f "$base_tar"; echo "mmdebstrap could not build Debian 12 (is a Debian mirror reachable?)" >&2; exit 1; }
  podman import "$base_tar" "$WXPAY_BASE_IMAGE" >/dev/null
  rm -f "$base_tar"
fi
