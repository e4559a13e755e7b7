# SPDX-License-Identifier: ISC
# deps-lib.sh: sourced by deps-build.sh and deps-test.sh.  deps_install
# installs the Debian packages of a list that are missing, after asking apt
# what that would do: it never installs anything that would remove another
# package (Debian's postfix conflicts with exim4, sendmail and opensmtpd, so
# apt would silently take the admin's MTA away), and it says what it
# installs.  Needs root only when something is missing.

export DEBIAN_FRONTEND=noninteractive

# deps_missing PKG...: print the packages that are not installed.
deps_missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q "ok installed" || echo "$p"
	done
}

# deps_removals PKG...: print the installed packages that installing PKGs
# (without recommends) would remove, from apt's simulation; fail with apt's
# message when apt cannot even plan it (an unknown package, say).
deps_removals() {
	local out
	if ! out=$(apt-get install -s --no-install-recommends "$@" 2>&1); then
		printf '%s\n' "$out" | grep -E '^(E|W):' >&2
		return 1
	fi
	printf '%s\n' "$out" | sed -n 's/^Remv \([^ ]*\).*/\1/p'
}

# deps_install LABEL PKG...: install what is missing of PKGs, or refuse
# (exit status 1, nothing installed) when any of it would remove a package.
deps_install() {
	local label=$1 p removed culprits=0
	shift
	local missing
	mapfile -t missing < <(deps_missing "$@")
	if [ ${#missing[@]} -eq 0 ]; then
		echo "$label: all $# packages installed"
		return 0
	fi
	echo "$label: missing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "$label: not root: install them with" \
		    "apt-get install --no-install-recommends ${missing[*]}" >&2
		return 1
	fi
	apt-get update -q || return 1

	removed=$(deps_removals "${missing[@]}") || {
		echo "$label: apt cannot install ${missing[*]}: not installing" >&2
		return 1
	}
	if [ -n "$removed" ]; then
		# Name the package that causes each removal.
		for p in "${missing[@]}"; do
			local r
			r=$(deps_removals "$p" 2>/dev/null | tr '\n' ' ')
			[ -n "$r" ] || continue
			echo "$label: $p would remove ${r% }: not installing" \
			    "anything; run the tests on a machine (or container)" \
			    "without another mail server, or remove ${r% }" \
			    "yourself first if you mean to" >&2
			culprits=1
		done
		# Only together (one needs another's removal): name them all.
		[ $culprits -eq 1 ] ||
			echo "$label: installing ${missing[*]} would remove" \
			    "$(printf '%s' "$removed" | tr '\n' ' ')" \
			    "(not installing)" >&2
		return 1
	fi

	echo "$label: installing ${missing[*]}"
	apt-get install -y -q --no-install-recommends "${missing[@]}" || {
		echo "$label: apt-get install failed" >&2
		return 1
	}
	echo "$label: installed ${missing[*]}"
}
