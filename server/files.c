/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The static tree: GET and HEAD of files under --www (and /profiles/ under
 * --profiles), confined with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS):
 * a symlink that stays inside the tree is followed, one that leads out of it
 * is refused (403), as are absolute symlinks. The path was decoded once and
 * checked by http_decode_path() (no "..", no encoded slash, no NUL). No
 * directory listings. Range (one range), ETag/If-None-Match, Last-Modified/
 * If-Modified-Since, and the body by sendfile. */

#include <ctype.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <microhttpd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "http.h"

static const struct {
        const char *suffix, *type;
} content_types[] = {
        { ".ipxe", "text/plain; charset=utf-8" }, { ".txt", "text/plain; charset=utf-8" },
        { ".cfg", "text/plain; charset=utf-8" },  { ".yaml", "application/yaml" },
        { ".yml", "application/yaml" },           { ".json", "application/json" },
        { ".sha256", "text/plain; charset=utf-8" }, { ".html", "text/html; charset=utf-8" },
        { ".css", "text/css" },                   { ".js", "text/javascript" },
        { ".iso", "application/x-iso9660-image" }, { ".gz", "application/gzip" },
        { ".zst", "application/zstd" },           { ".xz", "application/x-xz" },
        { ".tar", "application/x-tar" },          { ".png", "image/png" },
        { ".svg", "image/svg+xml" },
};

static const char *content_type(const char *path) {
        for (size_t i = 0; i < ELEMENTSOF(content_types); i++)
                if (endswith(path, content_types[i].suffix))
                        return content_types[i].type;
        return "application/octet-stream";
}

int files_open_beneath(int dirfd, const char *rel) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

        return fd < 0 ? -errno : (int) fd;
}

/* Does the If-None-Match list contain etag (weak comparison)? */
static bool etag_matches(const char *list, const char *etag) {
        const char *p = list;

        while (p && *p) {
                while (*p == ' ' || *p == ',')
                        p++;
                if (*p == '*')
                        return true;
                if (startswith(p, "W/"))
                        p += 2;
                size_t n = strcspn(p, ",");
                while (n > 0 && p[n - 1] == ' ')
                        n--;
                if (n == strlen(etag) && strncmp(p, etag, n) == 0)
                        return true;
                p = strchr(p, ',');
        }
        return false;
}

/* "bytes=A-B", "bytes=A-", "bytes=-N". 1: a range [*start, *start + *len);
 * 0: ignore the header (malformed or several ranges: the whole file);
 * -ERANGE: unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len) {
        const char *p = startswith(h, "bytes=");
        unsigned long long a = 0, b = 0;
        char *end;

        if (!p || strchr(p, ','))
                return 0;
        while (*p == ' ')
                p++;
        /* strtoull() would take a sign ("--5", "0--5") and leading
         * blanks: digits only. */
        if (*p == '-') {
                if (!isdigit((unsigned char) p[1]))
                        return 0;
                errno = 0;
                b = strtoull(p + 1, &end, 10);
                if (errno || end == p + 1 || *end)
                        return 0;
                if (b == 0 || size == 0)
                        return -ERANGE;
                *len = MIN(b, size);
                *start = size - *len;
                return 1;
        }
        if (!isdigit((unsigned char) *p))
                return 0;
        errno = 0;
        a = strtoull(p, &end, 10);
        if (errno || end == p || *end != '-')
                return 0;
        p = end + 1;
        if (*p == '\0')
                b = UINT64_MAX;
        else {
                if (!isdigit((unsigned char) *p))
                        return 0;
                errno = 0;
                b = strtoull(p, &end, 10);
                if (errno || *end || b < a)
                        return 0;
        }
        if (a >= size)
                return -ERANGE;
        *start = a;
        *len = MIN(b, size - 1) - a + 1;
        return 1;
}

static void http_date(time_t t, char buf[static 64]) {
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void files_handle(Request *r) {
        Server *srv = r->server;
        const char *rel = r->path + 1;
        int dirfd = srv->www_fd;
        _cleanup_close_ int fd = -1;
        struct stat st;
        char etag[80], modified[64];
        uint64_t start = 0, len;
        unsigned status = 200;
        const char *h;

        /* /profiles/ is --profiles (by default WWW/profiles, the same thing). */
        const char *sub = startswith(r->path, "/profiles/");
        if (sub && srv->profiles_fd >= 0) {
                dirfd = srv->profiles_fd;
                rel = sub;
        }
        if (*rel == '\0' || endswith(rel, "/"))
                return http_refuse(r, 404, "a directory (no listings)");
        if (dirfd < 0)
                return http_refuse(r, 404, "no such file");

        fd = files_open_beneath(dirfd, rel);
        if (fd == -EXDEV)
                return http_refuse(r, 403, "the path leads out of the served tree (a symlink)");
        if (fd == -ELOOP)
                return http_refuse(r, 403, "too many symlinks or a magic link");
        if (fd == -EACCES || fd == -EPERM)
                return http_refuse(r, 403, "permission denied");
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -ENAMETOOLONG)
                return http_refuse(r, 404, "no such file");
        if (fd < 0)
                return http_refuse(r, 500, "cannot open the file: %s", strerror(-fd));
        if (fstat(fd, &st) < 0)
                return http_refuse(r, 500, "cannot stat the file: %s", strerror(errno));
        if (S_ISDIR(st.st_mode))
                return http_refuse(r, 404, "a directory (no listings)");
        if (!S_ISREG(st.st_mode))
                return http_refuse(r, 404, "not a regular file");

        snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx\"", (unsigned long long) st.st_size,
                 (unsigned long long) st.st_mtim.tv_sec * 1000000000ULL + (unsigned long long) st.st_mtim.tv_nsec,
                 (unsigned long long) st.st_ino);
        http_date(st.st_mtime, modified);

        bool not_modified = false;
        if ((h = http_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH)))
                not_modified = etag_matches(h, etag);
        else if ((h = http_header(r, MHD_HTTP_HEADER_IF_MODIFIED_SINCE))) {
                struct tm tm = {};
                const char *end = strptime(h, "%a, %d %b %Y %H:%M:%S GMT", &tm);
                not_modified = end && !*end && timegm(&tm) >= st.st_mtime;
        }
        if (not_modified) {
                struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
                if (resp) {
                        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
                        MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
                }
                return http_queue(r, 304, resp, 0);
        }

        len = (uint64_t) st.st_size;
        h = http_header(r, MHD_HTTP_HEADER_RANGE);
        const char *if_range = http_header(r, MHD_HTTP_HEADER_IF_RANGE);
        if (h && (!if_range || streq(if_range, etag) || streq(if_range, modified))) {
                int k = parse_range(h, (uint64_t) st.st_size, &start, &len);
                if (k == -ERANGE) {
                        char cr[64];
                        struct MHD_Response *resp =
                                MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
                        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long) st.st_size);
                        if (resp)
                                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
                        char path[204];
                        http_log_path(r->raw_target, path);
                        log_notice("refused: %s %s from %s: 416 a range past the end of a %llu-byte file", r->method,
                                   path, r->client, (unsigned long long) st.st_size);
                        return http_queue(r, 416, resp, 0);
                }
                if (k == 1)
                        status = 206;
                else {
                        start = 0;
                        len = (uint64_t) st.st_size;
                }
        }

        struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, start);
        if (!resp)
                return http_refuse(r, 500, "out of memory");
        fd = -1; /* the response owns it now */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(rel));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
        if (status == 206) {
                char cr[96];
                snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long) start,
                         (unsigned long long) (start + len - 1), (unsigned long long) st.st_size);
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        }
        http_queue(r, status, resp, len);
}
