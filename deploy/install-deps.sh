#!/usr/bin/env bash
# Installs the Debian 12 packages glint needs to build, test and run (only what is missing).
set -euo pipefail
pkgs=(g++ clang libclang-rt-14-dev cmake make pkg-config libboost-dev libssl-dev libpqxx-dev cppzmq-dev
      prometheus-cpp-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libxxhash-dev libgtest-dev libgmock-dev
      postgresql ccache curl nginx-light qemu-utils genisoimage python3 procps util-linux python3-glanceclient python3-openstackclient
      keystone uwsgi-plugin-python3 sqlite3 python3-tempest tempest)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=900 update
# Debian's nginx package would try to start a system service; policy-rc.d keeps it down.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}"
