/* SPDX-License-Identifier: ISC */
/*
 * watch: the rule for which interfaces etrnd watches; see watch.h.
 */
#include <fnmatch.h>
#include <stdbool.h>
#include <stddef.h>

#include "watch.h"

/*
 * Bridges and the host ends of guests' links, by the names their tools
 * give them: Docker (docker0, br-<id>, veth<id>), libvirt (virbr*, vnet*),
 * LXC/LXD (lxcbr*, lxdbr*, veth*), systemd-nspawn (ve-*, vb-*, vz-*),
 * Podman and CNI (podman*, cni*), Kubernetes overlays (flannel*, cali*),
 * VirtualBox and VMware host-only networks.  A container's own uplink
 * (host0, eth0) is none of these, so inside a container etrnd still
 * watches it.
 */
const char *const watch_default_exclude[] = {
	"docker*", "br-*", "veth*", "virbr*", "vnet*", "lxcbr*", "lxdbr*",
	"ve-*", "vb-*", "vz-*", "podman*", "cni*", "flannel*", "cali*",
	"vboxnet*", "vmnet*",
	NULL
};

bool
watch_match(char * const *watch, size_t nwatch, const char *ifname,
    bool loopback)
{
	bool	positive = false, match = false;
	size_t	i;

	for (i = 0; i < nwatch; i++) {
		if (watch[i][0] == '!') {
			if (fnmatch(watch[i] + 1, ifname, 0) == 0)
				return false;
			continue;
		}
		positive = true;
		if (fnmatch(watch[i], ifname, 0) == 0)
			match = true;
	}
	if (positive)
		return match;
	if (loopback)
		return false;
	for (i = 0; watch_default_exclude[i] != NULL; i++)
		if (fnmatch(watch_default_exclude[i], ifname, 0) == 0)
			return false;
	return true;
}
