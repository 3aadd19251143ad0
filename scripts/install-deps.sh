#!/usr/bin/env bash
# Installs the Debian 12 packages cordon builds and tests with. Idempotent: when every package is
# already installed it does no network work at all.
#   scripts/install-deps.sh            build + native tests
#   scripts/install-deps.sh --windows  also the mingw-w64 cross compiler and wine (Windows tests)
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config cmake python3
  libboost-json1.81-dev libvalijson-dev libcrypto++-dev doctest-dev
  libcli11-dev                        # the cordon CLI's argument parser (header-only)
  clang libclang-rt-14-dev lld        # the sanitized test build and the libFuzzer targets (clang, lld)
  bubblewrap                          # the Linux backend's containment (lxc-exec runs bwrap)
  slirp4netns iptables                # egress rules: lxc-exec runs slirp4netns, iptables(-restore),
                                      # ip6tables(-restore), ip (iproute2), nsenter and unshare (util-linux)
  nodejs npm                          # npm pack fetches the pinned MXC SDK (scripts/setup_sandbox.sh)
  ca-certificates strace procps iproute2
  util-linux passwd perl-base         # tests: setpriv, useradd (the unprivileged test user), perl probes
  curl git python3-pip python3-venv openssl  # proxy tests: real clients in a lab namespace
  zsh groff-base                      # tests: the zsh completion on a pty, the man page rendered
)
if [[ " $* " == *" --windows "* ]]; then
  packages+=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix mingw-w64-tools wine64 wine)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from another source than Debian (e.g. nodesource); accept any working npm
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]}"
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
