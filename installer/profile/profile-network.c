/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The network: section, a subset of netplan version 2. Whatever netplan can
 * express but we cannot install is an error naming the key, never dropped. */
#include <sys/socket.h>

#include "profile/profile-internal.h"

#define IFNAME_MAX 15

typedef struct EthernetState {
        ProfileEthernet *eth;
        const YNode *node;
} EthernetState;

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

static const char *check_ethernet_id(const char *s, bool has_match) {
        size_t n = strlen(s);

        if (n == 0 || s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")] != 0)
                return "may only contain letters, digits, '_', '.', ':' and '-'";
        if (!has_match && n > IFNAME_MAX)
                return "is used as the interface name (there is no 'match') and is longer than 15 characters";
        return NULL;
}


/* ---- match ------------------------------------------------------------------------ */

static void parse_match_macaddress(Checker *c, const YNode *v, void *userdata) {
        ProfileEthernet *e = userdata;
        char mac[18];

        if (ck_mac(c, v, mac))
                ck_strdup(c, mac, &e->match_mac);
}

static void parse_match_name(Checker *c, const YNode *v, void *userdata) {
        ProfileEthernet *e = userdata;
        const char *s = ck_scalar(c, v);

        if (!s)
                return;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == '/' || *p == 0x7f) {
                        ck_error(c, v, "invalid interface name pattern '%s': no white space or '/'",
                                 ck_quote(s).s);
                        return;
                }
        ck_strdup(c, s, &e->match_name);
}

static const Field match_fields[] = {
        { "macaddress", parse_match_macaddress, false },
        { "name", parse_match_name, false },
        { "driver", NULL, false },
};

static void parse_ethernet_match(Checker *c, const YNode *v, void *userdata) {
        EthernetState *es = userdata;

        if (!ck_fields(c, v, match_fields, ELEMENTSOF(match_fields), es->eth))
                return;
        if (v->n == 0)
                ck_error(c, v, "match needs 'macaddress' or 'name'");
}

/* ---- routes --------------------------------------------------------------------------- */

static const char *check_route_to(const char *s) {
        return streq(s, "default") ? NULL : profile_check_cidr(s);
}

static void parse_route_to(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "route destination", check_route_to, &((ProfileRoute *) userdata)->to);
}

static void parse_route_via(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "gateway", profile_check_ip, &((ProfileRoute *) userdata)->via);
}

static void parse_route_metric(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (ck_uint(c, v, 0, UINT32_MAX, &u))
                ((ProfileRoute *) userdata)->metric = (uint32_t) u;
}

static const Field route_fields[] = {
        { "to", parse_route_to, true },
        { "via", parse_route_via, true },
        { "metric", parse_route_metric, false },
        { "scope", NULL, false },
        { "table", NULL, false },
        { "on-link", NULL, false },
        { "type", NULL, false },
        { "from", NULL, false },
};

static void check_route_families(Checker *c, const YNode *v, const ProfileRoute *r) {
        if (!r->to || !r->via || streq(r->to, "default"))
                return;
        if (profile_ip_family(r->to) != profile_ip_family(r->via))
                ck_error_key(c, ck_value(v, "via"), "via", "the gateway '%s' and the destination '%s' are not "
                             "of the same address family", r->via, r->to);
}

static void parse_ethernet_routes(Checker *c, const YNode *v, void *userdata) {
        ProfileEthernet *e = ((EthernetState *) userdata)->eth;

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
                if (ck_fields(c, v->items[i], route_fields, ELEMENTSOF(route_fields), &e->routes[i]))
                        check_route_families(c, v->items[i], &e->routes[i]);
                ck_pop(c, mark);
        }
}

/* ---- nameservers ------------------------------------------------------------------------- */

static void parse_nameservers_addresses(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "name server address", true, profile_check_ip, &((ProfileEthernet *) userdata)->nameservers);
}

static void parse_nameservers_search(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "search domain", true, profile_check_domain, &((ProfileEthernet *) userdata)->search);
}

static const Field nameservers_fields[] = {
        { "addresses", parse_nameservers_addresses, false },
        { "search", parse_nameservers_search, false },
};

static void parse_ethernet_nameservers(Checker *c, const YNode *v, void *userdata) {
        ck_fields(c, v, nameservers_fields, ELEMENTSOF(nameservers_fields), ((EthernetState *) userdata)->eth);
}

/* ---- one ethernet ---------------------------------------------------------------------------- */

static void parse_ethernet_dhcp4(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &((EthernetState *) userdata)->eth->dhcp4);
}

static void parse_ethernet_dhcp6(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &((EthernetState *) userdata)->eth->dhcp6);
}

static void parse_ethernet_addresses(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "address", true, check_interface_address, &((EthernetState *) userdata)->eth->addresses);
}

static void parse_ethernet_gateway4(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "gateway4", profile_check_ip4, &((EthernetState *) userdata)->eth->gateway4);
}

static void parse_ethernet_gateway6(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "gateway6", profile_check_ip6, &((EthernetState *) userdata)->eth->gateway6);
}

static void parse_ethernet_mtu(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (ck_uint(c, v, 68, 9216, &u))
                ((EthernetState *) userdata)->eth->mtu = (uint32_t) u;
}

/* Keys with a NULL parser are netplan keys we do not install yet. */
static const Field ethernet_fields[] = {
        { "match", parse_ethernet_match, false },
        { "dhcp4", parse_ethernet_dhcp4, false },
        { "dhcp6", parse_ethernet_dhcp6, false },
        { "addresses", parse_ethernet_addresses, false },
        { "gateway4", parse_ethernet_gateway4, false },
        { "gateway6", parse_ethernet_gateway6, false },
        { "routes", parse_ethernet_routes, false },
        { "nameservers", parse_ethernet_nameservers, false },
        { "mtu", parse_ethernet_mtu, false },
        { "set-name", NULL, false },
        { "macaddress", NULL, false },
        { "optional", NULL, false },
        { "dhcp4-overrides", NULL, false },
        { "dhcp6-overrides", NULL, false },
        { "accept-ra", NULL, false },
        { "link-local", NULL, false },
        { "ipv6-privacy", NULL, false },
        { "wakeonlan", NULL, false },
        { "critical", NULL, false },
        { "dhcp-identifier", NULL, false },
        { "routing-policy", NULL, false },
        { "renderer", NULL, false },
};

static void parse_ethernet(Checker *c, const YNode *k, const YNode *v, ProfileEthernet *e) {
        EthernetState es = { .eth = e, .node = v };
        const char *why;

        e->line = v->line;
        e->column = v->column;
        if (!ck_strdup(c, k->value, &e->id))
                return;
        why = check_ethernet_id(k->value, ck_value(v, "match"));
        if (why)
                ck_error(c, k, "invalid ethernet id '%s': %s", ck_quote(k->value).s, why);
        if (!ck_fields(c, v, ethernet_fields, ELEMENTSOF(ethernet_fields), &es))
                return;
        if (!e->dhcp4 && !e->dhcp6 && !ck_value(v, "addresses"))
                ck_error(c, v, "ethernet '%s' gets no address: set dhcp4 or dhcp6 to true, or list addresses",
                         ck_quote(e->id).s);
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

static void parse_network_ethernets(Checker *c, const YNode *v, void *userdata) {
        ProfileNetwork *net = userdata;

        if (!ck_type(c, v, YNODE_MAPPING))
                return;
        if (v->n == 0) {
                ck_error(c, v, "needs at least one ethernet");
                return;
        }
        net->ethernets = new0(ProfileEthernet, v->n);
        if (!net->ethernets) {
                ck_oom(c);
                return;
        }
        net->n_ethernets = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_key(c, v->keys[i]->value);
                parse_ethernet(c, v->keys[i], v->items[i], &net->ethernets[i]);
                ck_pop(c, mark);
        }
}

static const Field network_fields[] = {
        { "version", parse_network_version, true },
        { "renderer", parse_network_renderer, false },
        { "ethernets", parse_network_ethernets, true },
        { "bonds", NULL, false },
        { "bridges", NULL, false },
        { "vlans", NULL, false },
        { "wifis", NULL, false },
        { "tunnels", NULL, false },
        { "vrfs", NULL, false },
        { "modems", NULL, false },
        { "nm-devices", NULL, false },
        { "dummy-devices", NULL, false },
        { "virtual-ethernets", NULL, false },
};

void profile_check_network_section(Checker *c, const YNode *v, ProfileNetwork *net) {
        net->source = (YNode *) v;
        ck_fields(c, v, network_fields, ELEMENTSOF(network_fields), net);
}

void profile_network_done(ProfileNetwork *n) {
        for (size_t i = 0; i < n->n_ethernets; i++) {
                ProfileEthernet *e = &n->ethernets[i];
                free(e->id);
                free(e->match_mac);
                free(e->match_name);
                strv_free(e->addresses);
                free(e->gateway4);
                free(e->gateway6);
                for (size_t j = 0; j < e->n_routes; j++) {
                        free(e->routes[j].to);
                        free(e->routes[j].via);
                }
                free(e->routes);
                strv_free(e->nameservers);
                strv_free(e->search);
        }
        free(n->ethernets);
        *n = (ProfileNetwork) {};
}
