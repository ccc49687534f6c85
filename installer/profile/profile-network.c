/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The network: section, netplan version 2: ethernets, bonds, bridges and
 * vlans with the keys of docs/profile.md. Whatever netplan can express but we
 * cannot install is an error naming the key, never dropped. Values are checked
 * as netplan checks them, so that a file we accept renders the same as with
 * netplan (tests/cli/netplan-compare.sh). */
#include <sys/socket.h>

#include "profile/profile-internal.h"

#define IFNAME_MAX 15

static const char *const kind_sections[_NET_KIND_MAX] = {
        [NET_ETHERNET] = "ethernets",
        [NET_BOND] = "bonds",
        [NET_BRIDGE] = "bridges",
        [NET_VLAN] = "vlans",
};

const char *net_kind_to_section(NetKind k) {
        return k >= 0 && k < _NET_KIND_MAX ? kind_sections[k] : NULL;
}

/* Where an interface was written, for the cross-checks after the walk. */
typedef struct NetState {
        ProfileNetwork *net;
        const YNode **keys, **values; /* per interface */
        size_t cap;
} NetState;

typedef struct IfaceState {
        ProfileInterface *iface;
        const YNode *node;
} IfaceState;

/* ---- small validators --------------------------------------------------------- */

/* An address on an interface: CIDR with a prefix length of at least 1. */
static const char *check_interface_address(const char *s) {
        const char *why = profile_check_cidr(s);

        if (why)
                return why;
        if (strtoul(strchr(s, '/') + 1, NULL, 10) == 0)
                return "the prefix length of an interface address must be at least 1";
        return NULL;
}

/* An id is part of the file names the renderer writes (and netplan
 * generates): at most 200 characters, as target-network.c takes them. */
#define IFACE_ID_MAX 200

static const char *check_iface_chars(const char *s) {
        if (*s == 0 || s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")] != 0)
                return "may only contain letters, digits, '_', '.', ':' and '-'";
        if (strlen(s) > IFACE_ID_MAX)
                return "an interface id has at most 200 characters (it is part of a file name)";
        return NULL;
}

static const char *check_interface_name(const char *s) {
        const char *why = check_iface_chars(s);

        if (why)
                return why;
        if (strlen(s) > IFNAME_MAX)
                return "an interface name has at most 15 characters";
        return NULL;
}

/* A glob for match: name/driver. */
static const char *check_glob(const char *s) {
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == '/' || *p == 0x7f)
                        return "no white space or '/'";
        return *s ? NULL : "empty";
}

/* A time as netplan passes it to networkd: digits, optionally with a unit. */
static const char *check_duration(const char *s) {
        static const char *const units[] = { "", "us", "ms", "s", "sec", "m", "min", "h" };
        size_t n = strspn(s, "0123456789");

        if (n == 0)
                return "expected a number, optionally with a unit (ms, s, min, h)";
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(s + n, units[i]))
                        return NULL;
        return "expected a number, optionally with a unit (ms, s, min, h)";
}

static const char *check_ip_or_cidr(const char *s) {
        return strchr(s, '/') ? profile_check_cidr(s) : profile_check_ip(s);
}

static void parse_uint32(Checker *c, const YNode *v, uint64_t min, uint64_t max, uint32_t *ret) {
        uint64_t u;

        if (ck_uint(c, v, min, max, &u))
                *ret = (uint32_t) u;
}

static void parse_int64(Checker *c, const YNode *v, uint64_t max, int64_t *ret) {
        uint64_t u;

        if (ck_uint(c, v, 0, max, &u))
                *ret = (int64_t) u;
}

static void parse_enum_str(Checker *c, const YNode *v, const char *what, const char *const *names, size_t n,
                           char **ret) {
        int i = ck_enum(c, v, what, names, n);

        if (i >= 0)
                ck_strdup(c, names[i], ret);
}

#define IFACE(u) (((IfaceState *) (u))->iface)

/* ---- match ------------------------------------------------------------------------ */

static void parse_match_macaddress(Checker *c, const YNode *v, void *userdata) {
        char mac[18];

        if (ck_mac(c, v, mac))
                ck_strdup(c, mac, &IFACE(userdata)->match_mac);
}

static void parse_match_name(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "interface name pattern", check_glob, &IFACE(userdata)->match_name);
}

static void parse_match_driver(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "driver name pattern", check_glob, &IFACE(userdata)->match_driver);
}

static const Field match_fields[] = {
        { "macaddress", parse_match_macaddress, false },
        { "name", parse_match_name, false },
        { "driver", parse_match_driver, false },
};

static void parse_ethernet_match(Checker *c, const YNode *v, void *userdata) {
        if (!ck_fields(c, v, match_fields, ELEMENTSOF(match_fields), userdata))
                return;
        if (v->n == 0)
                ck_error(c, v, "match needs 'macaddress', 'name' or 'driver'");
        IFACE(userdata)->has_match = true;
}

static void parse_ethernet_set_name(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "interface name", check_interface_name, &IFACE(userdata)->set_name);
}

static void parse_ethernet_wakeonlan(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &IFACE(userdata)->wakeonlan);
}

#define OFFLOAD_PARSER(name, idx)                                                 \
        static void parse_##name(Checker *c, const YNode *v, void *userdata) {    \
                bool b;                                                           \
                if (ck_bool(c, v, &b))                                            \
                        IFACE(userdata)->offload[idx] = b;                        \
        }
OFFLOAD_PARSER(offload_rx_csum, NET_OFFLOAD_RX_CHECKSUM)
OFFLOAD_PARSER(offload_tx_csum, NET_OFFLOAD_TX_CHECKSUM)
OFFLOAD_PARSER(offload_tso, NET_OFFLOAD_TSO)
OFFLOAD_PARSER(offload_tso6, NET_OFFLOAD_TSO6)
OFFLOAD_PARSER(offload_gso, NET_OFFLOAD_GSO)
OFFLOAD_PARSER(offload_gro, NET_OFFLOAD_GRO)
OFFLOAD_PARSER(offload_lro, NET_OFFLOAD_LRO)

/* ---- routes --------------------------------------------------------------------------- */

static const char *check_route_to(const char *s) {
        return streq(s, "default") ? NULL : check_ip_or_cidr(s);
}

#define ROUTE(u) ((ProfileRoute *) (u))

static void parse_route_to(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "route destination", check_route_to, &ROUTE(userdata)->to);
}

static void parse_route_via(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "gateway", profile_check_ip, &ROUTE(userdata)->via);
}

static void parse_route_from(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "source address", profile_check_ip, &ROUTE(userdata)->from);
}

static void parse_route_scope(Checker *c, const YNode *v, void *userdata) {
        static const char *const scopes[] = { "global", "link", "host" };
        int i = ck_enum(c, v, "route scope", scopes, ELEMENTSOF(scopes));

        if (i > 0)
                ck_strdup(c, scopes[i], &ROUTE(userdata)->scope);
}

static void parse_route_type(Checker *c, const YNode *v, void *userdata) {
        static const char *const types[] = { "unicast", "anycast", "blackhole", "broadcast", "local", "multicast",
                                             "nat", "prohibit", "throw", "unreachable", "xresolve" };
        int i = ck_enum(c, v, "route type", types, ELEMENTSOF(types));

        if (i > 0)
                ck_strdup(c, types[i], &ROUTE(userdata)->type);
}

static void parse_route_on_link(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &ROUTE(userdata)->on_link);
}

static void parse_route_metric(Checker *c, const YNode *v, void *userdata) {
        parse_int64(c, v, UINT32_MAX, &ROUTE(userdata)->metric);
}

static void parse_route_table(Checker *c, const YNode *v, void *userdata) {
        parse_int64(c, v, UINT32_MAX, &ROUTE(userdata)->table);
}

static void parse_route_mtu(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 68, 65535, &ROUTE(userdata)->mtu);
}

static const Field route_fields[] = {
        { "to", parse_route_to, true },
        { "via", parse_route_via, false },
        { "from", parse_route_from, false },
        { "scope", parse_route_scope, false },
        { "type", parse_route_type, false },
        { "on-link", parse_route_on_link, false },
        { "metric", parse_route_metric, false },
        { "table", parse_route_table, false },
        { "mtu", parse_route_mtu, false },
        { "congestion-window", NULL, false },
        { "advertised-receive-window", NULL, false },
        { "advertised-mss", NULL, false },
};

static void check_route(Checker *c, const YNode *v, const ProfileRoute *r) {
        if (!r->to)
                return;
        if (!r->via && streq(r->to, "default"))
                ck_error_key(c, ck_value(v, "to"), "to", "'to: default' needs 'via' (its address family "
                             "says which default route)");
        else if (!r->via && !r->scope && !r->type)
                ck_error(c, v, "a route needs 'via' (or 'scope: link', 'scope: host', or a 'type' "
                         "such as blackhole)");
        if (r->via && !streq(r->to, "default") && profile_ip_family(r->to) != profile_ip_family(r->via))
                ck_error_key(c, ck_value(v, "via"), "via", "the gateway '%s' and the destination '%s' are not "
                             "of the same address family", r->via, r->to);
}

static void parse_iface_routes(Checker *c, const YNode *v, void *userdata) {
        ProfileInterface *e = IFACE(userdata);

        if (!ck_type(c, v, YNODE_SEQUENCE) || v->n == 0)
                return;
        e->routes = new0(ProfileRoute, v->n);
        if (!e->routes) {
                ck_oom(c);
                return;
        }
        e->n_routes = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                e->routes[i].metric = e->routes[i].table = -1;
                if (ck_fields(c, v->items[i], route_fields, ELEMENTSOF(route_fields), &e->routes[i]))
                        check_route(c, v->items[i], &e->routes[i]);
                ck_pop(c, mark);
        }
}

/* ---- routing-policy ------------------------------------------------------------------ */

#define RULE(u) ((ProfileRoutingRule *) (u))

static void parse_rule_from(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "address", check_ip_or_cidr, &RULE(userdata)->from);
}

static void parse_rule_to(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "address", check_ip_or_cidr, &RULE(userdata)->to);
}

static void parse_rule_table(Checker *c, const YNode *v, void *userdata) {
        parse_int64(c, v, UINT32_MAX, &RULE(userdata)->table);
}

static void parse_rule_priority(Checker *c, const YNode *v, void *userdata) {
        parse_int64(c, v, UINT32_MAX, &RULE(userdata)->priority);
}

static void parse_rule_mark(Checker *c, const YNode *v, void *userdata) {
        parse_int64(c, v, UINT32_MAX, &RULE(userdata)->mark);
}

static void parse_rule_tos(Checker *c, const YNode *v, void *userdata) {
        parse_int64(c, v, 255, &RULE(userdata)->tos);
}

static const Field rule_fields[] = {
        { "from", parse_rule_from, false },
        { "to", parse_rule_to, false },
        { "table", parse_rule_table, false },
        { "priority", parse_rule_priority, false },
        { "mark", parse_rule_mark, false },
        { "type-of-service", parse_rule_tos, false },
};

static void parse_iface_routing_policy(Checker *c, const YNode *v, void *userdata) {
        ProfileInterface *e = IFACE(userdata);

        if (!ck_type(c, v, YNODE_SEQUENCE) || v->n == 0)
                return;
        e->rules = new0(ProfileRoutingRule, v->n);
        if (!e->rules) {
                ck_oom(c);
                return;
        }
        e->n_rules = v->n;
        for (size_t i = 0; i < v->n; i++) {
                ProfileRoutingRule *r = &e->rules[i];
                size_t mark = ck_push_index(c, i);

                r->table = r->priority = r->mark = r->tos = -1;
                if (ck_fields(c, v->items[i], rule_fields, ELEMENTSOF(rule_fields), r) &&
                    !ck_key_node(v->items[i], "from") && !ck_key_node(v->items[i], "to"))
                        ck_error(c, v->items[i], "a routing policy rule needs 'from' or 'to'");
                ck_pop(c, mark);
        }
}

/* ---- nameservers ------------------------------------------------------------------------- */

static void parse_nameservers_addresses(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "name server address", true, profile_check_ip, &IFACE(userdata)->nameservers);
}

static void parse_nameservers_search(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "search domain", true, profile_check_domain, &IFACE(userdata)->search);
}

static const Field nameservers_fields[] = {
        { "addresses", parse_nameservers_addresses, false },
        { "search", parse_nameservers_search, false },
};

static void parse_iface_nameservers(Checker *c, const YNode *v, void *userdata) {
        ck_fields(c, v, nameservers_fields, ELEMENTSOF(nameservers_fields), userdata);
}

/* ---- dhcp overrides ------------------------------------------------------------------------ */

#define OVR(u) ((ProfileDhcpOverrides *) (u))

static void parse_ovr_route_metric(Checker *c, const YNode *v, void *userdata) {
        parse_int64(c, v, UINT32_MAX - 1, &OVR(userdata)->route_metric);
}
static void parse_ovr_use_dns(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &OVR(userdata)->use_dns);
}
static void parse_ovr_use_ntp(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &OVR(userdata)->use_ntp);
}
static void parse_ovr_use_mtu(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &OVR(userdata)->use_mtu);
}
static void parse_ovr_use_routes(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &OVR(userdata)->use_routes);
}
static void parse_ovr_use_hostname(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &OVR(userdata)->use_hostname);
}
static void parse_ovr_send_hostname(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &OVR(userdata)->send_hostname);
}
static void parse_ovr_use_domains(Checker *c, const YNode *v, void *userdata) {
        static const char *const values[] = { "true", "false", "route" };
        bool b;

        if (v->type == YNODE_SCALAR && ynode_bool(v, &b) >= 0)
                ck_strdup(c, b ? "true" : "false", &OVR(userdata)->use_domains);
        else
                parse_enum_str(c, v, "use-domains value", values, ELEMENTSOF(values), &OVR(userdata)->use_domains);
}
static void parse_ovr_hostname(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "host name", profile_check_hostname, &OVR(userdata)->hostname);
}

static const Field overrides_fields[] = {
        { "route-metric", parse_ovr_route_metric, false },
        { "use-dns", parse_ovr_use_dns, false },
        { "use-ntp", parse_ovr_use_ntp, false },
        { "use-mtu", parse_ovr_use_mtu, false },
        { "use-routes", parse_ovr_use_routes, false },
        { "use-hostname", parse_ovr_use_hostname, false },
        { "send-hostname", parse_ovr_send_hostname, false },
        { "use-domains", parse_ovr_use_domains, false },
        { "hostname", parse_ovr_hostname, false },
};

static void parse_iface_dhcp4_overrides(Checker *c, const YNode *v, void *userdata) {
        ck_fields(c, v, overrides_fields, ELEMENTSOF(overrides_fields), &IFACE(userdata)->dhcp4_overrides);
}

static void parse_iface_dhcp6_overrides(Checker *c, const YNode *v, void *userdata) {
        ck_fields(c, v, overrides_fields, ELEMENTSOF(overrides_fields), &IFACE(userdata)->dhcp6_overrides);
}

static bool overrides_equal(const ProfileDhcpOverrides *a, const ProfileDhcpOverrides *b, const char **ret_key) {
        *ret_key = a->route_metric != b->route_metric ? "route-metric" :
                   a->use_dns != b->use_dns           ? "use-dns" :
                   a->use_ntp != b->use_ntp           ? "use-ntp" :
                   a->use_mtu != b->use_mtu           ? "use-mtu" :
                   a->use_routes != b->use_routes     ? "use-routes" :
                   a->use_hostname != b->use_hostname ? "use-hostname" :
                   a->send_hostname != b->send_hostname ? "send-hostname" :
                   !streq_ptr(a->use_domains, b->use_domains) ? "use-domains" :
                   !streq_ptr(a->hostname, b->hostname) ? "hostname" : NULL;
        return !*ret_key;
}

/* ---- keys of every interface --------------------------------------------------------------- */

static void parse_iface_dhcp4(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &IFACE(userdata)->dhcp4);
}

static void parse_iface_dhcp6(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &IFACE(userdata)->dhcp6);
}

static void parse_iface_addresses(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "address", true, check_interface_address, &IFACE(userdata)->addresses);
}

static void parse_iface_gateway4(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "gateway4", profile_check_ip4, &IFACE(userdata)->gateway4);
}

static void parse_iface_gateway6(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "gateway6", profile_check_ip6, &IFACE(userdata)->gateway6);
}

static void parse_iface_mtu(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 68, 9216, &IFACE(userdata)->mtu);
}

static void parse_iface_macaddress(Checker *c, const YNode *v, void *userdata) {
        char mac[18];

        if (ck_mac(c, v, mac))
                ck_strdup(c, mac, &IFACE(userdata)->macaddress);
}

static void parse_iface_optional(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &IFACE(userdata)->optional);
}

static void parse_iface_accept_ra(Checker *c, const YNode *v, void *userdata) {
        bool b;

        if (ck_bool(c, v, &b))
                IFACE(userdata)->accept_ra = b;
}

static void parse_iface_ipv6_privacy(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &IFACE(userdata)->ipv6_privacy);
}

static void parse_iface_critical(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &IFACE(userdata)->critical);
}

static void parse_iface_dhcp_identifier(Checker *c, const YNode *v, void *userdata) {
        static const char *const values[] = { "mac", "duid" };

        parse_enum_str(c, v, "dhcp-identifier", values, ELEMENTSOF(values), &IFACE(userdata)->dhcp_identifier);
}

static void parse_iface_link_local(Checker *c, const YNode *v, void *userdata) {
        static const char *const values[] = { "ipv4", "ipv6" };
        ProfileInterface *e = IFACE(userdata);

        if (!ck_type(c, v, YNODE_SEQUENCE))
                return;
        e->link_local_ipv4 = e->link_local_ipv6 = false;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                int k = ck_enum(c, v->items[i], "link-local address family", values, ELEMENTSOF(values));
                if (k == 0)
                        e->link_local_ipv4 = true;
                else if (k == 1)
                        e->link_local_ipv6 = true;
                ck_pop(c, mark);
        }
}

static void parse_iface_emit_lldp(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &IFACE(userdata)->emit_lldp);
}

static void parse_iface_ignore_carrier(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &IFACE(userdata)->ignore_carrier);
}

static void parse_iface_ipv6_mtu(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 1280, 65535, &IFACE(userdata)->ipv6_mtu);
}

static void parse_iface_ipv6_address_token(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "IPv6 address token", profile_check_ip6, &IFACE(userdata)->ipv6_address_token);
}

static void parse_iface_activation_mode(Checker *c, const YNode *v, void *userdata) {
        static const char *const values[] = { "manual", "off" };

        parse_enum_str(c, v, "activation mode", values, ELEMENTSOF(values), &IFACE(userdata)->activation_mode);
}

static void parse_iface_renderer(Checker *c, const YNode *v, void *userdata) {
        const char *s = ck_scalar(c, v);

        if (s && !streq(s, "networkd"))
                ck_error(c, v, "unsupported renderer '%s'; only networkd is supported", ck_quote(s).s);
}

/* Keys with a NULL parser are netplan keys we do not install (yet): an error
 * naming the key. */
#define COMMON_FIELDS                                                             \
        { "renderer", parse_iface_renderer, false },                              \
        { "dhcp4", parse_iface_dhcp4, false },                                    \
        { "dhcp6", parse_iface_dhcp6, false },                                    \
        { "dhcp4-overrides", parse_iface_dhcp4_overrides, false },                \
        { "dhcp6-overrides", parse_iface_dhcp6_overrides, false },                \
        { "dhcp-identifier", parse_iface_dhcp_identifier, false },                \
        { "critical", parse_iface_critical, false },                              \
        { "addresses", parse_iface_addresses, false },                            \
        { "gateway4", parse_iface_gateway4, false },                              \
        { "gateway6", parse_iface_gateway6, false },                              \
        { "routes", parse_iface_routes, false },                                  \
        { "routing-policy", parse_iface_routing_policy, false },                  \
        { "nameservers", parse_iface_nameservers, false },                        \
        { "mtu", parse_iface_mtu, false },                                        \
        { "macaddress", parse_iface_macaddress, false },                          \
        { "optional", parse_iface_optional, false },                              \
        { "accept-ra", parse_iface_accept_ra, false },                            \
        { "ipv6-privacy", parse_iface_ipv6_privacy, false },                      \
        { "link-local", parse_iface_link_local, false },                          \
        { "ignore-carrier", parse_iface_ignore_carrier, false },                  \
        { "ipv6-mtu", parse_iface_ipv6_mtu, false },                              \
        { "ipv6-address-token", parse_iface_ipv6_address_token, false },          \
        { "activation-mode", parse_iface_activation_mode, false },                \
        { "optional-addresses", NULL, false },                                    \
        { "ipv6-address-generation", NULL, false },                               \
        { "ra-overrides", NULL, false },                                          \
        { "neigh-suppress", NULL, false },                                        \
        { "openvswitch", NULL, false },                                           \
        { "auth", NULL, false }

/* ---- ethernets ------------------------------------------------------------------------------------- */

static const Field ethernet_fields[] = {
        COMMON_FIELDS,
        { "match", parse_ethernet_match, false },
        { "set-name", parse_ethernet_set_name, false },
        { "wakeonlan", parse_ethernet_wakeonlan, false },
        { "emit-lldp", parse_iface_emit_lldp, false },
        { "receive-checksum-offload", parse_offload_rx_csum, false },
        { "transmit-checksum-offload", parse_offload_tx_csum, false },
        { "tcp-segmentation-offload", parse_offload_tso, false },
        { "tcp6-segmentation-offload", parse_offload_tso6, false },
        { "generic-segmentation-offload", parse_offload_gso, false },
        { "generic-receive-offload", parse_offload_gro, false },
        { "large-receive-offload", parse_offload_lro, false },
        { "wakeonwlan", NULL, false },
        { "virtual-function-count", NULL, false },
        { "embedded-switch-mode", NULL, false },
        { "delay-virtual-functions-rebind", NULL, false },
        { "link", NULL, false },
        { "infiniband-mode", NULL, false },
};

/* ---- bonds ------------------------------------------------------------------------------------------- */

static void parse_master_interfaces(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "interface", true, check_iface_chars, &IFACE(userdata)->interfaces);
}

#define BOND(u) (&IFACE(u)->bond)

#define BOND_ENUM(name, what, ...)                                                            \
        static void parse_bond_##name(Checker *c, const YNode *v, void *userdata) {           \
                static const char *const values[] = { __VA_ARGS__ };                          \
                parse_enum_str(c, v, what, values, ELEMENTSOF(values), &BOND(userdata)->name); \
        }
BOND_ENUM(mode, "bond mode", "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb",
          "balance-alb")
BOND_ENUM(lacp_rate, "LACP rate", "slow", "fast")
BOND_ENUM(transmit_hash_policy, "transmit hash policy", "layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4")
BOND_ENUM(ad_select, "ad-select value", "stable", "bandwidth", "count")
BOND_ENUM(arp_validate, "arp-validate value", "none", "active", "backup", "all")
BOND_ENUM(arp_all_targets, "arp-all-targets value", "any", "all")
BOND_ENUM(fail_over_mac_policy, "fail-over-mac-policy", "none", "active", "follow")
BOND_ENUM(primary_reselect_policy, "primary-reselect-policy", "always", "better", "failure")

#define BOND_DURATION(name, what)                                                              \
        static void parse_bond_##name(Checker *c, const YNode *v, void *userdata) {            \
                ck_validated(c, v, what, check_duration, &BOND(userdata)->name);               \
        }
BOND_DURATION(mii_monitor_interval, "interval")
BOND_DURATION(arp_interval, "interval")
BOND_DURATION(up_delay, "delay")
BOND_DURATION(down_delay, "delay")
BOND_DURATION(learn_packet_interval, "interval")

static void parse_bond_min_links(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 0, INT32_MAX, &BOND(userdata)->min_links);
}
static void parse_bond_gratuitous_arp(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 1, 255, &BOND(userdata)->gratuitous_arp);
}
static void parse_bond_packets_per_slave(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 0, 65535, &BOND(userdata)->packets_per_slave);
}
static void parse_bond_resend_igmp(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 0, 255, &BOND(userdata)->resend_igmp);
}
static void parse_bond_all_slaves_active(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &BOND(userdata)->all_slaves_active);
}
static void parse_bond_arp_ip_targets(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "ARP target", true, profile_check_ip4, &BOND(userdata)->arp_ip_targets);
}
static void parse_bond_primary(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "interface", check_iface_chars, &BOND(userdata)->primary);
}

static const Field bond_param_fields[] = {
        { "mode", parse_bond_mode, false },
        { "lacp-rate", parse_bond_lacp_rate, false },
        { "mii-monitor-interval", parse_bond_mii_monitor_interval, false },
        { "min-links", parse_bond_min_links, false },
        { "transmit-hash-policy", parse_bond_transmit_hash_policy, false },
        { "ad-select", parse_bond_ad_select, false },
        { "all-slaves-active", parse_bond_all_slaves_active, false },
        { "arp-interval", parse_bond_arp_interval, false },
        { "arp-ip-targets", parse_bond_arp_ip_targets, false },
        { "arp-validate", parse_bond_arp_validate, false },
        { "arp-all-targets", parse_bond_arp_all_targets, false },
        { "up-delay", parse_bond_up_delay, false },
        { "down-delay", parse_bond_down_delay, false },
        { "fail-over-mac-policy", parse_bond_fail_over_mac_policy, false },
        { "gratuitous-arp", parse_bond_gratuitous_arp, false },
        { "gratuitious-arp", parse_bond_gratuitous_arp, false }, /* netplan's old spelling */
        { "packets-per-slave", parse_bond_packets_per_slave, false },
        { "primary-reselect-policy", parse_bond_primary_reselect_policy, false },
        { "resend-igmp", parse_bond_resend_igmp, false },
        { "learn-packet-interval", parse_bond_learn_packet_interval, false },
        { "primary", parse_bond_primary, false },
};

static void parse_bond_parameters(Checker *c, const YNode *v, void *userdata) {
        ck_fields(c, v, bond_param_fields, ELEMENTSOF(bond_param_fields), userdata);
}

static const Field bond_fields[] = {
        COMMON_FIELDS,
        { "interfaces", parse_master_interfaces, false },
        { "parameters", parse_bond_parameters, false },
};

/* ---- bridges ----------------------------------------------------------------------------------------- */

#define BRIDGE(u) (&IFACE(u)->bridge)

#define BRIDGE_DURATION(name, what)                                                            \
        static void parse_bridge_##name(Checker *c, const YNode *v, void *userdata) {          \
                ck_validated(c, v, what, check_duration, &BRIDGE(userdata)->name);             \
        }
BRIDGE_DURATION(ageing_time, "time")
BRIDGE_DURATION(forward_delay, "time")
BRIDGE_DURATION(hello_time, "time")
BRIDGE_DURATION(max_age, "time")

static void parse_bridge_priority(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 0, 65535, &BRIDGE(userdata)->priority);
}

static void parse_bridge_stp(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &BRIDGE(userdata)->stp);
}

static void parse_port_values(Checker *c, const YNode *v, uint64_t max, ProfilePortValue **ret, size_t *n) {
        if (!ck_type(c, v, YNODE_MAPPING) || v->n == 0)
                return;
        *ret = new0(ProfilePortValue, v->n);
        if (!*ret) {
                ck_oom(c);
                return;
        }
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_key(c, v->keys[i]->value);
                uint64_t u;

                if (ck_uint(c, v->items[i], 0, max, &u) && ck_strdup(c, v->keys[i]->value, &(*ret)[*n].port))
                        (*ret)[(*n)++].value = (uint32_t) u;
                ck_pop(c, mark);
        }
}

static void parse_bridge_path_cost(Checker *c, const YNode *v, void *userdata) {
        parse_port_values(c, v, UINT32_MAX, &BRIDGE(userdata)->path_cost, &BRIDGE(userdata)->n_path_cost);
}

static void parse_bridge_port_priority(Checker *c, const YNode *v, void *userdata) {
        parse_port_values(c, v, 63, &BRIDGE(userdata)->port_priority, &BRIDGE(userdata)->n_port_priority);
}

static const Field bridge_param_fields[] = {
        { "ageing-time", parse_bridge_ageing_time, false },
        { "aging-time", parse_bridge_ageing_time, false },
        { "priority", parse_bridge_priority, false },
        { "port-priority", parse_bridge_port_priority, false },
        { "forward-delay", parse_bridge_forward_delay, false },
        { "hello-time", parse_bridge_hello_time, false },
        { "max-age", parse_bridge_max_age, false },
        { "path-cost", parse_bridge_path_cost, false },
        { "stp", parse_bridge_stp, false },
};

static void parse_bridge_parameters(Checker *c, const YNode *v, void *userdata) {
        BRIDGE(userdata)->given = true;
        ck_fields(c, v, bridge_param_fields, ELEMENTSOF(bridge_param_fields), userdata);
}

static const Field bridge_fields[] = {
        COMMON_FIELDS,
        { "interfaces", parse_master_interfaces, false },
        { "parameters", parse_bridge_parameters, false },
};

/* ---- vlans ------------------------------------------------------------------------------------------- */

static void parse_vlan_id(Checker *c, const YNode *v, void *userdata) {
        parse_uint32(c, v, 0, 4094, &IFACE(userdata)->vlan_id);
}

static void parse_vlan_link(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "interface", check_iface_chars, &IFACE(userdata)->vlan_link);
}

static const Field vlan_fields[] = {
        COMMON_FIELDS,
        { "id", parse_vlan_id, true },
        { "link", parse_vlan_link, true },
};

/* ---- one interface ----------------------------------------------------------------------------- */

static const struct {
        const Field *fields;
        size_t n;
} kind_fields[_NET_KIND_MAX] = {
        [NET_ETHERNET] = { ethernet_fields, ELEMENTSOF(ethernet_fields) },
        [NET_BOND] = { bond_fields, ELEMENTSOF(bond_fields) },
        [NET_BRIDGE] = { bridge_fields, ELEMENTSOF(bridge_fields) },
        [NET_VLAN] = { vlan_fields, ELEMENTSOF(vlan_fields) },
};

static void parse_interface(Checker *c, NetKind kind, const YNode *k, const YNode *v, ProfileInterface *e) {
        IfaceState is = { .iface = e, .node = v };
        const char *why;

        e->kind = kind;
        e->line = v->line;
        e->column = v->column;
        e->accept_ra = -1;
        e->link_local_ipv6 = true;
        e->bridge.stp = true;
        for (size_t i = 0; i < _NET_OFFLOAD_MAX; i++)
                e->offload[i] = -1;
        ProfileDhcpOverrides def = { .route_metric = -1, .use_dns = true, .use_ntp = true, .use_mtu = true,
                                     .use_routes = true, .use_hostname = true, .send_hostname = true };
        e->dhcp4_overrides = e->dhcp6_overrides = def;
        if (!ck_strdup(c, k->value, &e->id))
                return;

        /* The id is the interface name, except for an ethernet with match:. */
        why = kind == NET_ETHERNET && ck_value(v, "match") ? check_iface_chars(k->value) : check_interface_name(k->value);
        if (why)
                ck_error(c, k, "invalid %s id '%s': %s%s", kind == NET_ETHERNET ? "ethernet" : "interface",
                         ck_quote(k->value).s, why,
                         kind == NET_ETHERNET && !ck_value(v, "match") ? " (without 'match' the id is the interface name)" : "");
        if (ynode_is_null(v))
                return; /* "eth0:" alone, as netplan allows: an interface with no settings */
        if (!ck_fields(c, v, kind_fields[kind].fields, kind_fields[kind].n, &is))
                return;

        if (e->set_name && !e->has_match)
                ck_error_key(c, ck_key_node(v, "set-name"), "set-name", "'set-name' needs 'match' (netplan renames "
                             "only interfaces it matched by MAC address, name or driver)");
        if (e->dhcp4 && e->dhcp6) {
                const char *key;
                if (!overrides_equal(&e->dhcp4_overrides, &e->dhcp6_overrides, &key))
                        ck_error_key(c, ck_key_node(v, "dhcp6-overrides") ?: ck_key_node(v, "dhcp4-overrides"),
                                     ck_key_node(v, "dhcp6-overrides") ? "dhcp6-overrides" : "dhcp4-overrides",
                                     "with dhcp4 and dhcp6 both on, networkd needs the same '%s' in "
                                     "dhcp4-overrides and dhcp6-overrides", key);
        }
}

/* ---- the section --------------------------------------------------------------------------------- */

static void parse_network_version(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (!ck_type(c, v, YNODE_SCALAR))
                return;
        if (ynode_u64(v, &u) < 0 || u != 2)
                ck_error(c, v, "unsupported network version '%s'; this is netplan's version 2 syntax, "
                         "write 'version: 2'", ck_quote(v->value).s);
}

static void parse_network_renderer(Checker *c, const YNode *v, void *userdata) {
        const char *s = ck_scalar(c, v);

        if (s && !streq(s, "networkd"))
                ck_error(c, v, "unsupported renderer '%s'; only networkd is supported", ck_quote(s).s);
}

static void parse_kind_section(Checker *c, const YNode *v, NetState *st, NetKind kind) {
        ProfileNetwork *net = st->net;

        if (!ck_type(c, v, YNODE_MAPPING))
                return;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_key(c, v->keys[i]->value);
                size_t k = net->n_interfaces;

                if (k >= st->cap) { /* cannot happen: counted before the walk */
                        ck_pop(c, mark);
                        ck_oom(c);
                        return;
                }
                net->n_interfaces++;
                st->keys[k] = v->keys[i];
                st->values[k] = v->items[i];
                parse_interface(c, kind, v->keys[i], v->items[i], &net->interfaces[k]);
                ck_pop(c, mark);
        }
}

static void parse_network_ethernets(Checker *c, const YNode *v, void *userdata) {
        parse_kind_section(c, v, userdata, NET_ETHERNET);
}
static void parse_network_bonds(Checker *c, const YNode *v, void *userdata) {
        parse_kind_section(c, v, userdata, NET_BOND);
}
static void parse_network_bridges(Checker *c, const YNode *v, void *userdata) {
        parse_kind_section(c, v, userdata, NET_BRIDGE);
}
static void parse_network_vlans(Checker *c, const YNode *v, void *userdata) {
        parse_kind_section(c, v, userdata, NET_VLAN);
}

static const Field network_fields[] = {
        { "version", parse_network_version, true },
        { "renderer", parse_network_renderer, false },
        { "ethernets", parse_network_ethernets, false },
        { "bonds", parse_network_bonds, false },
        { "bridges", parse_network_bridges, false },
        { "vlans", parse_network_vlans, false },
        { "wifis", NULL, false },
        { "tunnels", NULL, false },
        { "vrfs", NULL, false },
        { "modems", NULL, false },
        { "nm-devices", NULL, false },
        { "dummy-devices", NULL, false },
        { "virtual-ethernets", NULL, false },
        { "openvswitch", NULL, false },
};

/* ---- cross-references ------------------------------------------------------------------------------- */

static ProfileInterface *find_interface(ProfileNetwork *net, const char *id) {
        for (size_t i = 0; i < net->n_interfaces; i++)
                if (streq(net->interfaces[i].id, id))
                        return &net->interfaces[i];
        return NULL;
}

static size_t push_iface(Checker *c, const ProfileInterface *e) {
        size_t mark = ck_push_key(c, kind_sections[e->kind]);
        ck_push_key(c, e->id);
        return mark;
}

static void check_members(Checker *c, NetState *st, size_t idx) {
        ProfileInterface *m = &st->net->interfaces[idx];
        const YNode *v = st->values[idx], *list = ck_value(v, "interfaces");
        const YNode *params = ck_value(v, "parameters");

        for (size_t i = 0; m->interfaces && m->interfaces[i]; i++) {
                const char *name = m->interfaces[i];
                ProfileInterface *e = find_interface(st->net, name);
                /* ck_strv keeps only the valid items: find the node by value. */
                const YNode *at = list;
                size_t pos = 0;
                for (size_t j = 0; list && j < list->n; j++)
                        if (list->items[j]->type == YNODE_SCALAR && streq(list->items[j]->value, name)) {
                                at = list->items[j];
                                pos = j;
                                break;
                        }
                size_t mark = ck_push_key(c, "interfaces");
                ck_push_index(c, pos);
                if (!e)
                        ck_error(c, at, "interface '%s' is not defined in this network section", ck_quote(name).s);
                else if (e == m)
                        ck_error(c, at, "'%s' cannot be a member of itself", ck_quote(name).s);
                else if (m->kind == NET_BOND && e->kind != NET_ETHERNET)
                        ck_error(c, at, "'%s' is not an ethernet; a bond's members are ethernets", ck_quote(name).s);
                else if (m->kind == NET_BRIDGE && e->kind == NET_BRIDGE)
                        ck_error(c, at, "'%s' is a bridge; a bridge cannot be a member of another bridge",
                                 ck_quote(name).s);
                else if (e->master)
                        ck_error(c, at, "'%s' is already a member of %s", ck_quote(name).s, e->master->id);
                else
                        e->master = m;
                ck_pop(c, mark);
        }

        if (m->kind == NET_BOND && m->bond.primary && !strv_contains(m->interfaces, m->bond.primary)) {
                size_t mark = ck_push_key(c, "parameters");
                ck_error_key(c, ck_value(params, "primary"), "primary", "'%s' is not one of the bond's interfaces",
                             ck_quote(m->bond.primary).s);
                ck_pop(c, mark);
        }
        if (m->kind == NET_BRIDGE) {
                static const char *const keys[] = { "path-cost", "port-priority" };
                for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                        const ProfilePortValue *pv = k == 0 ? m->bridge.path_cost : m->bridge.port_priority;
                        size_t n = k == 0 ? m->bridge.n_path_cost : m->bridge.n_port_priority;
                        const YNode *map = ck_value(params, keys[k]);

                        for (size_t i = 0; i < n; i++) {
                                if (strv_contains(m->interfaces, pv[i].port))
                                        continue;
                                size_t mark = ck_push_key(c, "parameters");
                                ck_push_key(c, keys[k]);
                                ck_error_key(c, ck_key_node(map, pv[i].port), pv[i].port,
                                             "'%s' is not one of the bridge's interfaces", ck_quote(pv[i].port).s);
                                ck_pop(c, mark);
                        }
                }
        }
}

static bool has_vlans(const ProfileNetwork *net, const ProfileInterface *e) {
        for (size_t i = 0; i < net->n_interfaces; i++)
                if (net->interfaces[i].kind == NET_VLAN && streq_ptr(net->interfaces[i].vlan_link, e->id))
                        return true;
        return false;
}

static void check_references(Checker *c, NetState *st) {
        ProfileNetwork *net = st->net;

        for (size_t i = 0; i < net->n_interfaces; i++) {
                ProfileInterface *e = &net->interfaces[i];
                size_t mark = push_iface(c, e);

                if (!e->id)
                        goto next;
                for (size_t j = 0; j < i; j++)
                        if (streq_ptr(net->interfaces[j].id, e->id)) {
                                ck_error(c, st->keys[i], "'%s' is already defined in network.%s", ck_quote(e->id).s,
                                         kind_sections[net->interfaces[j].kind]);
                                goto next;
                        }
                if (e->kind == NET_BOND || e->kind == NET_BRIDGE)
                        check_members(c, st, i);
                if (e->kind == NET_VLAN && e->vlan_link) {
                        const ProfileInterface *l = find_interface(net, e->vlan_link);
                        if (!l)
                                ck_error_key(c, ck_value(st->values[i], "link"), "link",
                                             "interface '%s' is not defined in this network section",
                                             ck_quote(e->vlan_link).s);
                        else if (l == e || l->kind == NET_VLAN)
                                ck_error_key(c, ck_value(st->values[i], "link"), "link",
                                             "a VLAN cannot sit on '%s', which is a VLAN", ck_quote(e->vlan_link).s);
                }
        next:
                ck_pop(c, mark);
        }

        /* An ethernet that is nothing at all is almost certainly a mistake.
         * Members of a bond or bridge and links of VLANs are configured
         * through what sits on them; link settings alone are fine. */
        for (size_t i = 0; i < net->n_interfaces; i++) {
                ProfileInterface *e = &net->interfaces[i];
                const YNode *v = st->values[i];

                bool link_settings = e->set_name || e->wakeonlan || e->mtu || e->macaddress || e->activation_mode;
                for (size_t k = 0; k < _NET_OFFLOAD_MAX; k++)
                        link_settings = link_settings || e->offload[k] >= 0;
                if (e->kind != NET_ETHERNET || !e->id || e->master || has_vlans(net, e) || e->dhcp4 || e->dhcp6 ||
                    link_settings || ck_value(v, "addresses") || ck_value(v, "routes"))
                        continue;
                size_t mark = push_iface(c, e);
                ck_error(c, ynode_is_null(v) ? st->keys[i] : v,
                         "ethernet '%s' gets no address: set dhcp4 or dhcp6 to true, or list addresses",
                         ck_quote(e->id).s);
                ck_pop(c, mark);
        }
}

void profile_check_network_section(Checker *c, const YNode *v, ProfileNetwork *net) {
        NetState st = { .net = net };

        net->source = (YNode *) v;
        if (v->type == YNODE_MAPPING)
                for (NetKind k = 0; k < _NET_KIND_MAX; k++) {
                        const YNode *s = ck_value(v, kind_sections[k]);
                        if (s && s->type == YNODE_MAPPING)
                                st.cap += s->n;
                }
        if (st.cap > 0) {
                net->interfaces = new0(ProfileInterface, st.cap);
                st.keys = new0(const YNode *, st.cap);
                st.values = new0(const YNode *, st.cap);
                if (!net->interfaces || !st.keys || !st.values) {
                        ck_oom(c);
                        goto out;
                }
        }
        size_t n_errors = c->n_errors;
        if (ck_fields(c, v, network_fields, ELEMENTSOF(network_fields), &st)) {
                check_references(c, &st);
                if (net->n_interfaces == 0 && c->n_errors == n_errors)
                        ck_error(c, v, "defines no interface: add ethernets, bonds, bridges or vlans (without a "
                                 "network section, the installed system uses DHCP on the NIC it booted from)");
        }
out:
        free(st.keys);
        free(st.values);
}

/* ---- a netplan file on its own ------------------------------------------------------------------------ */

int profile_load_network_file(const char *path, Profile **ret, ProfileErrors *errors) {
        static const YNode start = { .line = 1, .column = 1 };
        _cleanup_profile_ Profile *p = NULL;
        _cleanup_free_ char *msg = NULL;
        int r;

        p = new0(Profile, 1);
        if (!p)
                return -ENOMEM;
        p->filename = strdup(path);
        if (!p->filename)
                return -ENOMEM;
        r = ydoc_parse_file(path, &p->doc, &msg);
        if (r == -EINVAL && msg) {
                r = profile_add_syntax_error(errors, path, msg);
                return r < 0 ? r : -EINVAL;
        }
        if (r < 0)
                return r;

        Checker c = { .file = path, .errors = errors };
        const YNode *root = p->doc->root, *net = ynode_get(root, "network");

        if (!root || root->type != YNODE_MAPPING)
                ck_error(&c, root ?: &start, "a netplan file is a mapping with the key 'network'");
        else {
                for (size_t i = 0; i < root->n; i++)
                        if (!streq(root->keys[i]->value, "network"))
                                ck_error_key(&c, root->keys[i], root->keys[i]->value,
                                             "unknown key '%s'; a netplan file has only 'network'",
                                             ck_quote(root->keys[i]->value).s);
                if (!net || ynode_is_null(net))
                        ck_error(&c, root, "missing required key 'network'");
                else {
                        size_t mark = ck_push_key(&c, "network");
                        profile_check_network_section(&c, net, &p->network);
                        ck_pop(&c, mark);
                }
        }
        r = c.r < 0 ? c.r : c.n_errors > 0 ? -EINVAL : 0;
        ck_done(&c);
        /* In source order, like a compiler (one file, so line and column). */
        for (size_t i = errors->n - c.n_errors + 1; c.n_errors > 1 && i < errors->n; i++) {
                ProfileError x = errors->v[i];
                size_t j = i;

                for (; j > errors->n - c.n_errors && (x.line < errors->v[j - 1].line ||
                                                      (x.line == errors->v[j - 1].line && x.column < errors->v[j - 1].column)); j--)
                        errors->v[j] = errors->v[j - 1];
                errors->v[j] = x;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- freeing ----------------------------------------------------------------------------------------- */

static void dhcp_overrides_done(ProfileDhcpOverrides *o) {
        free(o->use_domains);
        free(o->hostname);
}

static void interface_done(ProfileInterface *e) {
        ProfileBondParams *b = &e->bond;
        ProfileBridgeParams *br = &e->bridge;

        free(e->id);
        free(e->match_mac);
        free(e->match_name);
        free(e->match_driver);
        free(e->set_name);
        dhcp_overrides_done(&e->dhcp4_overrides);
        dhcp_overrides_done(&e->dhcp6_overrides);
        free(e->dhcp_identifier);
        strv_free(e->addresses);
        free(e->gateway4);
        free(e->gateway6);
        for (size_t j = 0; j < e->n_routes; j++) {
                free(e->routes[j].to);
                free(e->routes[j].via);
                free(e->routes[j].from);
                free(e->routes[j].scope);
                free(e->routes[j].type);
        }
        free(e->routes);
        for (size_t j = 0; j < e->n_rules; j++) {
                free(e->rules[j].from);
                free(e->rules[j].to);
        }
        free(e->rules);
        strv_free(e->nameservers);
        strv_free(e->search);
        free(e->macaddress);
        free(e->ipv6_address_token);
        free(e->activation_mode);
        strv_free(e->interfaces);
        free(b->mode);
        free(b->lacp_rate);
        free(b->mii_monitor_interval);
        free(b->transmit_hash_policy);
        free(b->ad_select);
        free(b->arp_interval);
        free(b->arp_validate);
        free(b->arp_all_targets);
        free(b->up_delay);
        free(b->down_delay);
        free(b->fail_over_mac_policy);
        free(b->primary_reselect_policy);
        free(b->learn_packet_interval);
        strv_free(b->arp_ip_targets);
        free(b->primary);
        free(br->ageing_time);
        free(br->forward_delay);
        free(br->hello_time);
        free(br->max_age);
        for (size_t j = 0; j < br->n_path_cost; j++)
                free(br->path_cost[j].port);
        free(br->path_cost);
        for (size_t j = 0; j < br->n_port_priority; j++)
                free(br->port_priority[j].port);
        free(br->port_priority);
        free(e->vlan_link);
}

void profile_network_done(ProfileNetwork *n) {
        for (size_t i = 0; i < n->n_interfaces; i++)
                interface_done(&n->interfaces[i]);
        free(n->interfaces);
        *n = (ProfileNetwork) {};
}
