/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which profile URLs a booting machine tries, in order. Works with any static
 * HTTP server: the layout is a directory tree (docs/boot.md). */
#include <ctype.h>

#include "basic/strutil.h"
#include "hw/hw.h"
#include "install/install.h"
#include "medium/medium.h"

/* Percent-encode everything but unreserved characters (RFC 3986). */
static char *uri_escape(const char *s) {
        StrBuf b = {};
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (isalnum(*p) || strchr("-._~", *p)) {
                        if (strbuf_append_n(&b, (const char *) p, 1) < 0)
                                return NULL;
                } else if (strbuf_appendf(&b, "%%%02X", *p) < 0)
                        return NULL;
        }
        return strbuf_steal(&b);
}

static int push(char ***l, const char *base, const char *dir, const char *key) {
        _cleanup_free_ char *esc = uri_escape(key);
        if (!esc)
                return -ENOMEM;
        char *u = strprintf("%s%s%s/%s.yaml", base, endswith(base, "/") ? "" : "/", dir, esc);
        if (!u)
                return -ENOMEM;
        int r = strv_push(l, u);
        if (r < 0)
                free(u);
        return r;
}

int install_profile_candidates(const BootParams *bp, const Inventory *inv, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        /* Booted from a medium: its profile tree, unless told otherwise. */
        const char *base = bp->profiles_url ? bp->profiles_url : bp->medium ? MEDIUM_PROFILES_URL : NULL;
        const char *uuid = bp->uuid ? bp->uuid : inv ? inv->dmi.product_uuid : NULL;
        const char *serial = bp->serial ? bp->serial : inv ? inv->dmi.product_serial : NULL;
        int r;

        if (bp->profile_url)
                return strv_extend(ret, bp->profile_url);
        if (!base)
                return -EINVAL;

        if (bp->mac) {
                /* 52-54-00-12-34-56, as pxelinux names its per-MAC files */
                char mac[18];
                strcpy(mac, bp->mac);
                for (char *c = mac; *c; c++)
                        if (*c == ':')
                                *c = '-';
                if ((r = push(&l, base, "mac", mac)) < 0)
                        return r;
        }
        /* Placeholders (all-zero UUIDs, "To Be Filled By O.E.M.") are not
         * identities: every such machine would fetch the same profile. */
        if (!hw_dmi_uuid_is_placeholder(uuid) && (r = push(&l, base, "uuid", uuid)) < 0)
                return r;
        if (!hw_dmi_serial_is_placeholder(serial) && (r = push(&l, base, "serial", serial)) < 0)
                return r;
        char *d = strprintf("%s%sdefault.yaml", base, endswith(base, "/") ? "" : "/");
        if (!d || strv_push(&l, d) < 0) {
                free(d);
                return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
