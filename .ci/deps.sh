#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Install what etrnd needs to build and test on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
	gcc pkg-config meson ninja-build
	libevent-dev libnl-3-dev libnl-route-3-dev libsystemd-dev libssl-dev
	libcmocka-dev mandoc
	iproute2 python3 procps valgrind util-linux openssl
	sasl2-bin libsasl2-modules libsasl2-modules-db
	clang libclang-rt-14-dev fetchmail strace
	systemd systemd-container debootstrap debian-archive-keyring
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
# A real Postfix for the end-to-end tests, installed without becoming this
# machine's MTA: the tests run their own instances in namespaces.
dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q "ok installed" ||
	missing+=(postfix)
if [ ${#missing[@]} -gt 0 ]; then
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
