#!/usr/bin/env bash
# Installs the Debian packages this project needs to build and test, and only
# those that are missing. Safe to run again; does nothing when all are present.
#
# Usage: ci/deps.sh            (as root, or with sudo available)
#        ci/deps.sh --fuzz     also clang and its libFuzzer/sanitizer runtime
set -euo pipefail

# Build and test dependencies, one Debian package each:
#   cmake, pkg-config, gcc       the build
#   libssl-dev, openssl          OpenSSL 3: signing in protocol/, known answers in tests
#   libcurl4-openssl-dev         the client's transport (issue 4)
#   libmicrohttpd-dev            the mock server (issue 3)
#   libcjson-dev                 JSON bodies
#   libcmocka-dev                the test framework
#   curl                         CLI tests drive the binaries with it
#   valgrind                     the memcheck test of a whole mock session
#   clang-format                 the house style check (ci/format.sh)
packages=(
  cmake pkg-config gcc make
  openssl libssl-dev
  libcurl4-openssl-dev
  libmicrohttpd-dev
  libcjson-dev
  libcmocka-dev
  curl
  valgrind
  clang-format
)
if [ "${1:-}" = --fuzz ]; then
  packages+=(clang libclang-rt-dev)   # ci/fuzz.sh: libFuzzer, ASan, UBSan
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
