/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The profile's files: written into the target through the root-confined
 * path resolution (a symlink in the image cannot lead a write out of the
 * target, and the file is replaced, never written through a link). A file
 * from a URL is fetched into memory and must match its sha256 before
 * anything is written; the URL is only ever printed redacted. Owners and
 * groups are names in the target's /etc/passwd and /etc/group (after the
 * accounts step) or numbers. */
#include <inttypes.h>

#include "basic/log.h"
#include "basic/sha256.h"
#include "fetch/fetch.h"
#include "target/target-internal.h"
#include "trust/trust.h"

#define FILE_MAX_SIZE (64 * MiB)

/* The id (field 2) of name in a passwd/group file of the target. */
static int lookup_id(int rootfd, const char *db, const char *name, uint32_t *ret) {
        _cleanup_free_ char *data = NULL;
        size_t len = strlen(name);
        char *end;
        int r;

        if (strspn(name, "0123456789") == len && len > 0) {
                unsigned long v;
                errno = 0;
                v = strtoul(name, &end, 10);
                if (errno || *end || v > UINT32_MAX - 1)
                        return -EINVAL;
                *ret = (uint32_t) v;
                return 0;
        }
        r = target_read_file(rootfd, db, &data, NULL);
        if (r < 0)
                return r;
        for (char *l = data; l && *l;) {
                if (strncmp(l, name, len) == 0 && l[len] == ':') {
                        const char *f = strchr(l + len + 1, ':');
                        if (!f)
                                return -EINVAL;
                        unsigned long v = strtoul(f + 1, &end, 10);
                        if (end == f + 1 || *end != ':')
                                return -EINVAL;
                        *ret = (uint32_t) v;
                        return 0;
                }
                l = strchr(l, '\n');
                if (l)
                        l++;
        }
        return -ESRCH;
}

static int file_data(const ProfileFile *f, char **ret, size_t *ret_size) {
        _cleanup_free_ char *safe = NULL, *err = NULL, *data = NULL;
        FetchOptions opts = { .max_size = FILE_MAX_SIZE, .timeout_sec = 120 };
        char hex[65];
        size_t size = 0;
        int r;

        if (f->content) {
                *ret = strdup(f->content);
                *ret_size = strlen(f->content);
                return *ret ? 0 : -ENOMEM;
        }
        if (!f->url || !f->sha256)
                return -EINVAL;
        safe = fetch_url_redact(f->url);
        /* With trusted keys, URL.sig must be good too (trust.h). */
        r = trust_fetch(f->url, &opts, &data, &size, &err);
        if (trust_is_refusal(r))
                return log_error_errno(-EKEYREJECTED, "Cannot use %s for %s: %s", safe ?: "?", f->path,
                                       err ?: strerror(-r));
        if (r < 0)
                return log_error_errno(r, "Cannot fetch %s for %s: %s", safe ?: "?", f->path, err ?: strerror(-r));
        r = sha256_hex(data, size, hex);
        if (r < 0)
                return r;
        if (!streq(hex, f->sha256))
                return log_error_errno(-EBADMSG, "%s (for %s) does not match its sha256: got %s", safe ?: "?",
                                       f->path, hex);
        log_debug("files: %s: %zu bytes from %s, sha256 verified", f->path, size, safe ?: "?");
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

int target_write_files(const char *root, const Profile *p) {
        _cleanup_close_ int rootfd = -1;
        int r;

        if (!p)
                return -EINVAL;
        if (p->n_files == 0)
                return 0;
        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;

        for (size_t i = 0; i < p->n_files; i++) {
                const ProfileFile *f = &p->files[i];
                _cleanup_free_ char *data = NULL;
                uint32_t uid = 0, gid = 0;
                size_t size = 0;

                if (!f->path || f->path[0] != '/' || strstr(f->path, "/../") || endswith(f->path, "/..") ||
                    f->mode > 07777)
                        return log_debug_errno(-EINVAL, "files: invalid entry %zu", i);
                if (f->owner && (r = lookup_id(rootfd, "/etc/passwd", f->owner, &uid)) < 0)
                        return log_error_errno(r, "Cannot write %s: owner '%s' is not a user of the target", f->path,
                                               f->owner);
                /* Without a group the file stays in group root, as with install -o. */
                if (f->group && (r = lookup_id(rootfd, "/etc/group", f->group, &gid)) < 0)
                        return log_error_errno(r, "Cannot write %s: group '%s' is not a group of the target", f->path,
                                               f->group);
                r = file_data(f, &data, &size);
                if (r < 0)
                        return r;
                r = target_write_file(rootfd, f->path, data, size, (mode_t) f->mode, uid, gid);
                if (r < 0)
                        return log_error_errno(r, "Cannot write %s into the target: %m", f->path);
                log_debug("files: wrote %s (%zu bytes, mode %04o, %" PRIu32 ":%" PRIu32 ")", f->path, size,
                          (unsigned) f->mode, uid, gid);
        }
        return 0;
}
