/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The network of the installed system. The profile's network section is
 * netplan version 2: a target with netplan gets it as /etc/netplan/
 * 50-installer.yaml; any other target gets the systemd-networkd files that
 * netplan's networkd backend would generate from it (.network, .netdev for
 * bonds, bridges and VLANs, .link for renaming and link settings), so that
 * both behave the same (tests/cli/netplan-compare.sh checks this against
 * netplan itself). */
#include <inttypes.h>

#include "basic/log.h"
#include "target/target-internal.h"

#define NETWORK_DIR "/etc/systemd/network"
#define NETWORK_PREFIX "10-installer-"
#define NETPLAN_BINARY "/usr/sbin/netplan"
#define NETPLAN_FILE "/etc/netplan/50-installer.yaml"
#define RESOLV_MAXNS 3 /* glibc reads no more than three name servers */

/* Values end up on "Key=value" lines: nothing in them may end the line. The
 * profile validated them already; this is the last line of defence. */
static bool value_is_safe(const char *s) {
        if (!s)
                return true; /* unset */
        if (!*s)
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

/* The interface id is part of a file name, after NETWORK_PREFIX: a leading
 * '.' (".np3s0", "..", which the profile allows, as netplan does) makes
 * neither a hidden file nor a path component, and netplan writes
 * "10-netplan-...network" for it too. */
static bool id_is_safe(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 200 &&
               s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")] == 0;
}

static bool is_ipv6(const char *s) {
        return strchr(s, ':') != NULL;
}

static int check_interface(const ProfileInterface *e) {
        const ProfileBondParams *b = &e->bond;
        const ProfileBridgeParams *br = &e->bridge;
        const char *const values[] = {
                e->match_mac, e->match_name, e->match_driver, e->set_name, e->gateway4, e->gateway6, e->macaddress,
                e->dhcp_identifier, e->vlan_link, e->dhcp4_overrides.use_domains, e->dhcp4_overrides.hostname,
                e->ipv6_address_token, e->activation_mode,
                e->dhcp6_overrides.use_domains, e->dhcp6_overrides.hostname, b->mode, b->lacp_rate,
                b->mii_monitor_interval, b->transmit_hash_policy, b->ad_select, b->arp_interval, b->arp_validate,
                b->arp_all_targets, b->up_delay, b->down_delay, b->fail_over_mac_policy, b->primary_reselect_policy,
                b->learn_packet_interval, b->primary, br->ageing_time, br->forward_delay, br->hello_time,
                br->max_age,
        };

        if (!id_is_safe(e->id))
                return log_debug_errno(-EINVAL, "network: invalid interface id");
        for (size_t i = 0; i < ELEMENTSOF(values); i++)
                if (!value_is_safe(values[i]))
                        return log_debug_errno(-EINVAL, "network: %s has a value with blanks or control characters",
                                               e->id);
        if (!strv_is_safe(e->addresses) || !strv_is_safe(e->nameservers) || !strv_is_safe(e->search) ||
            !strv_is_safe(e->interfaces) || !strv_is_safe(b->arp_ip_targets))
                return log_debug_errno(-EINVAL, "network: %s has a list with blanks or control characters", e->id);
        for (size_t i = 0; i < e->n_routes; i++) {
                const ProfileRoute *r = &e->routes[i];
                if (!r->to || !value_is_safe(r->to) || !value_is_safe(r->via) || !value_is_safe(r->from) ||
                    !value_is_safe(r->scope) || !value_is_safe(r->type) || (!r->via && streq(r->to, "default")))
                        return log_debug_errno(-EINVAL, "network: %s has an invalid route", e->id);
        }
        for (size_t i = 0; i < e->n_rules; i++)
                if (!value_is_safe(e->rules[i].from) || !value_is_safe(e->rules[i].to))
                        return log_debug_errno(-EINVAL, "network: %s has an invalid routing policy rule", e->id);
        for (size_t i = 0; i < br->n_path_cost; i++)
                if (!value_is_safe(br->path_cost[i].port))
                        return -EINVAL;
        for (size_t i = 0; i < br->n_port_priority; i++)
                if (!value_is_safe(br->port_priority[i].port))
                        return -EINVAL;
        return 0;
}

/* ---- rendering, the way netplan's networkd backend does (netplan.io 0.106) ---- */

/* The name netplan matches an ethernet by: match: name, or the id without match:. */
static const char *original_name(const ProfileInterface *e) {
        if (e->kind != NET_ETHERNET)
                return NULL;
        return e->has_match ? e->match_name : e->id;
}

/* rename: the .network's view (the name after a set-name), else the .link's. */
static void format_match(const ProfileInterface *e, bool rename, FILE *f) {
        const char *orig = original_name(e);

        fputs("[Match]\n", f);
        if (e->match_driver)
                fprintf(f, "Driver=%s\n", e->match_driver);
        if (e->match_mac)
                fprintf(f, "PermanentMACAddress=%s\n", e->match_mac);
        if (!rename && orig)
                fprintf(f, "OriginalName=%s\n", orig);
        if (rename) {
                if (e->kind != NET_ETHERNET)
                        fprintf(f, "Name=%s\n", e->id);
                else if (e->set_name)
                        fprintf(f, "Name=%s\n", e->set_name);
                else if (orig)
                        fprintf(f, "Name=%s\n", orig);
        }
}

static const char *const offload_keys[_NET_OFFLOAD_MAX] = {
        [NET_OFFLOAD_RX_CHECKSUM] = "ReceiveChecksumOffload",
        [NET_OFFLOAD_TX_CHECKSUM] = "TransmitChecksumOffload",
        [NET_OFFLOAD_TSO] = "TCPSegmentationOffload",
        [NET_OFFLOAD_TSO6] = "TCP6SegmentationOffload",
        [NET_OFFLOAD_GSO] = "GenericSegmentationOffload",
        [NET_OFFLOAD_GRO] = "GenericReceiveOffload",
        [NET_OFFLOAD_LRO] = "LargeReceiveOffload",
};

static bool needs_link_file(const ProfileInterface *e) {
        if (e->kind != NET_ETHERNET)
                return false;
        if (e->set_name || e->wakeonlan || e->mtu > 0)
                return true;
        for (size_t i = 0; i < _NET_OFFLOAD_MAX; i++)
                if (e->offload[i] >= 0)
                        return true;
        return false;
}

/* .link: renaming, Wake-on-LAN, MTU and offloads of a physical interface. */
static void format_link(const ProfileInterface *e, FILE *f) {
        fprintf(f, "# Written by the installer from the profile (network.%s.%s).\n", net_kind_to_section(e->kind),
                e->id);
        format_match(e, false, f);
        fputs("\n[Link]\n", f);
        if (e->set_name)
                fprintf(f, "Name=%s\n", e->set_name);
        fprintf(f, "WakeOnLan=%s\n", e->wakeonlan ? "magic" : "off");
        if (e->mtu > 0)
                fprintf(f, "MTUBytes=%" PRIu32 "\n", e->mtu);
        for (size_t i = 0; i < _NET_OFFLOAD_MAX; i++)
                if (e->offload[i] >= 0)
                        fprintf(f, "%s=%s\n", offload_keys[i], e->offload[i] ? "true" : "false");
}

/* An interval netplan passes on in milliseconds unless it has a unit. */
static void format_interval(FILE *f, const char *key, const char *v) {
        if (v)
                fprintf(f, "%s=%s%s\n", key, v, v[strspn(v, "0123456789")] ? "" : "ms");
}

static void format_netdev(const ProfileInterface *e, FILE *f) {
        const ProfileBondParams *b = &e->bond;
        const ProfileBridgeParams *br = &e->bridge;
        static const char *const kinds[_NET_KIND_MAX] = {
                [NET_BOND] = "bond", [NET_BRIDGE] = "bridge", [NET_VLAN] = "vlan",
        };

        fprintf(f, "# Written by the installer from the profile (network.%s.%s).\n", net_kind_to_section(e->kind),
                e->id);
        fprintf(f, "[NetDev]\nName=%s\n", e->id);
        if (e->macaddress)
                fprintf(f, "MACAddress=%s\n", e->macaddress);
        if (e->mtu > 0)
                fprintf(f, "MTUBytes=%" PRIu32 "\n", e->mtu);
        fprintf(f, "Kind=%s\n", kinds[e->kind]);

        switch (e->kind) {
        case NET_BOND: {
                /* Collected first: no [Bond] section without parameters. */
                _cleanup_free_ char *params = NULL;
                size_t size = 0;
                FILE *p = open_memstream(&params, &size);

                if (!p)
                        return;
                if (b->mode)
                        fprintf(p, "Mode=%s\n", b->mode);
                if (b->lacp_rate)
                        fprintf(p, "LACPTransmitRate=%s\n", b->lacp_rate);
                format_interval(p, "MIIMonitorSec", b->mii_monitor_interval);
                if (b->min_links)
                        fprintf(p, "MinLinks=%" PRIu32 "\n", b->min_links);
                if (b->transmit_hash_policy)
                        fprintf(p, "TransmitHashPolicy=%s\n", b->transmit_hash_policy);
                if (b->ad_select)
                        fprintf(p, "AdSelect=%s\n", b->ad_select);
                if (b->all_slaves_active)
                        fputs("AllSlavesActive=1\n", p);
                format_interval(p, "ARPIntervalSec", b->arp_interval);
                for (size_t i = 0; b->arp_ip_targets && b->arp_ip_targets[i]; i++)
                        fprintf(p, "%s%s%s", i ? " " : "ARPIPTargets=", b->arp_ip_targets[i],
                                b->arp_ip_targets[i + 1] ? "" : "\n");
                if (b->arp_validate)
                        fprintf(p, "ARPValidate=%s\n", b->arp_validate);
                if (b->arp_all_targets)
                        fprintf(p, "ARPAllTargets=%s\n", b->arp_all_targets);
                format_interval(p, "UpDelaySec", b->up_delay);
                format_interval(p, "DownDelaySec", b->down_delay);
                if (b->fail_over_mac_policy)
                        fprintf(p, "FailOverMACPolicy=%s\n", b->fail_over_mac_policy);
                if (b->gratuitous_arp)
                        fprintf(p, "GratuitousARP=%" PRIu32 "\n", b->gratuitous_arp);
                if (b->packets_per_slave)
                        fprintf(p, "PacketsPerSlave=%" PRIu32 "\n", b->packets_per_slave);
                if (b->primary_reselect_policy)
                        fprintf(p, "PrimaryReselectPolicy=%s\n", b->primary_reselect_policy);
                if (b->resend_igmp)
                        fprintf(p, "ResendIGMP=%" PRIu32 "\n", b->resend_igmp);
                if (b->learn_packet_interval)
                        fprintf(p, "LearnPacketIntervalSec=%s\n", b->learn_packet_interval);
                if (fclose(p) == 0 && size > 0)
                        fprintf(f, "\n[Bond]\n%s", params);
                break;
        }
        case NET_BRIDGE:
                if (!br->given)
                        break;
                fputs("\n[Bridge]\n", f);
                if (br->ageing_time)
                        fprintf(f, "AgeingTimeSec=%s\n", br->ageing_time);
                if (br->priority)
                        fprintf(f, "Priority=%" PRIu32 "\n", br->priority);
                if (br->forward_delay)
                        fprintf(f, "ForwardDelaySec=%s\n", br->forward_delay);
                if (br->hello_time)
                        fprintf(f, "HelloTimeSec=%s\n", br->hello_time);
                if (br->max_age)
                        fprintf(f, "MaxAgeSec=%s\n", br->max_age);
                fprintf(f, "STP=%s\n", br->stp ? "true" : "false");
                break;
        case NET_VLAN:
                fprintf(f, "\n[VLAN]\nId=%" PRIu32 "\n", e->vlan_id);
                break;
        default:
                break;
        }
}

static uint32_t port_value(const ProfilePortValue *v, size_t n, const char *port) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].port, port))
                        return v[i].value;
        return 0;
}

/* The overrides networkd gets: one [DHCP] section for both families. */
static const ProfileDhcpOverrides *dhcp_overrides(const ProfileInterface *e) {
        return e->dhcp6 && !e->dhcp4 ? &e->dhcp6_overrides : &e->dhcp4_overrides;
}

static void format_network(const ProfileNetwork *net, const ProfileInterface *e, FILE *f) {
        const ProfileInterface *m = e->master;
        bool has_link = e->optional || e->mtu > 0 || e->macaddress || e->activation_mode;

        fprintf(f, "# Written by the installer from the profile (network.%s.%s).\n", net_kind_to_section(e->kind),
                e->id);
        format_match(e, true, f);

        if (has_link) {
                fputs("\n[Link]\n", f);
                if (e->activation_mode)
                        fprintf(f, "ActivationPolicy=%s\n", streq(e->activation_mode, "off") ? "always-down" : "manual");
                /* Boot does not wait for it: optional, or not brought up by networkd. */
                if (e->optional || e->activation_mode)
                        fputs("RequiredForOnline=no\n", f);
                if (e->mtu > 0)
                        fprintf(f, "MTUBytes=%" PRIu32 "\n", e->mtu);
                if (e->macaddress)
                        fprintf(f, "MACAddress=%s\n", e->macaddress);
        }

        fputs("\n[Network]\n", f);
        if (e->emit_lldp)
                fputs("EmitLLDP=true\n", f);
        if (e->dhcp4 || e->dhcp6)
                fprintf(f, "DHCP=%s\n", e->dhcp4 && e->dhcp6 ? "yes" : e->dhcp4 ? "ipv4" : "ipv6");
        /* Members of a bond or bridge never get link-local addresses. */
        if (!m && (e->link_local_ipv4 || e->link_local_ipv6))
                fprintf(f, "LinkLocalAddressing=%s\n",
                        e->link_local_ipv4 && e->link_local_ipv6 ? "yes" : e->link_local_ipv4 ? "ipv4" : "ipv6");
        else
                fputs("LinkLocalAddressing=no\n", f);
        /* netplan lists IPv4 before IPv6 addresses and name servers. */
        for (int v6 = 0; v6 <= 1; v6++)
                for (size_t i = 0; e->addresses && e->addresses[i]; i++)
                        if (is_ipv6(e->addresses[i]) == v6)
                                fprintf(f, "Address=%s\n", e->addresses[i]);
        if (e->ipv6_address_token)
                fprintf(f, "IPv6Token=static:%s\n", e->ipv6_address_token);
        if (e->accept_ra >= 0)
                fprintf(f, "IPv6AcceptRA=%s\n", e->accept_ra ? "yes" : "no");
        if (e->ipv6_privacy)
                fputs("IPv6PrivacyExtensions=yes\n", f);
        if (e->gateway4)
                fprintf(f, "Gateway=%s\n", e->gateway4);
        if (e->gateway6)
                fprintf(f, "Gateway=%s\n", e->gateway6);
        for (int v6 = 0; v6 <= 1; v6++)
                for (size_t i = 0; e->nameservers && e->nameservers[i]; i++)
                        if (is_ipv6(e->nameservers[i]) == v6)
                                fprintf(f, "DNS=%s\n", e->nameservers[i]);
        for (size_t i = 0; e->search && e->search[i]; i++)
                fprintf(f, "%s%s%s", i ? " " : "Domains=", e->search[i], e->search[i + 1] ? "" : "\n");
        if (e->ipv6_mtu > 0)
                fprintf(f, "IPv6MTUBytes=%" PRIu32 "\n", e->ipv6_mtu);
        if (e->kind != NET_ETHERNET || e->ignore_carrier)
                fputs("ConfigureWithoutCarrier=yes\n", f);
        if (m && m->kind == NET_BOND) {
                fprintf(f, "Bond=%s\n", m->id);
                if (streq_ptr(m->bond.primary, e->id))
                        fputs("PrimarySlave=true\n", f);
        }
        if (m && m->kind == NET_BRIDGE)
                fprintf(f, "Bridge=%s\n", m->id);
        for (size_t i = 0; i < net->n_interfaces; i++)
                if (net->interfaces[i].kind == NET_VLAN && streq_ptr(net->interfaces[i].vlan_link, e->id))
                        fprintf(f, "VLAN=%s\n", net->interfaces[i].id);

        if (m && m->kind == NET_BRIDGE) {
                uint32_t cost = port_value(m->bridge.path_cost, m->bridge.n_path_cost, e->id);
                uint32_t prio = port_value(m->bridge.port_priority, m->bridge.n_port_priority, e->id);

                if (cost || prio)
                        fputs("\n[Bridge]\n", f);
                if (cost)
                        fprintf(f, "Cost=%" PRIu32 "\n", cost);
                if (prio)
                        fprintf(f, "Priority=%" PRIu32 "\n", prio);
        }

        for (size_t i = 0; i < e->n_routes; i++) {
                const ProfileRoute *rt = &e->routes[i];
                const char *to = rt->to;

                if (streq(to, "default"))
                        to = is_ipv6(rt->via) ? "::/0" : "0.0.0.0/0";
                fprintf(f, "\n[Route]\nDestination=%s\n", to);
                if (rt->via)
                        fprintf(f, "Gateway=%s\n", rt->via);
                if (rt->from)
                        fprintf(f, "PreferredSource=%s\n", rt->from);
                if (rt->scope)
                        fprintf(f, "Scope=%s\n", rt->scope);
                if (rt->type)
                        fprintf(f, "Type=%s\n", rt->type);
                if (rt->on_link)
                        fputs("GatewayOnLink=true\n", f);
                if (rt->metric >= 0)
                        fprintf(f, "Metric=%" PRId64 "\n", rt->metric);
                if (rt->table > 0) /* netplan: table 0 is "unspecified" */
                        fprintf(f, "Table=%" PRId64 "\n", rt->table);
                if (rt->mtu > 0)
                        fprintf(f, "MTUBytes=%" PRIu32 "\n", rt->mtu);
        }
        for (size_t i = 0; i < e->n_rules; i++) {
                const ProfileRoutingRule *r = &e->rules[i];

                fputs("\n[RoutingPolicyRule]\n", f);
                if (r->from)
                        fprintf(f, "From=%s\n", r->from);
                if (r->to)
                        fprintf(f, "To=%s\n", r->to);
                if (r->table > 0)
                        fprintf(f, "Table=%" PRId64 "\n", r->table);
                if (r->priority >= 0)
                        fprintf(f, "Priority=%" PRId64 "\n", r->priority);
                if (r->mark > 0) /* netplan: mark 0 is "unspecified" */
                        fprintf(f, "FirewallMark=%" PRId64 "\n", r->mark);
                if (r->tos >= 0)
                        fprintf(f, "TypeOfService=%" PRId64 "\n", r->tos);
        }

        if (e->dhcp4 || e->dhcp6) {
                const ProfileDhcpOverrides *o = dhcp_overrides(e);

                fputs("\n[DHCP]\n", f);
                if (e->critical)
                        fputs("CriticalConnection=true\n", f);
                /* duid is networkd's default; netplan writes only mac. */
                if (e->dhcp_identifier && streq(e->dhcp_identifier, "mac"))
                        fputs("ClientIdentifier=mac\n", f);
                /* NetworkManager-compatible route metric; the MTU from DHCP is used. */
                fprintf(f, "RouteMetric=%" PRId64 "\n", o->route_metric >= 0 ? o->route_metric : 100);
                fprintf(f, "UseMTU=%s\n", o->use_mtu ? "true" : "false");
                if (!o->use_routes)
                        fputs("UseRoutes=false\n", f);
                if (!o->use_dns)
                        fputs("UseDNS=false\n", f);
                if (o->use_domains)
                        fprintf(f, "UseDomains=%s\n", o->use_domains);
                if (!o->use_ntp)
                        fputs("UseNTP=false\n", f);
                if (!o->send_hostname)
                        fputs("SendHostname=false\n", f);
                if (!o->use_hostname)
                        fputs("UseHostname=false\n", f);
                if (o->hostname)
                        fprintf(f, "Hostname=%s\n", o->hostname);
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

typedef enum NetFileType {
        NET_FILE_NETWORK,
        NET_FILE_NETDEV,
        NET_FILE_LINK,
        NET_FILE_FALLBACK,
} NetFileType;

static const char *const net_file_suffix[] = {
        [NET_FILE_NETWORK] = ".network",
        [NET_FILE_NETDEV] = ".netdev",
        [NET_FILE_LINK] = ".link",
        [NET_FILE_FALLBACK] = ".network",
};

static int write_net_file(int rootfd, NetFileType type, const char *id, const ProfileNetwork *net,
                          const ProfileInterface *e, const char *boot_mac, char ***written) {
        _cleanup_(target_buf_free) TargetBuf b = {};
        _cleanup_free_ char *name = strprintf(NETWORK_PREFIX "%s%s", id, net_file_suffix[type]);
        _cleanup_free_ char *path = strprintf(NETWORK_DIR "/%s", name ?: "");
        int r;

        if (!name || !path)
                return -ENOMEM;
        if (strv_contains(*written, name))
                return log_debug_errno(-EEXIST, "network: two interfaces would both write %s", name);
        r = target_buf_open(&b);
        if (r < 0)
                return r;
        switch (type) {
        case NET_FILE_NETWORK:
                format_network(net, e, b.f);
                break;
        case NET_FILE_NETDEV:
                format_netdev(e, b.f);
                break;
        case NET_FILE_LINK:
                format_link(e, b.f);
                break;
        case NET_FILE_FALLBACK:
                r = format_fallback(boot_mac, b.f);
                if (r < 0)
                        return r;
                break;
        }
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        r = target_write_file(rootfd, path, b.data, b.size, 0644, 0, 0);
        if (r < 0)
                return r;
        return strv_extend(written, name);
}

static int write_networkd_files(int rootfd, const ProfileNetwork *net, const char *boot_mac, char ***written) {
        int r;

        if (net->n_interfaces == 0)
                return write_net_file(rootfd, NET_FILE_FALLBACK, "default", net, NULL, boot_mac, written);
        for (size_t i = 0; i < net->n_interfaces; i++) {
                const ProfileInterface *e = &net->interfaces[i];

                if (needs_link_file(e)) {
                        r = write_net_file(rootfd, NET_FILE_LINK, e->id, net, e, NULL, written);
                        if (r < 0)
                                return r;
                }
                if (e->kind != NET_ETHERNET) {
                        r = write_net_file(rootfd, NET_FILE_NETDEV, e->id, net, e, NULL, written);
                        if (r < 0)
                                return r;
                }
                r = write_net_file(rootfd, NET_FILE_NETWORK, e->id, net, e, NULL, written);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- targets with netplan: the YAML as written --------------------------------------- */

static int write_netplan_yaml(int rootfd, const Profile *p, const char *boot_mac) {
        _cleanup_(target_buf_free) TargetBuf b = {};
        char mac[18];
        int r;

        r = target_buf_open(&b);
        if (r < 0)
                return r;
        fputs("# Written by the installer from the profile's network section.\n", b.f);
        if (p->network.source) {
                /* The section as written (merged from fragments), under "network:". */
                YNode key = { .type = YNODE_SCALAR, .value = (char *) "network", .plain = true };
                YNode *keys[] = { &key }, *items[] = { p->network.source };
                YNode root = { .type = YNODE_MAPPING, .n = 1, .keys = keys, .items = items };

                r = ydoc_emit(&root, b.f);
                if (r < 0)
                        return log_debug_errno(r, "network: cannot write the network section as YAML: %m");
        } else if (boot_mac) {
                if (mac_normalize(boot_mac, mac) < 0)
                        return log_debug_errno(-EINVAL, "network: invalid boot MAC address");
                fprintf(b.f, "# No network section: DHCP on the interface the installer booted from.\n"
                             "network:\n  version: 2\n  renderer: networkd\n  ethernets:\n"
                             "    default:\n      match:\n        macaddress: \"%s\"\n"
                             "      dhcp4: true\n      dhcp6: true\n", mac);
        } else
                fputs("# No network section: DHCP on every ethernet interface.\n"
                      "network:\n  version: 2\n  renderer: networkd\n  ethernets:\n"
                      "    default-en:\n      match:\n        name: \"en*\"\n      dhcp4: true\n      dhcp6: true\n"
                      "      optional: true\n"
                      "    default-eth:\n      match:\n        name: \"eth*\"\n      dhcp4: true\n      dhcp6: true\n"
                      "      optional: true\n", b.f);
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        /* netplan warns about (and ignores nothing in) files others can read. */
        return target_write_file(rootfd, NETPLAN_FILE, b.data, b.size, 0600, 0, 0);
}

/* Files of an earlier run that this one did not write again. */
static int remove_stale_files(int rootfd, char *const *written) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        dirfd = target_open_dir(rootfd, NETWORK_DIR, 0);
        if (dirfd == -ENOENT)
                return 0;
        if (dirfd < 0)
                return dirfd;
        r = target_list_dir(dirfd, &names);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                if (!startswith(*n, NETWORK_PREFIX) || strv_contains(written, *n) ||
                    !(endswith(*n, ".network") || endswith(*n, ".netdev") || endswith(*n, ".link")))
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

        for (size_t i = 0; i < p->network.n_interfaces; i++) {
                const ProfileInterface *e = &p->network.interfaces[i];
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
        int r;

        if (!p)
                return -EINVAL;
        for (size_t i = 0; i < p->network.n_interfaces; i++) {
                r = check_interface(&p->network.interfaces[i]);
                if (r < 0)
                        return r;
        }

        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;

        /* A target with netplan gets the YAML and generates networkd's files
         * itself at every boot. */
        r = target_exists(rootfd, NETPLAN_BINARY);
        if (r < 0)
                return r;
        if (r > 0) {
                log_debug("network: the image has netplan; writing " NETPLAN_FILE);
                r = write_netplan_yaml(rootfd, p, boot_mac);
        } else
                r = write_networkd_files(rootfd, &p->network, boot_mac, &written);
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
