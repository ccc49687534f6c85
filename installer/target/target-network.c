/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The network of the installed system, for systemd-networkd: the profile's
 * network.ethernets (netplan version 2 syntax) become .network files, the
 * way netplan's networkd renderer would write them. There is no netplan in
 * the image, so nothing else reads the profile's network section. */
#include <inttypes.h>

#include "basic/log.h"
#include "target/target-internal.h"

#define NETWORK_DIR "/etc/systemd/network"
#define NETWORK_PREFIX "10-installer-"
#define NETWORK_SUFFIX ".network"
#define RESOLV_MAXNS 3 /* glibc reads no more than three name servers */

/* Values end up on "Key=value" lines: nothing in them may end the line. The
 * profile validated them already; this is the last line of defence. */
static bool value_is_safe(const char *s) {
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7f)
                        return false;
        return true;
}

static bool strv_is_safe(char *const *l) {
        for (size_t i = 0; l && l[i]; i++)
                if (!value_is_safe(l[i]))
                        return false;
        return true;
}

/* The ethernet id is part of a file name. */
static bool id_is_safe(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 200 && s[0] != '.' &&
               s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")] == 0;
}

static bool is_ipv6(const char *s) {
        return strchr(s, ':') != NULL;
}

static const char *dhcp_value(bool v4, bool v6) {
        return v4 && v6 ? "yes" : v4 ? "ipv4" : v6 ? "ipv6" : NULL;
}

static int check_ethernet(const ProfileEthernet *e) {
        if (!id_is_safe(e->id))
                return log_debug_errno(-EINVAL, "network: invalid ethernet id");
        if ((e->match_mac && !value_is_safe(e->match_mac)) || (e->match_name && !value_is_safe(e->match_name)) ||
            !strv_is_safe(e->addresses) || (e->gateway4 && !value_is_safe(e->gateway4)) ||
            (e->gateway6 && !value_is_safe(e->gateway6)) || !strv_is_safe(e->nameservers) ||
            !strv_is_safe(e->search))
                return log_debug_errno(-EINVAL, "network: ethernet %s has a value with blanks or control characters", e->id);
        for (size_t i = 0; i < e->n_routes; i++)
                if (!value_is_safe(e->routes[i].to) || !value_is_safe(e->routes[i].via))
                        return log_debug_errno(-EINVAL, "network: ethernet %s has an invalid route", e->id);
        return 0;
}

static void format_ethernet(const ProfileEthernet *e, FILE *f) {
        const char *dhcp = dhcp_value(e->dhcp4, e->dhcp6);

        fprintf(f, "# Written by the installer from the profile (network.ethernets.%s).\n", e->id);
        fputs("[Match]\n", f);
        if (e->match_mac)
                fprintf(f, "MACAddress=%s\n", e->match_mac);
        if (e->match_name)
                fprintf(f, "Name=%s\n", e->match_name);
        if (!e->match_mac && !e->match_name)
                fprintf(f, "Name=%s\n", e->id); /* netplan: without match, the id is the interface name */

        if (e->mtu > 0)
                fprintf(f, "\n[Link]\nMTUBytes=%" PRIu32 "\n", e->mtu);

        fputs("\n[Network]\n", f);
        if (dhcp)
                fprintf(f, "DHCP=%s\n", dhcp);
        for (size_t i = 0; e->addresses && e->addresses[i]; i++)
                fprintf(f, "Address=%s\n", e->addresses[i]);
        if (e->gateway4)
                fprintf(f, "Gateway=%s\n", e->gateway4);
        if (e->gateway6)
                fprintf(f, "Gateway=%s\n", e->gateway6);
        for (size_t i = 0; e->nameservers && e->nameservers[i]; i++)
                fprintf(f, "DNS=%s\n", e->nameservers[i]);
        if (e->search && e->search[0]) {
                fputs("Domains=", f);
                for (size_t i = 0; e->search[i]; i++)
                        fprintf(f, "%s%s", i > 0 ? " " : "", e->search[i]);
                fputc('\n', f);
        }

        for (size_t i = 0; i < e->n_routes; i++) {
                const ProfileRoute *rt = &e->routes[i];
                const char *to = rt->to;

                if (streq(to, "default"))
                        to = is_ipv6(rt->via) ? "::/0" : "0.0.0.0/0";
                fprintf(f, "\n[Route]\nDestination=%s\nGateway=%s\n", to, rt->via);
                if (rt->metric > 0)
                        fprintf(f, "Metric=%" PRIu32 "\n", rt->metric);
        }
}

/* Without a network section: DHCP on the NIC that booted the installer, or
 * on every ethernet when we do not know it. */
static int format_fallback(const char *boot_mac, FILE *f) {
        char mac[18];

        fputs("# Written by the installer: the profile has no network section.\n", f);
        if (boot_mac) {
                if (mac_normalize(boot_mac, mac) < 0)
                        return log_debug_errno(-EINVAL, "network: invalid boot MAC address");
                fprintf(f, "# DHCP on the interface the installer booted from.\n"
                           "[Match]\nMACAddress=%s\n", mac);
        } else
                fputs("# DHCP on every ethernet interface.\n"
                      "[Match]\nName=en* eth*\n", f);
        fputs("\n[Network]\nDHCP=yes\n", f);
        return 0;
}

static int write_network_file(int rootfd, const char *id, const ProfileEthernet *e, const char *boot_mac,
                              char ***written) {
        _cleanup_(target_buf_free) TargetBuf b = {};
        _cleanup_free_ char *name = strprintf(NETWORK_PREFIX "%s" NETWORK_SUFFIX, id);
        _cleanup_free_ char *path = strprintf(NETWORK_DIR "/%s", name ?: "");
        int r;

        if (!name || !path)
                return -ENOMEM;
        if (strv_contains(*written, name))
                return log_debug_errno(-EEXIST, "network: two ethernets would both write %s", name);
        r = target_buf_open(&b);
        if (r < 0)
                return r;
        if (e)
                format_ethernet(e, b.f);
        else {
                r = format_fallback(boot_mac, b.f);
                if (r < 0)
                        return r;
        }
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        r = target_write_file(rootfd, path, b.data, b.size, 0644, 0, 0);
        if (r < 0)
                return r;
        return strv_extend(written, name);
}

/* Files of an earlier run that this one did not write again. */
static int remove_stale_files(int rootfd, char *const *written) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        dirfd = target_open_dir(rootfd, NETWORK_DIR, 0);
        if (dirfd < 0)
                return dirfd;
        r = target_list_dir(dirfd, &names);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                if (!startswith(*n, NETWORK_PREFIX) || !endswith(*n, NETWORK_SUFFIX) || strv_contains(written, *n))
                        continue;
                if (unlinkat(dirfd, *n, 0) < 0 && errno != ENOENT)
                        return log_debug_errno(errno, "network: cannot remove stale " NETWORK_DIR "/%s: %m", *n);
                log_debug("Removed stale " NETWORK_DIR "/%s", *n);
        }
        return 0;
}

/* Where the image keeps a unit: the path systemctl would link to, or NULL. */
static int find_unit(int rootfd, const char *unit, char **ret) {
        static const char *const dirs[] = { "/lib/systemd/system", "/usr/lib/systemd/system" };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = strprintf("%s/%s", dirs[i], unit);
                int r;

                if (!p)
                        return -ENOMEM;
                r = target_exists(rootfd, p);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = TAKE_PTR(p);
                        return 1;
                }
        }
        *ret = NULL;
        return 0;
}

/* What "systemctl enable systemd-networkd.service" does on Debian 12,
 * following the [Install] sections of systemd 252: WantedBy, Alias and the
 * Also= units, each only if the image has it. */
static int enable_networkd(int rootfd) {
        static const struct {
                const char *unit, *link;
        } links[] = {
                { "systemd-networkd.service", "multi-user.target.wants/systemd-networkd.service" },
                { "systemd-networkd.service", "dbus-org.freedesktop.network1.service" },
                { "systemd-networkd.socket", "sockets.target.wants/systemd-networkd.socket" },
                { "systemd-networkd-wait-online.service",
                  "network-online.target.wants/systemd-networkd-wait-online.service" },
                { "systemd-network-generator.service", "sysinit.target.wants/systemd-network-generator.service" },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                _cleanup_free_ char *unit = NULL, *link = NULL;

                r = find_unit(rootfd, links[i].unit, &unit);
                if (r < 0)
                        return r;
                if (r == 0) {
                        if (i == 0) {
                                log_debug("network: the image has no systemd-networkd.service; not enabling it");
                                return 0;
                        }
                        continue;
                }
                link = strprintf("/etc/systemd/system/%s", links[i].link);
                if (!link)
                        return -ENOMEM;
                r = target_symlink(rootfd, link, unit);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int push_unique(char ***l, const char *s) {
        return strv_contains(*l, s) ? 0 : strv_extend(l, s);
}

/* Without systemd-resolved nobody passes networkd's DNS servers on to the
 * resolver: /etc/resolv.conf gets the static ones. */
static int write_resolv_conf(int rootfd, const Profile *p) {
        _cleanup_strv_free_ char **servers = NULL, **search = NULL;
        _cleanup_(target_buf_free) TargetBuf b = {};
        _cleanup_free_ char *resolved = NULL;
        int r;

        r = find_unit(rootfd, "systemd-resolved.service", &resolved);
        if (r < 0)
                return r;
        if (r > 0) {
                log_debug("network: the image has systemd-resolved; leaving /etc/resolv.conf alone");
                return 0;
        }

        for (size_t i = 0; i < p->network.n_ethernets; i++) {
                const ProfileEthernet *e = &p->network.ethernets[i];
                for (size_t j = 0; e->nameservers && e->nameservers[j]; j++)
                        if ((r = push_unique(&servers, e->nameservers[j])) < 0)
                                return r;
                for (size_t j = 0; e->search && e->search[j]; j++)
                        if ((r = push_unique(&search, e->search[j])) < 0)
                                return r;
        }
        if (strv_length(servers) == 0) {
                log_debug("network: no static name servers; leaving /etc/resolv.conf alone");
                return 0;
        }

        r = target_buf_open(&b);
        if (r < 0)
                return r;
        fputs("# Written by the installer from the profile's static name servers\n"
              "# (there is no systemd-resolved on this system).\n",
              b.f);
        for (size_t i = 0; servers[i]; i++) {
                if (i >= RESOLV_MAXNS) {
                        log_debug("network: /etc/resolv.conf takes %d name servers; dropping the other %zu",
                                  RESOLV_MAXNS, strv_length(servers) - RESOLV_MAXNS);
                        break;
                }
                fprintf(b.f, "nameserver %s\n", servers[i]);
        }
        if (search) {
                fputs("search", b.f);
                for (size_t i = 0; search[i]; i++)
                        fprintf(b.f, " %s", search[i]);
                fputc('\n', b.f);
        }
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        /* Replaces whatever is there, a (dangling) symlink included. */
        return target_write_file(rootfd, "/etc/resolv.conf", b.data, b.size, 0644, 0, 0);
}

int target_write_network(const char *root, const Profile *p, const char *boot_mac) {
        _cleanup_close_ int rootfd = -1;
        _cleanup_strv_free_ char **written = NULL;
        int r = 0;

        if (!p)
                return -EINVAL;
        for (size_t i = 0; i < p->network.n_ethernets; i++) {
                r = check_ethernet(&p->network.ethernets[i]);
                if (r < 0)
                        return r;
        }

        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;

        if (p->network.n_ethernets == 0)
                r = write_network_file(rootfd, "default", NULL, boot_mac, &written);
        for (size_t i = 0; i < p->network.n_ethernets; i++) {
                const ProfileEthernet *e = &p->network.ethernets[i];
                r = write_network_file(rootfd, e->id, e, NULL, &written);
                if (r < 0)
                        break;
        }
        if (r < 0)
                return r;

        r = remove_stale_files(rootfd, written);
        if (r < 0)
                return r;
        r = enable_networkd(rootfd);
        if (r < 0)
                return r;
        return write_resolv_conf(rootfd, p);
}
