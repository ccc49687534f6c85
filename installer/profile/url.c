/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "profile/url.h"

#include <strings.h>

#include "basic/strutil.h"

/* The authority of "scheme://authority/path": start and length. Returns false
 * for strings without "://". */
static bool url_authority(const char *url, const char **ret_start, size_t *ret_len) {
        const char *a = strstr(url, "://");

        if (!a)
                return false;
        /* Only a scheme may precede "://": letters, digits, '+', '-', '.'. */
        for (const char *s = url; s < a; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.", *s))
                        return false;
        a += 3;
        *ret_start = a;
        *ret_len = strcspn(a, "/?#");
        return true;
}

/* The userinfo part ends at the last '@' of the authority (a password may
 * itself contain '@' if the user did not escape it). */
static const char *authority_userinfo_end(const char *start, size_t len) {
        const char *at = NULL;

        for (size_t i = 0; i < len; i++)
                if (start[i] == '@')
                        at = start + i;
        return at;
}

bool url_has_credentials(const char *url) {
        const char *a;
        size_t len;

        if (!url || !url_authority(url, &a, &len))
                return false;
        return authority_userinfo_end(a, len) != NULL;
}

char *url_redact(const char *url) {
        const char *a, *at;
        size_t len;
        StrBuf b = {};
        int r = 0;

        if (!url)
                return strdup("");

        if (url_authority(url, &a, &len) && (at = authority_userinfo_end(a, len))) {
                /* scheme:// + everything after the '@' */
                r = strbuf_append_n(&b, url, (size_t) (a - url));
                if (r >= 0)
                        r = strbuf_append_n(&b, at + 1, strcspn(at + 1, "?#"));
        } else
                r = strbuf_append_n(&b, url, strcspn(url, "?#"));
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

const char *url_image_format(const char *url) {
        static const struct {
                const char *suffix;
                const char *format;
        } table[] = {
                { ".tar", "tar" },         { ".tar.gz", "tar.gz" },   { ".tgz", "tar.gz" },
                { ".tar.xz", "tar.xz" },   { ".txz", "tar.xz" },      { ".tar.zst", "tar.zst" },
                { ".tzst", "tar.zst" },
        };
        const char *path, *a;
        size_t len;

        if (!url)
                return NULL;
        /* Only the path counts: "http://images.tar/" names no tar file. */
        path = url_authority(url, &a, &len) ? a + len : url;
        len = strcspn(path, "?#");
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                size_t sl = strlen(table[i].suffix);
                /* A file name, not just the suffix: "/x.tar", not "/.tar". */
                if (len > sl && path[len - sl - 1] != '/' &&
                    strncasecmp(path + len - sl, table[i].suffix, sl) == 0)
                        return table[i].format;
        }
        return NULL;
}
