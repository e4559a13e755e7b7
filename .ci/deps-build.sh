#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Install what building etrnd and its Debian package needs on Debian 12
# (run as root when something is missing).  Removes nothing: see deps-lib.sh.
set -euo pipefail
. "$(dirname "$0")/deps-lib.sh"

pkgs=(
	# the compiler and the build
	gcc pkg-config meson ninja-build
	# the libraries (libsystemd-dev; systemd itself ships systemd.pc)
	libevent-dev libnl-3-dev libnl-route-3-dev libsystemd-dev libssl-dev
	systemd
	# the unit tests and the man page lint (also in the package build)
	libcmocka-dev mandoc
	# the package: dpkg-buildpackage, dh, lintian (.ci/build-deb)
	debhelper dpkg-dev fakeroot lintian
)
deps_install deps-build "${pkgs[@]}"
