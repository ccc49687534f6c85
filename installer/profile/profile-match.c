/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The match: section, which says which machines a profile is for, and the
 * check of a machine's inventory against it. A profile is chosen by URL (by
 * MAC, UUID, serial or the default; docs/boot.md); match: makes sure that
 * the profile a machine got is really meant for it before anything is
 * written. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <strings.h>

#include "hw/hw.h"
#include "profile/profile-internal.h"

static const char *const firmware_names[] = { "bios", "uefi" };

/* ---- validators --------------------------------------------------------------- */

static const char *check_uuid(const char *s) {
        if (strlen(s) != 36)
                return "expected 32 hexadecimal digits in groups of 8-4-4-4-12";
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
                        return "expected 32 hexadecimal digits in groups of 8-4-4-4-12";
        }
        return NULL;
}

/* Serials, vendor and product patterns: one line of printable text. */
static const char *check_dmi_text(const char *s) {
        if (!s[0])
                return "must not be empty";
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return "must not contain control characters";
        return NULL;
}

/* ---- parsing ---------------------------------------------------------------------- */

static void parse_one_mac(Checker *c, const YNode *v, ProfileMatch *m) {
        char mac[18];

        if (ck_mac(c, v, mac) && !strv_contains(m->macs, mac) && strv_extend(&m->macs, mac) < 0)
                ck_oom(c);
}

static void parse_match_mac(Checker *c, const YNode *v, void *userdata) {
        ProfileMatch *m = userdata;

        if (v->type == YNODE_SCALAR) {
                parse_one_mac(c, v, m);
                return;
        }
        if (v->type != YNODE_SEQUENCE) {
                ck_error(c, v, "expected a MAC address or a list of them, got %s", ynode_type_name(v->type));
                return;
        }
        if (v->n == 0) {
                ck_error(c, v, "needs at least one MAC address");
                return;
        }
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                parse_one_mac(c, v->items[i], m);
                ck_pop(c, mark);
        }
}

static void parse_match_uuid(Checker *c, const YNode *v, void *userdata) {
        ProfileMatch *m = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = check_uuid(s);
        if (why) {
                ck_error(c, v, "invalid UUID '%s': %s, such as 3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09",
                         ck_quote(s).s, why);
                return;
        }
        if (!ck_strdup(c, s, &m->uuid))
                return;
        for (char *p = m->uuid; *p; p++)
                *p = (char) tolower((unsigned char) *p);
}

static void parse_dmi_text(Checker *c, const YNode *v, const char *what, char **ret) {
        ck_validated(c, v, what, check_dmi_text, ret);
}

static void parse_match_serial(Checker *c, const YNode *v, void *userdata) {
        parse_dmi_text(c, v, "serial", &((ProfileMatch *) userdata)->serial);
}

static void parse_match_vendor(Checker *c, const YNode *v, void *userdata) {
        parse_dmi_text(c, v, "vendor pattern", &((ProfileMatch *) userdata)->vendor);
}

static void parse_match_product(Checker *c, const YNode *v, void *userdata) {
        parse_dmi_text(c, v, "product pattern", &((ProfileMatch *) userdata)->product);
}

static void parse_match_min_memory(Checker *c, const YNode *v, void *userdata) {
        ProfileMatch *m = userdata;
        const char *s = ck_scalar(c, v);
        uint64_t u;
        int r;

        if (!s)
                return;
        r = parse_size(s, &u);
        if (r == -ERANGE)
                ck_error(c, v, "size '%s' is too large", ck_quote(s).s);
        else if (r < 0)
                ck_error(c, v, "invalid size '%s' (expected for example 8GiB or a number of bytes)", ck_quote(s).s);
        else
                m->min_memory = u;
}

static void parse_match_firmware(Checker *c, const YNode *v, void *userdata) {
        int i = ck_enum(c, v, "firmware", firmware_names, ELEMENTSOF(firmware_names));

        if (i >= 0)
                ck_strdup(c, firmware_names[i], &((ProfileMatch *) userdata)->firmware);
}

static const Field match_fields[] = {
        { "mac", parse_match_mac, false },
        { "uuid", parse_match_uuid, false },
        { "serial", parse_match_serial, false },
        { "vendor", parse_match_vendor, false },
        { "product", parse_match_product, false },
        { "min_memory", parse_match_min_memory, false },
        { "firmware", parse_match_firmware, false },
};

void profile_check_match_section(Checker *c, const YNode *v, ProfileMatch *m) {
        if (!ck_fields(c, v, match_fields, ELEMENTSOF(match_fields), m))
                return;
        size_t given = 0;

        m->source = (YNode *) v;
        for (size_t i = 0; i < v->n; i++)
                given += !ynode_is_null(v->items[i]);
        if (given == 0)
                ck_error(c, v, "match needs at least one of: mac, uuid, serial, vendor, product, "
                         "min_memory, firmware");
}

void profile_match_done(ProfileMatch *m) {
        strv_free(m->macs);
        free(m->uuid);
        free(m->serial);
        free(m->vendor);
        free(m->product);
        free(m->firmware);
        *m = (ProfileMatch) {};
}

/* ---- checking a machine ------------------------------------------------------------- */

typedef struct MatchCheck {
        const Profile *p;
        ProfileErrors *errors;
        size_t n;       /* disagreements found */
        int r;          /* -ENOMEM */
} MatchCheck;

static void disagree(MatchCheck *mc, const char *key, const char *fmt, ...) _printf_(3, 4);
static void disagree(MatchCheck *mc, const char *key, const char *fmt, ...) {
        const YNode *k = ck_key_node(mc->p->match.source, key);
        _cleanup_free_ char *msg = NULL, *path = strprintf("match.%s", key);
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
                msg = NULL;
                mc->r = -ENOMEM;
                return;
        }
        if (!path || profile_errors_add(mc->errors, k && k->file ? k->file : mc->p->filename, k ? k->line : 0,
                                        k ? k->column : 0, path, "%s", msg) < 0) {
                mc->r = -ENOMEM;
                return;
        }
        mc->n++;
}

/* "the profile is for WHAT 'WANT', this machine's WHAT is 'HAVE'" */
static void disagree_text(MatchCheck *mc, const char *key, const char *what, const char *want, const char *have) {
        if (have)
                disagree(mc, key, "the profile is for %s '%s', this machine's %s is '%s'", what, ck_quote(want).s,
                         what, ck_quote(have).s);
        else
                disagree(mc, key, "the profile is for %s '%s', this machine has no %s", what, ck_quote(want).s,
                         what);
}

static bool machine_has_mac(const Inventory *inv, const char *mac) {
        for (size_t i = 0; i < inv->n_nics; i++) {
                char norm[18];
                const char *m = inv->nics[i].mac;
                if (m && mac_normalize(m, norm) >= 0 && streq(norm, mac))
                        return true;
        }
        return false;
}

static void check_macs(MatchCheck *mc, const Inventory *inv) {
        char **macs = mc->p->match.macs;
        _cleanup_free_ char *want = NULL, *have = NULL;
        StrBuf w = {}, h = {};
        int r = 0;

        for (size_t i = 0; macs[i]; i++)
                if (machine_has_mac(inv, macs[i]))
                        return;
        for (size_t i = 0; macs[i] && r >= 0; i++)
                r = strbuf_appendf(&w, "%s%s", i ? ", " : "", macs[i]);
        for (size_t i = 0; i < inv->n_nics && r >= 0; i++)
                r = strbuf_appendf(&h, "%s%s", h.len ? ", " : "", inv->nics[i].mac ?: "?");
        want = strbuf_steal(&w);
        have = strbuf_steal(&h);
        if (r < 0) {
                mc->r = -ENOMEM;
                return;
        }
        disagree(mc, "mac", "the profile is for a machine with %s %s, this machine %s%s",
                 macs[1] ? "one of the MACs" : "MAC", want ?: "",
                 inv->n_nics == 0 ? "has no network interfaces" : inv->n_nics == 1 ? "has one NIC: " : "has NICs ",
                 have ?: "");
}

static void check_min_memory(MatchCheck *mc, const Inventory *inv) {
        char want[32], have[32];

        if (inv->memory >= mc->p->match.min_memory)
                return;
        disagree(mc, "min_memory", "the profile is for machines with at least %s of memory, this machine has %s "
                 "(MemTotal: the installed memory less what firmware and kernel keep)",
                 format_bytes(want, sizeof want, mc->p->match.min_memory), format_bytes(have, sizeof have, inv->memory));
}

static bool dmi_glob(const char *pattern, const char *s) {
        return s && fnmatch(pattern, s, 0) == 0;
}

int profile_match_check(const Profile *p, const Inventory *inv, ProfileErrors *errors) {
        _cleanup_(profile_errors_done) ProfileErrors local = {};
        MatchCheck mc = { .p = p, .errors = errors ?: &local };
        const ProfileMatch *m;
        const YNode *src;

        if (!p || !inv)
                return -EINVAL;
        m = &p->match;
        src = m->source;

        /* In the order the keys were written, so that messages come in
         * source order. */
        for (size_t i = 0; src && i < src->n && mc.r == 0; i++) {
                const char *key = src->keys[i]->value;
                const char *fw = firmware_to_string(inv->firmware);

                if (streq(key, "mac") && m->macs)
                        check_macs(&mc, inv);
                else if (streq(key, "uuid") && m->uuid) {
                        if (!inv->dmi.product_uuid || strcasecmp(inv->dmi.product_uuid, m->uuid) != 0)
                                disagree_text(&mc, key, "UUID", m->uuid, inv->dmi.product_uuid);
                } else if (streq(key, "serial") && m->serial) {
                        if (!streq_ptr(inv->dmi.product_serial, m->serial))
                                disagree_text(&mc, key, "serial", m->serial, inv->dmi.product_serial);
                } else if (streq(key, "vendor") && m->vendor) {
                        if (!dmi_glob(m->vendor, inv->dmi.sys_vendor))
                                disagree_text(&mc, key, "vendor", m->vendor, inv->dmi.sys_vendor);
                } else if (streq(key, "product") && m->product) {
                        if (!dmi_glob(m->product, inv->dmi.product_name))
                                disagree_text(&mc, key, "product", m->product, inv->dmi.product_name);
                } else if (streq(key, "min_memory") && m->min_memory > 0)
                        check_min_memory(&mc, inv);
                else if (streq(key, "firmware") && m->firmware) {
                        if (!streq_ptr(fw, m->firmware))
                                disagree_text(&mc, key, "firmware", m->firmware, fw);
                }
        }
        if (mc.r < 0)
                return mc.r;
        return mc.n > 0 ? -EINVAL : 0;
}
