/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls: CA certificates the installer trusts for https besides the boot
 * image's site CA, each pinned by the sha256 of its DER form. docs/tls.md,
 * docs/profile.md "tls". Only checked here; install/tls.c fetches them. */
#include <errno.h>

#include "basic/url.h"
#include "profile/profile-internal.h"

static void parse_ca_url(Checker *c, const YNode *v, void *userdata) {
        ProfileTlsCa *ca = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        /* Absolute, or relative to the document that gives it (as image.url). */
        why = url_has_scheme(s) ? profile_check_url(s) : profile_check_url_reference(s);
        if (why) {
                _cleanup_free_ char *safe = url_redact(s);
                ck_error(c, v, "invalid CA URL '%s': %s", safe ? ck_quote(safe).s : "?", why);
                return;
        }
        if (ck_strdup(c, s, &ca->url) && v->file)
                ck_strdup(c, v->file, &ca->document);
}

static void parse_ca_sha256(Checker *c, const YNode *v, void *userdata) {
        ck_sha256(c, v, &((ProfileTlsCa *) userdata)->sha256);
}

static void parse_cas(Checker *c, const YNode *v, void *userdata) {
        static const Field ca_fields[] = {
                { "url", parse_ca_url, true },
                { "sha256", parse_ca_sha256, true },
        };
        ProfileTls *t = userdata;

        if (!ck_type(c, v, YNODE_SEQUENCE))
                return;
        if (v->n == 0) {
                ck_error(c, v, "an empty list: name at least one CA (url and sha256), or leave 'ca' out");
                return;
        }
        if (v->n > PROFILE_TLS_MAX_CAS) {
                ck_error(c, v->items[PROFILE_TLS_MAX_CAS], "at most %u CAs", PROFILE_TLS_MAX_CAS);
                return;
        }
        t->cas = new0(ProfileTlsCa, v->n);
        if (!t->cas) {
                ck_oom(c);
                return;
        }
        t->n_cas = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                ProfileTlsCa *ca = &t->cas[i];
                const YNode *item = v->items[i];

                ca->line = item->line;
                ca->column = item->column;
                if (ck_fields(c, item, ca_fields, ELEMENTSOF(ca_fields), ca))
                        for (size_t j = 0; ca->sha256 && j < i; j++)
                                if (streq_ptr(t->cas[j].sha256, ca->sha256))
                                        ck_error_key(c, ck_value(item, "sha256"), "sha256",
                                                     "the same CA as tls.ca[%zu]", j);
                ck_pop(c, mark);
        }
}

void profile_parse_tls(Checker *c, const YNode *v, void *userdata) {
        static const Field fields[] = {
                { "ca", parse_cas, false },
        };

        (void) ck_fields(c, v, fields, ELEMENTSOF(fields), &((Profile *) userdata)->tls);
}

void profile_tls_done(ProfileTls *t) {
        for (size_t i = 0; i < t->n_cas; i++) {
                free(t->cas[i].url);
                free(t->cas[i].document);
                free(t->cas[i].sha256);
        }
        free(t->cas);
        *t = (ProfileTls) {};
}
