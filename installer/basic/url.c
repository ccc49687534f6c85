/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/url.h"

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

bool url_has_scheme(const char *s) {
        size_t i = 0;

        if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return false;
        while (s[i] && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.", s[i]))
                i++;
        return s[i] == ':';
}

/* Remove "." and ".." segments from path[0..len) and append the result to b
 * (RFC 3986 section 5.2.4, extended to relative paths: there, a ".." that
 * cannot be removed stays, as the file system needs it). */
static int append_normalized_path(StrBuf *b, const char *path, size_t len) {
        bool absolute = len > 0 && path[0] == '/', trailing = false;
        size_t n = 0, max = 1, i = absolute ? 1 : 0;
        int r = 0;

        for (size_t k = 0; k < len; k++)
                max += path[k] == '/';
        _cleanup_free_ const char **seg = new0(const char *, max);
        _cleanup_free_ size_t *seglen = new0(size_t, max);
        if (!seg || !seglen)
                return -ENOMEM;

        for (;;) {
                size_t l = strcspn(path + i, "/");
                bool last;

                if (i + l > len)
                        l = len - i;
                last = i + l >= len;
                trailing = false;
                if (l == 1 && path[i] == '.')
                        trailing = last;
                else if (l == 2 && path[i] == '.' && path[i + 1] == '.') {
                        if (n > 0 && !(seglen[n - 1] == 2 && strncmp(seg[n - 1], "..", 2) == 0))
                                n--;
                        else if (!absolute) {
                                seg[n] = path + i;
                                seglen[n++] = 2;
                        }
                        trailing = last;
                } else if (l == 0 && last)
                        trailing = true; /* the path ends with '/' */
                else {
                        seg[n] = path + i;
                        seglen[n++] = l;
                }
                if (last)
                        break;
                i += l + 1;
        }

        if (absolute)
                r = strbuf_append(b, "/");
        for (size_t k = 0; k < n && r >= 0; k++) {
                r = strbuf_append_n(b, seg[k], seglen[k]);
                if (r >= 0 && (k + 1 < n || trailing))
                        r = strbuf_append(b, "/");
        }
        return r;
}

/* scheme://authority + path + rest, with the path normalised. */
static int append_url(StrBuf *b, const char *prefix, size_t prefix_len, const char *path, size_t path_len,
                      const char *rest) {
        int r = strbuf_append_n(b, prefix, prefix_len);

        if (r >= 0)
                r = append_normalized_path(b, path, path_len);
        if (r >= 0)
                r = strbuf_append(b, rest);
        return r;
}

int url_resolve(const char *base, const char *ref, char **ret) {
        _cleanup_(strbuf_done) StrBuf path = {};
        const char *a, *rest = ref + strcspn(ref ?: "", "?#");
        size_t alen;
        StrBuf b = {};
        int r;

        if (!base || !ref || !ret)
                return -EINVAL;

        if (url_has_scheme(ref)) {
                /* Absolute: only its dot segments go. */
                const char *p = url_authority(ref, &a, &alen) ? a + alen : strchr(ref, ':') + 1;
                r = append_url(&b, ref, (size_t) (p - ref), p, (size_t) (rest - p), rest);
        } else if (startswith(ref, "//") && url_authority(base, &a, &alen)) {
                /* A network-path reference: base's scheme, ref's authority. */
                _cleanup_free_ char *t = strprintf("%.*s%s", (int) (a - 2 - base), base, ref);
                return t ? url_resolve(base, t, ret) : -ENOMEM;
        } else if (url_authority(base, &a, &alen)) {
                const char *bpath = a + alen;
                size_t bplen = strcspn(bpath, "?#");
                const char *slash = memrchr(bpath, '/', bplen);

                if (ref[0] == '/')
                        r = 0;                                          /* ref is the whole path */
                else if (ref[0] == '?' || ref[0] == '#' || ref[0] == 0)
                        r = strbuf_append_n(&path, bpath, bplen);       /* same document */
                else if (slash)
                        r = strbuf_append_n(&path, bpath, (size_t) (slash - bpath) + 1);
                else
                        r = strbuf_append(&path, "/");
                if (r >= 0)
                        r = strbuf_append_n(&path, ref, (size_t) (rest - ref));
                if (r >= 0)
                        r = append_url(&b, base, (size_t) (bpath - base), path.data ?: "", path.len, rest);
        } else {
                /* File paths: relative to the directory of base. */
                const char *slash = ref[0] == '/' ? NULL : strrchr(base, '/');

                r = slash ? strbuf_append_n(&path, base, (size_t) (slash - base) + 1) : 0;
                if (r >= 0)
                        r = strbuf_append(&path, ref);
                if (r >= 0)
                        r = append_normalized_path(&b, path.data ?: "", path.len);
        }
        if (r < 0) {
                strbuf_done(&b);
                return -ENOMEM;
        }
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}
