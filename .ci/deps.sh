#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Install what etrnd needs to build (deps-build.sh) and to test
# (deps-test.sh) on Debian 12; run as root.  Each installs only what is
# missing, shows it, and refuses (exit 1) rather than remove a package.
set -euo pipefail
cd "$(dirname "$0")"
bash ./deps-build.sh
bash ./deps-test.sh
