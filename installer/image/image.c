/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The extraction half of the image stream: libarchive reads what the download
 * thread passes through the socket and writes it onto the target root. */
#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "basic/interrupt.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "image/image-internal.h"
#include "image/manifest.h"
#include "basic/url.h"
#include "report/report.h"

/* Data after the tar end marker is read and hashed too (the checksum covers
 * the whole file), but a stream that goes on and on after the archive has
 * ended is not an image. */
#define IMAGE_TRAILING_MAX (64 * MiB)
#define IMAGE_READ_BUFFER (128 * 1024)
/* Archive names in messages are shortened to this many bytes. */
#define IMAGE_NAME_MAX_SHOWN 256

/* No ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS: every entry is rewritten to the
 * absolute path below the target root, which that flag would refuse. Absolute
 * names in the archive are refused before the rewrite (image_entry_path_check).
 * ARCHIVE_EXTRACT_OWNER is added when running as root. */
#define IMAGE_EXTRACT_FLAGS                                                                       \
        (ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL | \
         ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT)

static const char *strempty(const char *s) {
        return s ? s : "";
}

static const struct {
        const char *name;
        ImageFormat format;
} format_table[] = {
        /* The first name of each format is its canonical one. */
        { "auto", IMAGE_FORMAT_AUTO },       { "tar", IMAGE_FORMAT_TAR },
        { "tar.gz", IMAGE_FORMAT_TAR_GZ },   { "tgz", IMAGE_FORMAT_TAR_GZ },
        { "tar.xz", IMAGE_FORMAT_TAR_XZ },   { "txz", IMAGE_FORMAT_TAR_XZ },
        { "tar.zst", IMAGE_FORMAT_TAR_ZST }, { "tzst", IMAGE_FORMAT_TAR_ZST },
};

int image_format_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(format_table); i++)
                if (streq(s, format_table[i].name))
                        return format_table[i].format;
        return -EINVAL;
}

const char *image_format_to_string(ImageFormat f) {
        for (size_t i = 0; i < ELEMENTSOF(format_table); i++)
                if (format_table[i].format == f)
                        return format_table[i].name;
        return NULL;
}

ImageFormat image_format_from_url(const char *url) {
        /* One suffix rule for the profile check and the install. */
        int f = image_format_from_string(url_image_format(url));
        return f < 0 ? IMAGE_FORMAT_AUTO : (ImageFormat) f;
}

int image_entry_path_check(const char *path) {
        if (!path || !*path)
                return -EINVAL;
        if (path[0] == '/')
                return -EPERM;
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -EPERM;
                p += n;
                p += strspn(p, "/");
        }
        return 0;
}

/* Whether a relative path names the root itself ("", ".", "./", "./."). */
static bool path_is_root(const char *path) {
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (!(n == 1 && p[0] == '.'))
                        return false;
                p += n;
                p += strspn(p, "/");
        }
        return true;
}

/* Archive names and libarchive messages (which quote them) are untrusted:
 * escape control and non-ASCII bytes and quotes, shorten long ones. */
static char *escape_text(const char *s) {
        StrBuf b = {};
        size_t n = 0;
        int r = 0;

        for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p && r >= 0; p++, n++) {
                if (n >= IMAGE_NAME_MAX_SHOWN) {
                        r = strbuf_append(&b, "...");
                        break;
                }
                if (*p < 0x20 || *p >= 0x7f || *p == '\'' || *p == '\\')
                        r = strbuf_appendf(&b, "\\x%02x", *p);
                else
                        r = strbuf_append_n(&b, (const char *) p, 1);
        }
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

typedef struct Extract {
        struct archive *reader, *disk;
        const char *url;          /* redacted */
        const char *root;         /* canonical target root; "" for "/" */
        const char *format;       /* for messages */
        int fd;                   /* read end of the download stream */
        ImageResult *stats;
        int r;
        char *error;
        bool read_failed;         /* reading the archive failed: may be the download's fault */
        char *lookup_error;       /* a name in an ACL that the image does not define */
        bool root_times_set;      /* the archive has an entry for the root itself */
        struct timespec root_times[2];
        uint8_t buf[IMAGE_READ_BUFFER];
} Extract;

static const char *extract_root(const Extract *x) {
        return *x->root ? x->root : "/";
}

/* Record the first failure (later ones are consequences) and return r. */
_printf_(3, 4) static int extract_fail(Extract *x, int r, const char *fmt, ...) {
        va_list ap;

        if (x->error)
                return x->r;
        va_start(ap, fmt);
        if (vasprintf(&x->error, fmt, ap) < 0)
                x->error = NULL;
        va_end(ap);
        x->r = r;
        return r;
}

static int extract_read_error(Extract *x, const char *name) {
        _cleanup_free_ char *shown = escape_text(name), *msg = escape_text(archive_error_string(x->reader));
        int e = archive_errno(x->reader);

        x->read_failed = true;
        e = e > 0 && e != EINVAL ? -e : -EILSEQ;
        if (name)
                return extract_fail(x, e, "Failed to read entry '%s' of image %s: %s", strempty(shown), x->url,
                                    msg ? msg : "unknown error");
        return extract_fail(x, e, "Failed to read image %s (format %s): %s", x->url, x->format,
                            msg ? msg : "unknown error");
}

/* The length of the leading part of rel that is a symlink below the root, 0
 * if none is (the last component is not looked at: it is replaced). */
static size_t symlink_prefix(const Extract *x, const char *rel) {
        _cleanup_free_ char *p = strprintf("%s/%s", x->root, rel);
        size_t skip = strlen(x->root) + 1;

        if (!p)
                return 0;
        for (char *s = p + skip; (s = strchr(s, '/')); s++) {
                struct stat st;
                if (s[-1] == '/')
                        continue;
                *s = 0;
                if (lstat(p, &st) < 0)
                        return 0;
                if (S_ISLNK(st.st_mode))
                        return (size_t) (s - p) - skip;
                *s = '/';
        }
        return 0;
}

/* rel: the entry being written, NULL when finishing the extraction. */
static int extract_write_error(Extract *x, const char *rel, const char *link_rel) {
        _cleanup_free_ char *shown = escape_text(rel), *msg = escape_text(archive_error_string(x->disk));
        int e = archive_errno(x->disk);
        size_t n;

        /* A name in an ACL that the image does not define. */
        if (x->lookup_error)
                return extract_fail(x, -ESRCH, "%s", x->lookup_error);
        if (!rel)
                return extract_fail(x, e > 0 ? -e : -EIO, "Failed to finish extracting image %s below %s: %s",
                                    x->url, extract_root(x), msg ? msg : "unknown error");

        /* libarchive refuses to write through symlinks (SECURE_SYMLINKS) with
         * a generic error: say what happened. */
        if ((n = symlink_prefix(x, rel)) > 0) {
                _cleanup_free_ char *l = strndup(rel, n), *ls = escape_text(l);
                return extract_fail(x, -EPERM,
                                    "image entry '%s' would be written through the symlink '%s'; refusing the image",
                                    strempty(shown), strempty(ls));
        }
        if (link_rel && (n = symlink_prefix(x, link_rel)) > 0) {
                _cleanup_free_ char *l = strndup(link_rel, n), *ls = escape_text(l);
                return extract_fail(x, -EPERM,
                                    "image entry '%s' is a hard link through the symlink '%s'; refusing the image",
                                    strempty(shown), strempty(ls));
        }
        return extract_fail(x, e > 0 ? -e : -EIO, "Failed to write entry '%s' of image %s below %s: %s",
                            strempty(shown), x->url, extract_root(x), msg ? msg : "unknown error");
}

/* Open /etc/<name> of the installed system: symlinks resolve as they will
 * there, inside the root. */
static FILE *fopen_etc(const Extract *x, const char *name) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int dfd = open(extract_root(x), O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *rel = strprintf("etc/%s", name);
        int fd;
        FILE *f;

        if (dfd < 0 || !rel)
                return NULL;
        fd = (int) syscall(SYS_openat2, dfd, rel, &how, sizeof how);
        if (fd < 0 && errno == ENOSYS) {
                /* Before Linux 5.6 (or under valgrind): follow no symlink at all. */
                _cleanup_close_ int etc = openat(dfd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                fd = etc < 0 ? -1 : openat(etc, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return NULL;
        f = fdopen(fd, "re");
        if (!f)
                close(fd);
        return f;
}

/* The third field of the line starting with "name:" in the image's
 * /etc/passwd or /etc/group; -1 if there is none. */
static la_int64_t lookup_id(const Extract *x, const char *file, const char *name) {
        _cleanup_fclose_ FILE *f = fopen_etc(x, file);
        _cleanup_free_ char *line = NULL;
        size_t n = 0, len = strlen(name);

        if (!f)
                return -1;
        while (getline(&line, &n, f) > 0) {
                const char *p;
                char *end;
                unsigned long long id;

                if (strncmp(line, name, len) != 0 || line[len] != ':')
                        continue;
                p = strchr(line + len + 1, ':');
                if (!p || !isdigit((unsigned char) p[1]))
                        continue;
                errno = 0;
                id = strtoull(p + 1, &end, 10);
                if (errno == 0 && (*end == ':' || *end == '\n' || *end == 0) && id < UINT32_MAX)
                        return (la_int64_t) id;
        }
        return -1;
}

/* libarchive asks for the id of an owner or of a name in an ACL. An id in the
 * archive is kept: owners always have one (numeric, as in the tar), and so do
 * ACL entries written by libarchive. Names without an id (GNU tar writes
 * "group:adm:r-x") are those of the installed system: they are looked up in
 * its /etc/passwd and /etc/group, never in the installer's. A name it does not
 * define fails the install (libarchive would drop a directory's ACL without a
 * word). */
static la_int64_t lookup(Extract *x, const char *file, const char *what, const char *name, la_int64_t id) {
        la_int64_t r;

        if (id >= 0 || !name || !*name)
                return id;
        r = lookup_id(x, file, name);
        if (r < 0 && !x->lookup_error) {
                _cleanup_free_ char *shown = escape_text(name);
                x->lookup_error = strprintf("Image %s has an ACL for %s '%s', which is not in its /etc/%s", x->url,
                                            what, strempty(shown), file);
        }
        return r;
}

static la_int64_t lookup_uid(void *userdata, const char *name, la_int64_t id) {
        return lookup(userdata, "passwd", "user", name, id);
}

static la_int64_t lookup_gid(void *userdata, const char *name, la_int64_t id) {
        return lookup(userdata, "group", "group", name, id);
}

static int extract_entry(Extract *x, struct archive_entry *e) {
        const char *path = archive_entry_pathname(e), *link = archive_entry_hardlink(e);
        _cleanup_free_ char *full = NULL, *full_link = NULL;
        const char *rel, *link_rel = NULL;
        size_t skip = strlen(x->root) + 1;
        int r;

        if (!path || !*path) {
                x->read_failed = true;
                return extract_fail(x, -EILSEQ, "Image %s has an entry without a name", x->url);
        }
        if (image_entry_path_check(path) < 0) {
                _cleanup_free_ char *shown = escape_text(path);
                return extract_fail(x, -EPERM, "image entry '%s' escapes the target root; refusing the image",
                                    strempty(shown));
        }
        if (path_is_root(path)) {
                if (archive_entry_filetype(e) != AE_IFDIR) {
                        _cleanup_free_ char *shown = escape_text(path);
                        return extract_fail(x, -EPERM,
                                            "image entry '%s' would replace the target root; refusing the image",
                                            strempty(shown));
                }
                /* libarchive sets the times of a directory that exists
                 * already at once, before its contents change them: set them
                 * again at the end. */
                x->root_times_set = archive_entry_mtime_is_set(e);
                x->root_times[0] = archive_entry_atime_is_set(e) ?
                        (struct timespec) { archive_entry_atime(e), archive_entry_atime_nsec(e) } :
                        (struct timespec) { .tv_nsec = UTIME_OMIT };
                x->root_times[1] = (struct timespec) { archive_entry_mtime(e), archive_entry_mtime_nsec(e) };
        }
        if (link && image_entry_path_check(link) < 0) {
                _cleanup_free_ char *shown = escape_text(path), *ls = escape_text(link);
                return extract_fail(x, -EPERM,
                                    "image entry '%s' is a hard link to '%s' outside the target root; refusing the image",
                                    strempty(shown), strempty(ls));
        }

        /* Rewrite the names to absolute paths below the root; the entry's own
         * strings are replaced, so keep using the copies. */
        full = strprintf("%s/%s", x->root, path);
        if (link)
                full_link = strprintf("%s/%s", x->root, link);
        if (!full || (link && !full_link))
                return extract_fail(x, -ENOMEM, "Out of memory");
        rel = full + skip;
        if (full_link)
                link_rel = full_link + skip;
        archive_entry_set_pathname(e, full);
        if (full_link)
                archive_entry_set_hardlink(e, full_link);

        /* ARCHIVE_WARN counts as failure too: it means that owner, mode,
         * times, xattrs or ACLs could not be restored. */
        r = archive_write_header(x->disk, e);
        if (r != ARCHIVE_OK)
                return extract_write_error(x, rel, link_rel);

        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;

                r = archive_read_data_block(x->reader, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return extract_read_error(x, rel);
                if (archive_write_data_block(x->disk, buf, size, offset) != ARCHIVE_OK)
                        return extract_write_error(x, rel, NULL);
        }

        r = archive_write_finish_entry(x->disk);
        if (r != ARCHIVE_OK)
                return extract_write_error(x, rel, NULL);

        x->stats->entries++;
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
                x->stats->bytes_extracted += (uint64_t) archive_entry_size(e);
        return 0;
}

/* Wait until x->fd is readable, looking at the signal flag every 250 ms (a
 * stalled download cannot hold a signal off). Returns 0 or -ECANCELED. */
static int extract_wait_readable(Extract *x) {
        for (;;) {
                struct pollfd p = { .fd = x->fd, .events = POLLIN };

                if (interrupt_check() < 0)
                        return extract_fail(x, -ECANCELED, "Streaming image %s stopped: the installer caught a signal",
                                            x->url);
                if (poll(&p, 1, 250) != 0)
                        return 0; /* readable, hung up, or an error read() reports */
        }
}

static la_ssize_t extract_read_cb(struct archive *a, void *userdata, const void **ret_buf) {
        Extract *x = userdata;

        for (;;) {
                if (extract_wait_readable(x) < 0) {
                        archive_set_error(a, ECANCELED, "stopped: the installer caught a signal");
                        return -1;
                }
                ssize_t n = read(x->fd, x->buf, sizeof x->buf);
                if (n >= 0) {
                        *ret_buf = x->buf;
                        return n;
                }
                if (errno != EINTR) {
                        archive_set_error(a, errno, "Failed to read the download stream: %s", strerror(errno));
                        return -1;
                }
        }
}

/* After the end of the archive: read the rest of the stream, so that the
 * download completes and the checksum covers the whole file. */
static int extract_drain(Extract *x) {
        uint64_t n = 0;

        for (;;) {
                int r = extract_wait_readable(x);
                if (r < 0)
                        return r;
                ssize_t k = read(x->fd, x->buf, sizeof x->buf);
                if (k == 0)
                        break;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        x->read_failed = true;
                        return extract_fail(x, -errno, "Failed to read image %s: %s", x->url, strerror(errno));
                }
                n += (uint64_t) k;
                if (n > IMAGE_TRAILING_MAX)
                        return extract_fail(x, -EILSEQ,
                                            "Image %s goes on for more than %" PRIu64
                                            " MiB after the end of the archive",
                                            x->url, IMAGE_TRAILING_MAX / MiB);
        }
        log_debug("Image %s: %" PRIu64 " bytes of the stream after the end of the archive", x->url, n);
        return 0;
}

static int extract_setup(Extract *x, ImageFormat format) {
        int flags = IMAGE_EXTRACT_FLAGS, r;

        x->reader = archive_read_new();
        x->disk = archive_write_disk_new();
        if (!x->reader || !x->disk)
                return extract_fail(x, -ENOMEM, "Out of memory");

        switch (format) {
        case IMAGE_FORMAT_AUTO:
                r = archive_read_support_filter_all(x->reader);
                break;
        case IMAGE_FORMAT_TAR:
                r = ARCHIVE_OK;
                break;
        case IMAGE_FORMAT_TAR_GZ:
                r = archive_read_support_filter_gzip(x->reader);
                break;
        case IMAGE_FORMAT_TAR_XZ:
                r = archive_read_support_filter_xz(x->reader);
                break;
        case IMAGE_FORMAT_TAR_ZST:
                r = archive_read_support_filter_zstd(x->reader);
                break;
        default:
                r = ARCHIVE_FATAL;
        }
        /* ARCHIVE_WARN here means "through an external program": not for the
         * named formats, whose libraries libarchive is linked with. */
        if (r != ARCHIVE_OK && !(r == ARCHIVE_WARN && format == IMAGE_FORMAT_AUTO))
                return extract_fail(x, -EOPNOTSUPP, "This libarchive cannot read %s images: %s", x->format,
                                    strempty(archive_error_string(x->reader)));
        if (archive_read_support_format_tar(x->reader) != ARCHIVE_OK)
                return extract_fail(x, -EOPNOTSUPP, "This libarchive cannot read tar archives");

        /* No archive_write_disk_set_standard_lookup(): owners are the
         * numeric ids in the archive, not names looked up on this system. */
        if (geteuid() == 0)
                flags |= ARCHIVE_EXTRACT_OWNER;
        else
                log_debug("Not running as root: file owners are not restored");
        if (archive_write_disk_set_user_lookup(x->disk, x, lookup_uid, NULL) != ARCHIVE_OK ||
            archive_write_disk_set_group_lookup(x->disk, x, lookup_gid, NULL) != ARCHIVE_OK ||
            archive_write_disk_set_options(x->disk, flags) != ARCHIVE_OK)
                return extract_fail(x, -EOPNOTSUPP, "Failed to set extraction options: %s",
                                    strempty(archive_error_string(x->disk)));
        return 0;
}

/* Read the whole stream and extract it. */
static int extract_run(Extract *x) {
        const char *last = NULL;
        _cleanup_free_ char *last_copy = NULL;
        int r;

        if (archive_read_open(x->reader, x, NULL, extract_read_cb, NULL) != ARCHIVE_OK)
                return extract_read_error(x, NULL);

        for (;;) {
                struct archive_entry *e;

                r = archive_read_next_header(x->reader, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r == ARCHIVE_WARN) {
                        _cleanup_free_ char *msg = escape_text(archive_error_string(x->reader));
                        log_debug("Image %s: %s", x->url, strempty(msg));
                } else if (r != ARCHIVE_OK) {
                        if (!last)
                                return extract_read_error(x, NULL);
                        /* Name the entry after which reading failed. */
                        _cleanup_free_ char *shown = escape_text(last),
                                            *msg = escape_text(archive_error_string(x->reader));
                        int e_no = archive_errno(x->reader);
                        x->read_failed = true;
                        return extract_fail(x, e_no > 0 && e_no != EINVAL ? -e_no : -EILSEQ,
                                            "Failed to read image %s after entry '%s': %s", x->url,
                                            strempty(shown), msg ? msg : "unknown error");
                }

                r = extract_entry(x, e);
                if (r < 0)
                        return r;

                /* The rewritten name, relative again. */
                free(last_copy);
                last_copy = strdup(archive_entry_pathname(e) + strlen(x->root) + 1);
                last = last_copy;
        }

        r = extract_drain(x);
        if (r < 0)
                return r;

        /* Directory modes, times and ACLs are set last. */
        if (archive_write_close(x->disk) != ARCHIVE_OK)
                return extract_write_error(x, NULL, NULL);
        if (x->lookup_error) {
                x->error = TAKE_PTR(x->lookup_error);
                return x->r = -ESRCH;
        }
        if (x->root_times_set && utimensat(AT_FDCWD, extract_root(x), x->root_times, 0) < 0)
                return extract_fail(x, -errno, "Failed to set the times of %s: %s", extract_root(x),
                                    strerror(errno));
        return 0;
}

static int check_sha256(const char *s, char ret[static IMAGE_SHA256_HEX_LEN + 1]) {
        if (!s || strlen(s) != IMAGE_SHA256_HEX_LEN)
                return -EINVAL;
        for (size_t i = 0; i < IMAGE_SHA256_HEX_LEN; i++) {
                if (!isxdigit((unsigned char) s[i]))
                        return -EINVAL;
                ret[i] = (char) tolower((unsigned char) s[i]);
        }
        ret[IMAGE_SHA256_HEX_LEN] = 0;
        return 0;
}

static bool url_supported(const char *url) {
        return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
               strncasecmp(url, "file://", 7) == 0;
}

static int install(const ImageSource *src, const char *target_root, ImageResult *res, char **ret_error) {
        ImageDownload d = { .fd = -1 };
        _cleanup_free_ Extract *x = NULL;
        _cleanup_free_ char *safe = NULL, *root = NULL;
        char expected[IMAGE_SHA256_HEX_LEN + 1];
        int format, r, dr;

        if (!src || !src->url || !*src->url) {
                *ret_error = strdup("No image URL given");
                return -EINVAL;
        }
        safe = fetch_url_redact(src->url);
        if (!safe)
                return -ENOMEM;
        if (!url_supported(src->url)) {
                _cleanup_free_ char *shown = escape_text(safe);
                *ret_error = strprintf("Image URL %s is not supported: only http, https and file URLs are",
                                       strempty(shown));
                return -EINVAL;
        }
        if (src->manifest && src->sha256 && check_sha256(src->sha256, expected) >= 0 &&
            !streq(expected, src->manifest->sha256_hex)) {
                /* Before anything is written: one of the two is not this image's. */
                *ret_error = strprintf("Image %s: the profile's sha256 %s is not its manifest's %s", safe, expected,
                                       src->manifest->sha256_hex);
                return -EBADMSG;
        }
        if (src->manifest && !src->sha256)
                memcpy(expected, src->manifest->sha256_hex, sizeof expected);
        else if (src->skip_checksum && !src->sha256)
                expected[0] = 0; /* the profile said insecure_no_checksum: nothing to compare */
        else if (check_sha256(src->sha256, expected) < 0) {
                _cleanup_free_ char *shown = escape_text(src->sha256);
                *ret_error = strprintf("Image SHA-256 '%s' is not 64 hexadecimal digits", strempty(shown));
                return -EINVAL;
        }
        format = src->format ? image_format_from_string(src->format) : (int) image_format_from_url(src->url);
        if (format < 0) {
                _cleanup_free_ char *shown = escape_text(src->format);
                *ret_error = strprintf("Unknown image format '%s' (known: tar, tar.gz, tar.xz, tar.zst, auto)",
                                       strempty(shown));
                return -EINVAL;
        }
        if (!target_root || !*target_root) {
                *ret_error = strdup("No target root given");
                return -EINVAL;
        }
        /* Canonical, so that the names handed to libarchive have no symlink
         * in the part that is ours (SECURE_SYMLINKS checks every component). */
        root = realpath(target_root, NULL);
        if (!root) {
                r = -errno;
                *ret_error = strprintf("Target root %s: %s", target_root, strerror(-r));
                return r;
        }
        struct stat st;
        if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
                *ret_error = strprintf("Target root %s is not a directory", target_root);
                return -ENOTDIR;
        }
        if (streq(root, "/"))
                root[0] = 0;

        x = new0(Extract, 1);
        if (!x)
                return -ENOMEM;
        *x = (Extract) { .url = safe, .root = root, .format = image_format_to_string(format), .fd = -1,
                         .stats = res };

        r = extract_setup(x, format);
        if (r < 0)
                goto finish;

        log_debug("Installing image %s (%s) onto %s", safe, x->format, target_root);
        r = image_download_start(&d, src->url, src->manifest, &x->fd);
        if (r < 0) {
                extract_fail(x, r, "Failed to start downloading image %s: %s", safe, strerror(-r));
                goto finish;
        }

        r = extract_run(x);

        /* Stop the download if it still runs: with our end closed its next
         * write fails and the transfer is aborted. */
        closep(&x->fd);
        x->fd = -1;
        dr = image_download_wait(&d);
        res->bytes_downloaded = d.bytes;
        res->chunks_verified = d.chunk_index;

        if (d.gate_failed) {
                /* The extractor saw the verified chunks and then the end of
                 * the stream: whatever it made of that, the cause is the
                 * chunk (or the length) that did not match. */
                free(x->error);
                x->error = TAKE_PTR(d.error);
                r = x->r = -EBADMSG;
        } else if (dr < 0 && d.error && (r >= 0 || x->read_failed)) {
                /* The transfer failed on its own (HTTP error, connection lost):
                 * what the archive side saw follows from that. */
                free(x->error);
                x->error = TAKE_PTR(d.error);
                r = x->r = dr;
        } else if (r >= 0 && dr < 0)
                r = extract_fail(x, dr, "Failed to download image %s: %s", safe, strerror(-dr));
        else if (r >= 0) {
                report_progress_update(&d.progress, d.bytes, true);
                r = image_download_digest(&d, res->sha256);
                if (r < 0)
                        extract_fail(x, r, "Failed to compute the SHA-256 of image %s", safe);
                else if (expected[0] && !streq(res->sha256, expected))
                        r = extract_fail(x, -EBADMSG,
                                         "Image %s does not match its checksum: expected SHA-256 %s, got %s",
                                         safe, expected, res->sha256);
        }

finish:
        if (r < 0)
                *ret_error = TAKE_PTR(x->error);
        if (x->fd >= 0)
                close(x->fd);
        image_download_done(&d);
        archive_read_free(x->reader);
        archive_write_free(x->disk);
        free(x->error);
        free(x->lookup_error);
        return r;
}

int image_install(const ImageSource *src, const char *target_root, ImageResult *ret, char **ret_error) {
        uint64_t start = report_now_usec();
        ImageResult res = {};
        _cleanup_free_ char *error = NULL;
        int r;

        r = install(src, target_root, &res, &error);
        res.seconds = (double) (report_now_usec() - start) / 1e6;
        if (r < 0)
                log_debug("Image install failed: %s", error ? error : strerror(-r));
        else
                log_debug("Image installed: %" PRIu64 " entries, %" PRIu64 " bytes from %" PRIu64
                          " downloaded, %.1fs",
                          res.entries, res.bytes_extracted, res.bytes_downloaded, res.seconds);
        if (ret)
                *ret = res;
        if (r < 0 && ret_error)
                *ret_error = error ? TAKE_PTR(error) : strdup(strerror(-r));
        return r;
}
