#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Install what etrnd needs to build and test on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
	gcc pkg-config meson ninja-build
	libevent-dev libnl-3-dev libnl-route-3-dev libsystemd-dev
	libcmocka-dev mandoc
	iproute2 python3 procps valgrind util-linux
	systemd systemd-container debootstrap debian-archive-keyring
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
