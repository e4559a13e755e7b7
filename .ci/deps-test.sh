#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Install what etrnd's tests, demos and benchmarks need beyond the build
# (.ci/deps-build.sh) on Debian 12 (run as root when something is missing):
# a real Postfix for the end-to-end tests, Cyrus SASL, valgrind, clang for
# the fuzz targets, a systemd container for the unit.  Never removes a
# package: on a machine with Exim, Sendmail or OpenSMTPD it refuses
# (postfix conflicts with them) and says so.  See deps-lib.sh.
set -euo pipefail
. "$(dirname "$0")/deps-lib.sh"

pkgs=(
	# man page lint, the integration tests and their tools
	mandoc iproute2 python3 procps util-linux openssl
	# memcheck, the fuzz targets (libFuzzer), benchmark baselines
	valgrind clang libclang-rt-14-dev fetchmail strace
	# a real systemd for the unit, in a Debian 12 container
	systemd systemd-container debootstrap debian-archive-keyring
	# a real Postfix secondary with AUTH for the end-to-end tests
	postfix sasl2-bin libsasl2-modules libsasl2-modules-db
	# the unpacked Exim's library and the unpacked Sendmail's .cf builder
	libidn12 m4
	# the metrics tests' OpenMetrics and text format parsers (test_metrics,
	# e2e/flush.sh)
	python3-prometheus-client
)
# Postfix is installed without becoming this machine's MTA: the tests run
# their own instances in namespaces.
if [ "$(id -u)" -eq 0 ] && [ -n "$(deps_missing postfix)" ]; then
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
fi
deps_install deps-test "${pkgs[@]}"
