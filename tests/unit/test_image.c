/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image streaming: download + sha256 + extraction in one pass.
 *
 * The images are built here: a source tree written by the test, packed with
 * GNU tar (--xattrs --acls --numeric-owner, as rootfs/mkimage.sh does) and
 * compressed with the zstd, gzip and xz tools; hostile archives are written
 * with libarchive's writer. They are served as file:// URLs and by a small
 * HTTP server on 127.0.0.1 that runs in a thread of this test.
 *
 * Owners, device nodes and file capabilities are checked only as root.
 * IMAGE_SLOW_TESTS=1 also runs a 200 MiB image and prints the peak RSS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "image/image.h"

#define ZERO_SHA "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- helpers --------------------------------------------------------------- */

static bool is_root(void) {
        return geteuid() == 0;
}

static void run(const char *fmt, ...) _printf_(1, 2);
static void run(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        assert_true(r >= 0);
        r = system(cmd);
        if (r != 0)
                fail_msg("command failed (%d): %s", r, cmd);
}

static bool have_tool(const char *name) {
        _cleanup_free_ char *cmd = strprintf("command -v %s >/dev/null 2>&1", name);
        return cmd && system(cmd) == 0;
}

static void write_file(const char *path, const void *data, size_t size, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t) size);
        assert_int_equal(fchmod(fd, mode), 0);
        assert_int_equal(close(fd), 0);
}

static char *read_file(const char *path) {
        char *data = NULL;
        size_t size;
        if (read_full_file(path, &data, &size) < 0)
                return NULL;
        return data;
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static void rm_rf(const char *path) {
        (void) nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void sha256_file(const char *path, char hex[static 65]) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char buf[65536], digest[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        ssize_t k;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_non_null(md);
        assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
        while ((k = read(fd, buf, sizeof buf)) > 0)
                assert_int_equal(EVP_DigestUpdate(md, buf, (size_t) k), 1);
        assert_int_equal(k, 0);
        assert_int_equal(EVP_DigestFinal_ex(md, digest, &n), 1);
        EVP_MD_CTX_free(md);
        close(fd);
        assert_int_equal(n, 32);
        for (unsigned i = 0; i < n; i++)
                sprintf(hex + 2 * i, "%02x", digest[i]);
}

static uint64_t file_size(const char *path) {
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        return (uint64_t) st.st_size;
}

static bool exists(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0;
}

static void set_mtime(const char *path, time_t t) {
        struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };
        assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* ---- the fixture: a source tree and its tarballs, built once ---------------- */

typedef struct Fixture {
        char work[64];          /* /tmp/test-image-XXXXXX */
        char *src, *tar, *zst, *gz, *xz;
        uint64_t content_bytes; /* sum of the regular files' sizes, hard links once */
        unsigned counter;
        bool named_acl;         /* this host has a group "adm": the tree has an ACL naming it */
} Fixture;

static Fixture *fx;

/* A fresh directory below the work directory. */
static char *new_dir(const char *name) {
        char *p = strprintf("%s/%s-%u", fx->work, name, ++fx->counter);
        assert_non_null(p);
        assert_int_equal(mkdir(p, 0755), 0);
        return p;
}

static char *file_url(const char *path) {
        char *u = strprintf("file://%s", path);
        assert_non_null(u);
        return u;
}

/* posix_acl_xattr format (linux/posix_acl_xattr.h), little endian: version 2,
 * then (tag, perm, id) entries sorted by tag. */
static const uint8_t test_acl[] = {
        0x02, 0x00, 0x00, 0x00,                                     /* version */
        0x01, 0x00, 0x06, 0x00, 0xff, 0xff, 0xff, 0xff,             /* user::rw- */
        0x02, 0x00, 0x04, 0x00, 0xe1, 0x10, 0x00, 0x00,             /* user:4321:r-- */
        0x04, 0x00, 0x04, 0x00, 0xff, 0xff, 0xff, 0xff,             /* group::r-- */
        0x10, 0x00, 0x04, 0x00, 0xff, 0xff, 0xff, 0xff,             /* mask::r-- */
        0x20, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,             /* other::--- */
};

/* vfs_cap_data revision 2 (linux/capability.h): effective, cap_net_raw
 * permitted, as `setcap cap_net_raw+ep` writes it. */
static const uint8_t test_cap[] = {
        0x01, 0x00, 0x00, 0x02,                                     /* magic_etc */
        0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* data[0] permitted, inheritable */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* data[1] */
};

/* The same for a directory: access + default ACL naming group `gid`. */
static void make_dir_acl(uint8_t ret[static 44], uint32_t gid) {
        const uint8_t a[] = {
                0x02, 0x00, 0x00, 0x00,
                0x01, 0x00, 0x07, 0x00, 0xff, 0xff, 0xff, 0xff,     /* user::rwx */
                0x04, 0x00, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff,     /* group::r-x */
                0x08, 0x00, 0x05, 0x00, 0, 0, 0, 0,                 /* group:GID:r-x */
                0x10, 0x00, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff,     /* mask::r-x */
                0x20, 0x00, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff,     /* other::r-x */
        };
        memcpy(ret, a, sizeof a);
        for (int i = 0; i < 4; i++)
                ret[24 + i] = (uint8_t) (gid >> (8 * i));
}

static void add_file(const char *rel, const char *content, mode_t mode, time_t mtime) {
        _cleanup_free_ char *p = strprintf("%s/%s", fx->src, rel);
        write_file(p, content, strlen(content), mode);
        if (mtime)
                set_mtime(p, mtime);
        fx->content_bytes += strlen(content);
}

static void make_tree(void) {
        const char *dirs[] = { "etc", "bin", "data", "private", "dev", "empty", "var", "var/log", "var/log/journal" };
        _cleanup_free_ char *p = NULL;

        assert_int_equal(mkdir(fx->src, 0755), 0);
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *d = strprintf("%s/%s", fx->src, dirs[i]);
                assert_int_equal(mkdir(d, 0755), 0);
        }

        add_file("etc/hostname", "demo\n", 0644, 1500000000);
        add_file("bin/tool", "#!/bin/sh\necho tool\n", 04755, 0);
        add_file("data/owned", "owned by 1234:5678\n", 0640, 0);
        add_file("data/hard1", "two names, one inode\n", 0644, 0);
        add_file("data/xattr.txt", "with user.test\n", 0644, 0);
        add_file("data/cap", "capable\n", 0755, 0);
        add_file("data/acl.txt", "with an ACL\n", 0640, 0);
        add_file("private/secret", "secret\n", 0600, 0);
        /* The image's own user database: "adm" differs from this host's. */
        add_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644, 0);
        add_file("etc/group", "root:x:0:\nadm:x:1004:\n", 0644, 0);

        p = strprintf("%s/data/hard1", fx->src);
        _cleanup_free_ char *p2 = strprintf("%s/data/hard2", fx->src);
        assert_int_equal(link(p, p2), 0);

        _cleanup_free_ char *l1 = strprintf("%s/data/link", fx->src), *l2 = strprintf("%s/data/abs", fx->src);
        assert_int_equal(symlink("../etc/hostname", l1), 0);
        assert_int_equal(symlink("/etc/hostname", l2), 0);

        _cleanup_free_ char *x = strprintf("%s/data/xattr.txt", fx->src);
        assert_int_equal(setxattr(x, "user.test", "1", 1, 0), 0);

        _cleanup_free_ char *a = strprintf("%s/data/acl.txt", fx->src);
        assert_int_equal(setxattr(a, "system.posix_acl_access", test_acl, sizeof test_acl, 0), 0);

        if (is_root()) {
                _cleanup_free_ char *o = strprintf("%s/data/owned", fx->src);
                _cleanup_free_ char *c = strprintf("%s/data/cap", fx->src);
                _cleanup_free_ char *n = strprintf("%s/dev/null", fx->src);
                assert_int_equal(chown(o, 1234, 5678), 0);
                assert_int_equal(setxattr(c, "security.capability", test_cap, sizeof test_cap, 0), 0);
                assert_int_equal(mknod(n, S_IFCHR | 0666, makedev(1, 3)), 0);
        }

        /* Like systemd's /var/log/journal: GNU tar stores the ACL with the
         * group's name, "group:adm:r-x". */
        struct group *adm = getgrnam("adm");
        if (adm) {
                _cleanup_free_ char *j = strprintf("%s/var/log/journal", fx->src);
                uint8_t acl[44];
                make_dir_acl(acl, (uint32_t) adm->gr_gid);
                assert_int_equal(setxattr(j, "system.posix_acl_access", acl, sizeof acl, 0), 0);
                assert_int_equal(setxattr(j, "system.posix_acl_default", acl, sizeof acl, 0), 0);
                fx->named_acl = true;
        }

        _cleanup_free_ char *pr = strprintf("%s/private", fx->src);
        assert_int_equal(chmod(pr, 0700), 0);
        /* Last: adding files changes the directories' times. */
        set_mtime(pr, 1400000000);
        set_mtime(fx->src, 1300000000);
}

static int setup_fixture(void **state) {
        fx = calloc(1, sizeof *fx);
        if (!fx)
                return -1;
        strcpy(fx->work, "/tmp/test-image-XXXXXX");
        if (!mkdtemp(fx->work))
                return -1;
        fx->src = strprintf("%s/src", fx->work);
        fx->tar = strprintf("%s/img.tar", fx->work);
        fx->zst = strprintf("%s/img.tar.zst", fx->work);
        fx->gz = strprintf("%s/img.tar.gz", fx->work);
        fx->xz = strprintf("%s/img.tar.xz", fx->work);
        make_tree();
        run("tar --numeric-owner --xattrs --xattrs-include='*' --acls --sort=name -C %s -cf %s .", fx->src,
            fx->tar);
        run("zstd -q -T0 -10 -o %s %s", fx->zst, fx->tar);
        run("gzip -9 -n -c %s > %s", fx->tar, fx->gz);
        run("xz -c %s > %s", fx->tar, fx->xz);
        assert_int_equal(fetch_global_init(), 0);
        return 0;
}

static int teardown_fixture(void **state) {
        if (!fx)
                return 0;
        if (!getenv("IMAGE_KEEP_TMP"))
                rm_rf(fx->work);
        free(fx->src);
        free(fx->tar);
        free(fx->zst);
        free(fx->gz);
        free(fx->xz);
        free(fx);
        fx = NULL;
        fetch_global_done();
        return 0;
}

/* ---- installing and checking -------------------------------------------------- */

/* Install path (served as file://) with its real checksum into a new target. */
static int install_path(const char *path, const char *format, const char *target, ImageResult *res, char **err) {
        char sha[65];
        _cleanup_free_ char *url = file_url(path);
        ImageSource src = { .url = url, .sha256 = sha, .format = format };

        sha256_file(path, sha);
        return image_install(&src, target, res, err);
}

static void assert_xattr(const char *path, const char *name, const void *value, size_t size) {
        uint8_t buf[256];
        ssize_t n = lgetxattr(path, name, buf, sizeof buf);
        if (n < 0)
                fail_msg("%s: no %s: %s", path, name, strerror(errno));
        assert_int_equal(n, (ssize_t) size);
        assert_memory_equal(buf, value, size);
}

static void check_tree(const char *t) {
        struct stat st, st2;
        char buf[PATH_MAX];
        _cleanup_free_ char *hostname = strprintf("%s/etc/hostname", t), *tool = strprintf("%s/bin/tool", t),
                            *owned = strprintf("%s/data/owned", t), *h1 = strprintf("%s/data/hard1", t),
                            *h2 = strprintf("%s/data/hard2", t), *link = strprintf("%s/data/link", t),
                            *abs = strprintf("%s/data/abs", t), *xa = strprintf("%s/data/xattr.txt", t),
                            *cap = strprintf("%s/data/cap", t), *acl = strprintf("%s/data/acl.txt", t),
                            *priv = strprintf("%s/private", t), *secret = strprintf("%s/private/secret", t),
                            *dev = strprintf("%s/dev/null", t), *empty = strprintf("%s/empty", t);
        _cleanup_free_ char *content = read_file(hostname);

        assert_non_null(content);
        assert_string_equal(content, "demo\n");
        assert_int_equal(stat(hostname, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(st.st_mtime, 1500000000);

        assert_int_equal(stat(tool, &st), 0);
        assert_int_equal(st.st_mode & 07777, 04755);

        assert_int_equal(stat(owned, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        if (is_root()) {
                assert_int_equal(st.st_uid, 1234);
                assert_int_equal(st.st_gid, 5678);
        }

        assert_int_equal(stat(h1, &st), 0);
        assert_int_equal(stat(h2, &st2), 0);
        assert_int_equal(st.st_ino, st2.st_ino);
        assert_int_equal(st.st_nlink, 2);

        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        ssize_t n = readlink(link, buf, sizeof buf - 1);
        assert_true(n > 0);
        buf[n] = 0;
        assert_string_equal(buf, "../etc/hostname");
        n = readlink(abs, buf, sizeof buf - 1);
        assert_true(n > 0);
        buf[n] = 0;
        assert_string_equal(buf, "/etc/hostname");

        assert_xattr(xa, "user.test", "1", 1);
        assert_xattr(acl, "system.posix_acl_access", test_acl, sizeof test_acl);
        if (is_root()) {
                assert_xattr(cap, "security.capability", test_cap, sizeof test_cap);
                assert_int_equal(lstat(dev, &st), 0);
                assert_true(S_ISCHR(st.st_mode));
                assert_int_equal(st.st_rdev, makedev(1, 3));
        }

        assert_int_equal(stat(priv, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_mtime, 1400000000);
        assert_int_equal(stat(secret, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(empty, &st), 0);
        assert_true(S_ISDIR(st.st_mode));

        /* The target root gets the mode and times of the archive's "./". */
        assert_int_equal(stat(t, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(st.st_mtime, 1300000000);

        /* The ACL's group name resolved in the image's /etc/group. */
        if (fx->named_acl) {
                _cleanup_free_ char *j = strprintf("%s/var/log/journal", t);
                uint8_t dir_acl[44];
                make_dir_acl(dir_acl, 1004);
                assert_xattr(j, "system.posix_acl_access", dir_acl, sizeof dir_acl);
                assert_xattr(j, "system.posix_acl_default", dir_acl, sizeof dir_acl);
        }
}

static void install_and_check(const char *path, const char *format) {
        _cleanup_free_ char *t = new_dir("target"), *err = NULL;
        ImageResult res;
        char sha[65];

        sha256_file(path, sha);
        int r = install_path(path, format, t, &res, &err);
        if (r < 0)
                fail_msg("image_install(%s): %s", path, err ? err : strerror(-r));
        assert_null(err);
        check_tree(t);
        assert_string_equal(res.sha256, sha);
        assert_int_equal(res.bytes_downloaded, file_size(path));
        assert_int_equal(res.bytes_extracted, fx->content_bytes);
        /* ./ and 9 directories, 10 files, hard2, 2 symlinks (+ dev/null) */
        assert_int_equal(res.entries, 10 + 10 + 1 + 2 + (is_root() ? 1 : 0));
        assert_true(res.seconds >= 0);
}

/* ---- the well-formed images -------------------------------------------------- */

static void test_extract_zst(void **state) {
        install_and_check(fx->zst, NULL);
}

static void test_extract_gz(void **state) {
        install_and_check(fx->gz, NULL);
}

static void test_extract_xz(void **state) {
        install_and_check(fx->xz, NULL);
}

static void test_extract_tar(void **state) {
        install_and_check(fx->tar, NULL);
}

static void test_extract_acl_without_xattrs(void **state) {
        /* With --xattrs-include='*' GNU tar stores an ACL twice (as
         * SCHILY.acl.access and as the system.posix_acl_access xattr): here
         * only the ACL record is there. */
        _cleanup_free_ char *p = strprintf("%s/acl-only.tar", fx->work), *t = new_dir("target"), *err = NULL;
        _cleanup_free_ char *f = NULL;

        run("tar --numeric-owner --acls --no-xattrs -C %s -cf %s ./data/acl.txt", fx->src, p);
        run("! grep -q SCHILY.xattr %s && grep -q SCHILY.acl.access %s", p, p);
        assert_int_equal(install_path(p, NULL, t, NULL, &err), 0);
        f = strprintf("%s/data/acl.txt", t);
        assert_xattr(f, "system.posix_acl_access", test_acl, sizeof test_acl);
}

static void test_extract_auto(void **state) {
        /* No suffix: the compression is detected. */
        _cleanup_free_ char *p = strprintf("%s/image-without-suffix", fx->work);
        run("cp %s %s", fx->xz, p);
        install_and_check(p, NULL);
        install_and_check(p, "auto");
        install_and_check(fx->gz, "tgz");
}

static void test_target_root_is_symlink(void **state) {
        /* The target root is canonicalised: a symlink to it is fine. */
        _cleanup_free_ char *t = new_dir("real"), *l = strprintf("%s/via-link", fx->work), *err = NULL;
        _cleanup_free_ char *f = NULL;
        assert_int_equal(symlink(t, l), 0);
        assert_int_equal(install_path(fx->zst, NULL, l, NULL, &err), 0);
        assert_null(err);
        f = strprintf("%s/etc/hostname", t);
        assert_true(exists(f));
}

static void test_trailing_data(void **state) {
        /* Data after the archive is read and hashed: the checksum is that of
         * the whole file. */
        _cleanup_free_ char *p = strprintf("%s/trailing.tar.gz", fx->work), *t = new_dir("target"),
                            *err = NULL, *url = NULL;
        ImageResult res;
        char sha[65];

        run("cp %s %s && head -c 300000 /dev/urandom >> %s", fx->gz, p, p);
        assert_int_equal(install_path(p, NULL, t, &res, &err), 0);
        assert_int_equal(res.bytes_downloaded, file_size(p));

        /* The checksum of the archive without the trailing data does not do. */
        sha256_file(fx->gz, sha);
        url = file_url(p);
        ImageSource src = { .url = url, .sha256 = sha };
        _cleanup_free_ char *t2 = new_dir("target");
        assert_int_equal(image_install(&src, t2, &res, &err), -EBADMSG);
        assert_non_null(strstr(err, sha));
        assert_int_equal(res.bytes_downloaded, file_size(p));
}

/* ---- checksum ----------------------------------------------------------------- */

static void test_wrong_sha256(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *url = file_url(fx->zst), *err = NULL;
        ImageSource src = { .url = url, .sha256 = ZERO_SHA };
        ImageResult res;
        char sha[65];

        sha256_file(fx->zst, sha);
        assert_int_equal(image_install(&src, t, &res, &err), -EBADMSG);
        assert_non_null(err);
        assert_non_null(strstr(err, ZERO_SHA));
        assert_non_null(strstr(err, sha));
        assert_non_null(strstr(err, url));
        assert_string_equal(res.sha256, sha);

        /* Upper case is the same digest. */
        for (char *c = sha; *c; c++)
                *c = (char) toupper((unsigned char) *c);
        src.sha256 = sha;
        free(err);
        err = NULL;
        _cleanup_free_ char *t2 = new_dir("target");
        assert_int_equal(image_install(&src, t2, NULL, &err), 0);
        assert_null(err);
}

/* insecure_no_checksum: no sha256 and skip_checksum installs without a
 * comparison (the digest is still computed); a malformed sha256 is refused
 * even then, and a given one is always compared. */
static void test_skip_checksum(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *t2 = new_dir("target"), *t3 = new_dir("target"),
                            *url = file_url(fx->zst), *err = NULL;
        ImageSource src = { .url = url, .sha256 = NULL, .skip_checksum = true };
        ImageResult res;
        char sha[65];

        sha256_file(fx->zst, sha);
        assert_int_equal(image_install(&src, t, &res, &err), 0);
        assert_null(err);
        assert_string_equal(res.sha256, sha);
        assert_int_equal(res.bytes_downloaded, file_size(fx->zst));

        src.sha256 = "abc";
        assert_int_equal(image_install(&src, t2, NULL, &err), -EINVAL);
        assert_non_null(strstr(err, "'abc' is not 64 hexadecimal"));
        free(err);
        err = NULL;

        src.sha256 = ZERO_SHA;
        assert_int_equal(image_install(&src, t3, NULL, &err), -EBADMSG);
        assert_non_null(err);
}

static void test_bad_arguments(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *url = file_url(fx->zst), *missing = NULL;
        char sha[65], nonhex[65];
        char *err = NULL;

        sha256_file(fx->zst, sha);
        memcpy(nonhex, sha, sizeof nonhex);
        nonhex[17] = 'g';
        const struct {
                const char *url, *sha, *format, *target;
                const char *msg;
        } cases[] = {
                { NULL, sha, NULL, t, "No image URL" },
                { "", sha, NULL, t, "No image URL" },
                { "ftp://h/img.tar", sha, NULL, t, "not supported" },
                { url, NULL, NULL, t, "not 64 hexadecimal" },
                { url, "abc", NULL, t, "'abc' is not 64 hexadecimal" },
                { url, ZERO_SHA "0", NULL, t, "not 64 hexadecimal" },
                { url, nonhex, NULL, t, "not 64 hexadecimal" },
                { url, sha, "zip", t, "Unknown image format 'zip'" },
                { url, sha, NULL, NULL, "No target root" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ImageSource src = { .url = cases[i].url, .sha256 = cases[i].sha, .format = cases[i].format };
                assert_int_equal(image_install(&src, cases[i].target, NULL, &err), -EINVAL);
                assert_non_null(err);
                if (!strstr(err, cases[i].msg))
                        fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
                free(err);
                err = NULL;
        }
        assert_int_equal(image_install(NULL, t, NULL, NULL), -EINVAL);

        missing = strprintf("%s/does-not-exist", fx->work);
        ImageSource src = { .url = url, .sha256 = sha };
        assert_int_equal(image_install(&src, missing, NULL, &err), -ENOENT);
        assert_non_null(err);
        free(err);
        err = NULL;
        assert_int_equal(image_install(&src, fx->zst, NULL, &err), -ENOTDIR);
        free(err);
}

static void test_formats(void **state) {
        assert_int_equal(image_format_from_url("http://h/a/debian12.tar.zst"), IMAGE_FORMAT_TAR_ZST);
        assert_int_equal(image_format_from_url("https://u:p@h/x.tar.zst?sig=a.tar.gz#f.txz"), IMAGE_FORMAT_TAR_ZST);
        assert_int_equal(image_format_from_url("file:///srv/x.TAR.GZ"), IMAGE_FORMAT_TAR_GZ);
        assert_int_equal(image_format_from_url("http://h/x.tgz"), IMAGE_FORMAT_TAR_GZ);
        assert_int_equal(image_format_from_url("http://h/x.tar.xz"), IMAGE_FORMAT_TAR_XZ);
        assert_int_equal(image_format_from_url("http://h/x.txz"), IMAGE_FORMAT_TAR_XZ);
        assert_int_equal(image_format_from_url("http://h/x.tzst"), IMAGE_FORMAT_TAR_ZST);
        assert_int_equal(image_format_from_url("http://h/x.tar"), IMAGE_FORMAT_TAR);
        assert_int_equal(image_format_from_url("http://h/download?file=x.tar.gz"), IMAGE_FORMAT_AUTO);
        assert_int_equal(image_format_from_url("http://h/tar"), IMAGE_FORMAT_AUTO);
        assert_int_equal(image_format_from_url("http://h/x.tar.bz2"), IMAGE_FORMAT_AUTO);
        assert_int_equal(image_format_from_url("not a url"), IMAGE_FORMAT_AUTO);

        assert_int_equal(image_format_from_string("tar.zst"), IMAGE_FORMAT_TAR_ZST);
        assert_int_equal(image_format_from_string("tzst"), IMAGE_FORMAT_TAR_ZST);
        assert_int_equal(image_format_from_string("auto"), IMAGE_FORMAT_AUTO);
        assert_int_equal(image_format_from_string("zip"), -EINVAL);
        assert_int_equal(image_format_from_string(NULL), -EINVAL);
        assert_string_equal(image_format_to_string(IMAGE_FORMAT_TAR_GZ), "tar.gz");
        assert_null(image_format_to_string(_IMAGE_FORMAT_MAX));
}

static void test_entry_path_check(void **state) {
        assert_int_equal(image_entry_path_check("usr/bin/ls"), 0);
        assert_int_equal(image_entry_path_check("./usr/bin/ls"), 0);
        assert_int_equal(image_entry_path_check("./"), 0);
        assert_int_equal(image_entry_path_check("."), 0);
        assert_int_equal(image_entry_path_check("a/..b/c.."), 0);
        assert_int_equal(image_entry_path_check("a//b/"), 0);
        assert_int_equal(image_entry_path_check("..."), 0);
        assert_int_equal(image_entry_path_check("/etc/passwd"), -EPERM);
        assert_int_equal(image_entry_path_check(".."), -EPERM);
        assert_int_equal(image_entry_path_check("../etc/passwd"), -EPERM);
        assert_int_equal(image_entry_path_check("a/../../evil"), -EPERM);
        assert_int_equal(image_entry_path_check("a/.."), -EPERM);
        assert_int_equal(image_entry_path_check("a/../b"), -EPERM);
        assert_int_equal(image_entry_path_check("a//..//b"), -EPERM);
        assert_int_equal(image_entry_path_check(""), -EINVAL);
        assert_int_equal(image_entry_path_check(NULL), -EINVAL);
}

/* ---- hostile archives ---------------------------------------------------------- */

typedef struct TarEntry {
        const char *path;
        char type;              /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
        const char *arg;        /* content, or link target */
        mode_t mode;            /* 0: default */
        size_t fill;            /* for 'f': this many bytes of filler instead of arg */
        const char *acl_group;  /* an access ACL granting this group (by name) r-x */
} TarEntry;

#define TF(p, c) { .path = (p), .type = 'f', .arg = (c) }
#define TD(p) { .path = (p), .type = 'd' }
#define TL(p, t) { .path = (p), .type = 'l', .arg = (t) }
#define TH(p, t) { .path = (p), .type = 'h', .arg = (t) }
#define DIR_ACL(p, g) { .path = (p), .type = 'd', .acl_group = (g) }
#define FILE_ACL(p, g) { .path = (p), .type = 'f', .arg = "x", .acl_group = (g) }

static void write_tar(const char *path, const TarEntry *entries, size_t n, bool zstd) {
        struct archive *a = archive_write_new();
        assert_non_null(a);
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        if (zstd)
                assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);

        for (size_t i = 0; i < n; i++) {
                const TarEntry *t = entries + i;
                struct archive_entry *e = archive_entry_new();
                size_t size = t->type == 'f' ? (t->fill ? t->fill : strlen(t->arg)) : 0;

                archive_entry_set_pathname(e, t->path);
                archive_entry_set_mtime(e, 1600000000, 0);
                switch (t->type) {
                case 'f':
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, t->mode ? t->mode : 0644);
                        archive_entry_set_size(e, (la_int64_t) size);
                        break;
                case 'd':
                        archive_entry_set_filetype(e, AE_IFDIR);
                        archive_entry_set_perm(e, t->mode ? t->mode : 0755);
                        break;
                case 'l':
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_perm(e, 0777);
                        archive_entry_set_symlink(e, t->arg);
                        break;
                case 'h':
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_hardlink(e, t->arg);
                        archive_entry_set_size(e, 0);
                        break;
                default:
                        fail();
                }
                if (t->acl_group) {
                        const int rx = ARCHIVE_ENTRY_ACL_READ | ARCHIVE_ENTRY_ACL_EXECUTE;
                        const int access = ARCHIVE_ENTRY_ACL_TYPE_ACCESS;
                        assert_int_equal(archive_entry_acl_add_entry(e, access, rx | ARCHIVE_ENTRY_ACL_WRITE,
                                                                     ARCHIVE_ENTRY_ACL_USER_OBJ, -1, NULL), 0);
                        assert_int_equal(archive_entry_acl_add_entry(e, access, rx, ARCHIVE_ENTRY_ACL_GROUP_OBJ,
                                                                     -1, NULL), 0);
                        assert_int_equal(archive_entry_acl_add_entry(e, access, rx, ARCHIVE_ENTRY_ACL_GROUP, -1,
                                                                     t->acl_group), 0);
                        assert_int_equal(archive_entry_acl_add_entry(e, access, rx, ARCHIVE_ENTRY_ACL_MASK, -1,
                                                                     NULL), 0);
                        assert_int_equal(archive_entry_acl_add_entry(e, access, 0, ARCHIVE_ENTRY_ACL_OTHER, -1,
                                                                     NULL), 0);
                }
                assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
                if (t->type == 'f' && t->fill) {
                        static char block[65536];
                        for (size_t done = 0; done < size;) {
                                size_t k = MIN(sizeof block, size - done);
                                for (size_t j = 0; j < k; j++)
                                        block[j] = (char) ((done + j) * 2654435761u >> 13);
                                assert_int_equal(archive_write_data(a, block, k), (la_ssize_t) k);
                                done += k;
                        }
                } else if (size > 0)
                        assert_int_equal(archive_write_data(a, t->arg, size), (la_ssize_t) size);
                archive_entry_free(e);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

/* Install a hostile archive; it must fail with -EPERM naming the entry. */
static void assert_refused(const TarEntry *entries, size_t n, const char *target, const char *msg) {
        _cleanup_free_ char *p = strprintf("%s/evil-%u.tar.zst", fx->work, ++fx->counter), *err = NULL;
        int r;

        write_tar(p, entries, n, true);
        r = install_path(p, NULL, target, NULL, &err);
        if (r != -EPERM)
                fail_msg("expected -EPERM, got %d (%s)", r, err ? err : "no message");
        assert_non_null(err);
        if (!strstr(err, msg))
                fail_msg("'%s' lacks '%s'", err, msg);
}

static void test_refuse_absolute(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *out = new_dir("outside");
        _cleanup_free_ char *evil = strprintf("%s/evil", out), *msg = NULL;
        const TarEntry e[] = {
                TF("./ok", "fine\n"),
                TF(evil, "evil\n"),
        };
        msg = strprintf("image entry '%s' escapes the target root; refusing the image", evil);
        assert_refused(e, ELEMENTSOF(e), t, msg);
        assert_false(exists(evil));
}

static void test_refuse_dotdot(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *evil = strprintf("%s/evil", fx->work);
        const TarEntry e1[] = { TF("../evil", "evil\n") };
        const TarEntry e2[] = { TD("a"), TF("a/../../evil", "evil\n") };
        const TarEntry e3[] = { TD("a/..") };

        assert_refused(e1, 1, t, "image entry '../evil' escapes the target root; refusing the image");
        assert_false(exists(evil));
        assert_refused(e2, 2, t, "image entry 'a/../../evil' escapes the target root; refusing the image");
        assert_false(exists(evil));
        /* (libarchive's writer adds the slash of a directory) */
        assert_refused(e3, 1, t, "image entry 'a/../' escapes the target root");
}

static void test_refuse_hardlink_outside(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *out = new_dir("outside");
        _cleanup_free_ char *secret = strprintf("%s/secret", out), *h = strprintf("%s/h", t), *rel = NULL;
        struct stat st;

        write_file(secret, "secret\n", 7, 0600);
        rel = strprintf("../%s/secret", strrchr(out, '/') + 1);
        const TarEntry e1[] = { TH("h", rel) };
        const TarEntry e2[] = { TH("h", "../../x") };
        const TarEntry e3[] = { TH("h", secret) };

        assert_refused(e1, 1, t, "is a hard link to '../outside");
        assert_refused(e2, 1, t, "image entry 'h' is a hard link to '../../x' outside the target root");
        assert_refused(e3, 1, t, "outside the target root; refusing the image");
        assert_false(exists(h));
        assert_int_equal(stat(secret, &st), 0);
        assert_int_equal(st.st_nlink, 1);
}

static void test_refuse_through_symlink(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *out = new_dir("outside");
        _cleanup_free_ char *evil = strprintf("%s/evil", out), *secret = strprintf("%s/secret", out);
        _cleanup_free_ char *tmp_evil = strprintf("evil-image-test-%d", (int) getpid());
        _cleanup_free_ char *tmp_entry = strprintf("link/%s", tmp_evil), *tmp_path = strprintf("/tmp/%s", tmp_evil);
        struct stat st;

        write_file(secret, "secret\n", 7, 0600);

        /* An absolute symlink to /tmp, then a file below it. */
        const TarEntry e1[] = { TL("link", "/tmp"), TF(tmp_entry, "evil\n") };
        assert_refused(e1, 2, t, "would be written through the symlink 'link'; refusing the image");
        assert_false(exists(tmp_path));

        /* The same with a link to the outside directory, nested. */
        _cleanup_free_ char *t2 = new_dir("target");
        const TarEntry e2[] = { TD("d"), TL("d/link", out), TF("d/link/evil", "evil\n") };
        assert_refused(e2, 3, t2, "image entry 'd/link/evil' would be written through the symlink 'd/link'");
        assert_false(exists(evil));

        /* A relative symlink that leads out. */
        _cleanup_free_ char *t3 = new_dir("target"), *up = strprintf("../%s", strrchr(out, '/') + 1);
        const TarEntry e3[] = { TL("rel", up), TF("rel/evil", "evil\n") };
        assert_refused(e3, 2, t3, "through the symlink 'rel'");
        assert_false(exists(evil));

        /* A hard link through a symlink. */
        _cleanup_free_ char *t4 = new_dir("target"), *h = strprintf("%s/h", t4);
        const TarEntry e4[] = { TL("link", out), TH("h", "link/secret") };
        assert_refused(e4, 2, t4, "image entry 'h' is a hard link through the symlink 'link'");
        assert_false(exists(h));
        assert_int_equal(stat(secret, &st), 0);
        assert_int_equal(st.st_nlink, 1);

        /* A symlink as the root itself. */
        _cleanup_free_ char *t5 = new_dir("target");
        const TarEntry e5[] = { TL(".", out) };
        assert_refused(e5, 1, t5, "image entry '.' would replace the target root");
        assert_int_equal(lstat(t5, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
}

static void test_symlink_replaces_directory(void **state) {
        /* A directory, later replaced by a symlink to the outside: the
         * directory's deferred mode and time must not land on the outside. */
        _cleanup_free_ char *t = new_dir("target"), *out = new_dir("outside"), *err = NULL;
        _cleanup_free_ char *p = strprintf("%s/replace.tar.zst", fx->work), *link = strprintf("%s/d", t);
        struct stat st;
        char buf[PATH_MAX];

        assert_int_equal(chmod(out, 0751), 0);
        set_mtime(out, 1000000000);
        const TarEntry e[] = { { .path = "d", .type = 'd', .mode = 0700 }, TL("d", out) };
        write_tar(p, e, ELEMENTSOF(e), true);
        assert_int_equal(install_path(p, NULL, t, NULL, &err), 0);
        assert_null(err);
        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        ssize_t n = readlink(link, buf, sizeof buf - 1);
        assert_true(n > 0);
        buf[n] = 0;
        assert_string_equal(buf, out);
        assert_int_equal(stat(out, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0751);
        assert_int_equal(st.st_mtime, 1000000000);
}

static void test_symlinks_anywhere(void **state) {
        /* Symlinks may point anywhere; they resolve in the installed system. */
        _cleanup_free_ char *t = new_dir("target"), *p = strprintf("%s/links.tar.zst", fx->work), *err = NULL;
        _cleanup_free_ char *l1 = strprintf("%s/up", t), *l2 = strprintf("%s/etc/passwd-link", t);
        const TarEntry e[] = {
                TL("up", "../../../../.."),
                TD("etc"),
                TL("etc/passwd-link", "/etc/passwd"),
                TL("etc/passwd-link", "/etc/shadow"), /* replaces the first */
                TF("etc/plain", "plain\n"),
        };
        char buf[PATH_MAX];

        write_tar(p, e, ELEMENTSOF(e), true);
        assert_int_equal(install_path(p, NULL, t, NULL, &err), 0);
        assert_null(err);
        ssize_t n = readlink(l1, buf, sizeof buf - 1);
        assert_true(n > 0);
        buf[n] = 0;
        assert_string_equal(buf, "../../../../..");
        n = readlink(l2, buf, sizeof buf - 1);
        assert_true(n > 0);
        buf[n] = 0;
        assert_string_equal(buf, "/etc/shadow");
}

static void test_control_characters_escaped(void **state) {
        _cleanup_free_ char *t = new_dir("target");
        const TarEntry e[] = { TF("../\x1b[2Jevil'", "x") };
        assert_refused(e, 1, t, "image entry '../\\x1b[2Jevil\\x27' escapes the target root");
}

static void test_refuse_early_large(void **state) {
        /* The refusal comes first and 48 MiB follow: the download thread must
         * stop, not block on a reader that is gone. */
        _cleanup_free_ char *t = new_dir("target"), *p = strprintf("%s/early.tar", fx->work), *err = NULL;
        const TarEntry e[] = { TF("../evil", "x"), { .path = "big", .type = 'f', .fill = 48 * 1024 * 1024 } };
        ImageResult res;

        write_tar(p, e, ELEMENTSOF(e), false);
        assert_int_equal(install_path(p, NULL, t, &res, &err), -EPERM);
        assert_non_null(strstr(err, "'../evil' escapes"));
        assert_true(res.bytes_downloaded < file_size(p));
        assert_string_equal(res.sha256, "");
}

/* The group entry of an access ACL, from the raw xattr. */
static long acl_group_id(const char *path) {
        uint8_t buf[256];
        ssize_t n = lgetxattr(path, "system.posix_acl_access", buf, sizeof buf);
        for (ssize_t i = 4; i + 8 <= n; i += 8)
                if (buf[i] == 0x08)
                        return (long) (buf[i + 4] | buf[i + 5] << 8 | buf[i + 6] << 16 | (uint32_t) buf[i + 7] << 24);
        return -1;
}

static void test_acl_names_from_image(void **state) {
        /* Names in ACLs resolve in the image's own /etc/group, for files
         * (set at once) and directories (set at the end). */
        _cleanup_free_ char *t = new_dir("target"), *p = strprintf("%s/acl-names.tar.zst", fx->work), *err = NULL;
        _cleanup_free_ char *d = strprintf("%s/d", t), *f = strprintf("%s/etc/f", t);
        const TarEntry e[] = {
                TD("etc"),
                TF("etc/group", "root:x:0:\nstaff:x:50:\nimage-only:x:4242:\n"),
                DIR_ACL("d", "image-only"),
                FILE_ACL("etc/f", "staff"),
        };

        write_tar(p, e, ELEMENTSOF(e), true);
        assert_int_equal(install_path(p, NULL, t, NULL, &err), 0);
        assert_int_equal(acl_group_id(d), 4242);
        assert_int_equal(acl_group_id(f), 50);
}

static void test_acl_unknown_name(void **state) {
        _cleanup_free_ char *out = new_dir("outside"), *outgroup = strprintf("%s/group", out);
        const char *msg = "has an ACL for group 'nosuchgroup', which is not in its /etc/group";
        struct {
                TarEntry e[3];
                size_t n;
        } cases[] = {
                /* A directory: libarchive would drop its ACL without a word. */
                { { TD("etc"), TF("etc/group", "root:x:0:\n"), DIR_ACL("d", "nosuchgroup") }, 3 },
                { { TD("etc"), TF("etc/group", "root:x:0:\n"), FILE_ACL("f", "nosuchgroup") }, 3 },
                /* No /etc/group at all. */
                { { FILE_ACL("f", "nosuchgroup") }, 1 },
                /* /etc/group through a symlink that leads out of the image. */
                { { TL("etc", out), DIR_ACL("d", "nosuchgroup") }, 2 },
        };

        write_file(outgroup, "nosuchgroup:x:77:\n", 18, 0644);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *t = new_dir("target"), *p = strprintf("%s/acl-%zu.tar.zst", fx->work, i);
                _cleanup_free_ char *err = NULL;
                int r;

                write_tar(p, cases[i].e, cases[i].n, true);
                r = install_path(p, NULL, t, NULL, &err);
                if (r != -ESRCH)
                        fail_msg("case %zu: expected -ESRCH, got %d (%s)", i, r, err ? err : "no message");
                if (!strstr(err, msg))
                        fail_msg("case %zu: '%s' lacks '%s'", i, err, msg);
        }
}

/* ---- broken archives ----------------------------------------------------------- */

static void assert_broken(const char *path, const char *format, int expected, const char *msg) {
        _cleanup_free_ char *t = new_dir("target"), *err = NULL;
        int r = install_path(path, format, t, NULL, &err);
        if (r != expected)
                fail_msg("%s: expected %d, got %d (%s)", path, expected, r, err ? err : "no message");
        assert_non_null(err);
        if (msg && !strstr(err, msg))
                fail_msg("'%s' lacks '%s'", err, msg);
}

static void test_truncated(void **state) {
        const char *images[] = { fx->zst, fx->gz, fx->xz, fx->tar };
        for (size_t i = 0; i < ELEMENTSOF(images); i++) {
                const char *suffix = strstr(images[i], ".tar");
                _cleanup_free_ char *p = strprintf("%s/truncated-%zu%s", fx->work, i, suffix);
                run("head -c %" PRIu64 " %s > %s", file_size(images[i]) / 2, images[i], p);
                assert_broken(p, NULL, -EILSEQ, "Failed to read");
        }
}

static void test_corrupt(void **state) {
        const char *images[] = { fx->zst, fx->gz, fx->xz };
        for (size_t i = 0; i < ELEMENTSOF(images); i++) {
                const char *suffix = strstr(images[i], ".tar");
                _cleanup_free_ char *p = strprintf("%s/corrupt-%zu%s", fx->work, i, suffix);
                run("cp %s %s && printf 'XXXXXXXXXXXXXXXX' | dd of=%s bs=1 seek=%" PRIu64
                    " conv=notrunc status=none",
                    images[i], p, p, file_size(images[i]) / 3);
                assert_broken(p, NULL, -EILSEQ, "image");
        }
}

static void test_not_an_archive(void **state) {
        _cleanup_free_ char *empty = strprintf("%s/empty.tar.zst", fx->work),
                            *noise = strprintf("%s/noise.tar.zst", fx->work),
                            *text = strprintf("%s/text.tar", fx->work);
        write_file(empty, "", 0, 0644);
        assert_broken(empty, NULL, -EILSEQ, "Failed to read image");
        /* 32 MiB of noise: the reader gives up at once, the writer must stop. */
        run("head -c 33554432 /dev/urandom > %s", noise);
        assert_broken(noise, NULL, -EILSEQ, "(format tar.zst)");
        run("seq 1 100000 > %s", text);
        assert_broken(text, NULL, -EILSEQ, "Failed to read image");
        /* A gzip image announced as zstd. */
        assert_broken(fx->gz, "tar.zst", -EILSEQ, "(format tar.zst)");
}

static void test_missing_file(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *p = strprintf("%s/missing.tar.zst", fx->work);
        _cleanup_free_ char *url = file_url(p), *err = NULL;
        ImageSource src = { .url = url, .sha256 = ZERO_SHA };
        ImageResult res;

        assert_int_equal(image_install(&src, t, &res, &err), -ENOENT);
        assert_non_null(err);
        assert_non_null(strstr(err, url));
        assert_int_equal(res.bytes_downloaded, 0);
}

/* ---- HTTP ------------------------------------------------------------------------ */

typedef struct Server {
        int fd;
        uint16_t port;
        const char *file;       /* the body */
        int status;             /* 200 or 404 */
        uint64_t send_max;      /* send at most this much of the body; 0: all */
        uint64_t claim;         /* Content-Length to announce; 0: the real one */
        char request[4096];
        pthread_t thread;
} Server;

static void send_all(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k <= 0)
                        return;
                p = (const char *) p + k;
                n -= (size_t) k;
        }
}

static void *server_thread(void *userdata) {
        Server *s = userdata;
        size_t got = 0;
        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

        if (c < 0)
                return NULL;
        while (got < sizeof s->request - 1 && !strstr(s->request, "\r\n\r\n")) {
                ssize_t k = recv(c, s->request + got, sizeof s->request - 1 - got, 0);
                if (k <= 0)
                        break;
                got += (size_t) k;
                s->request[got] = 0;
        }
        if (s->status != 200) {
                const char *body = "<html><body>Nothing here</body></html>\n";
                char head[256];
                snprintf(head, sizeof head, "HTTP/1.1 %d Not Found\r\nContent-Type: text/html\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n", s->status, strlen(body));
                send_all(c, head, strlen(head));
                send_all(c, body, strlen(body));
        } else {
                uint64_t size = file_size(s->file), left = s->send_max ? MIN(s->send_max, size) : size;
                char head[256], buf[65536];
                int fd = open(s->file, O_RDONLY | O_CLOEXEC);
                snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n", s->claim ? s->claim : size);
                send_all(c, head, strlen(head));
                while (fd >= 0 && left > 0) {
                        ssize_t k = read(fd, buf, MIN(sizeof buf, left));
                        if (k <= 0)
                                break;
                        send_all(c, buf, (size_t) k);
                        left -= (uint64_t) k;
                }
                if (fd >= 0)
                        close(fd);
        }
        close(c);
        return NULL;
}

static void server_start(Server *s) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;

        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->fd >= 0);
        assert_int_equal(bind(s->fd, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(listen(s->fd, 4), 0);
        assert_int_equal(getsockname(s->fd, (struct sockaddr *) &a, &len), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&s->thread, NULL, server_thread, s), 0);
}

static void server_stop(Server *s) {
        /* Wakes accept() if nobody came. */
        shutdown(s->fd, SHUT_RDWR);
        pthread_join(s->thread, NULL);
        close(s->fd);
}

static void test_http(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *err = NULL, *url = NULL;
        Server s = { .file = fx->zst, .status = 200 };
        ImageResult res;
        char sha[65];

        sha256_file(fx->zst, sha);
        server_start(&s);
        url = strprintf("http://127.0.0.1:%u/images/img.tar.zst?token=abc", s.port);
        ImageSource src = { .url = url, .sha256 = sha };
        int r = image_install(&src, t, &res, &err);
        server_stop(&s);
        if (r < 0)
                fail_msg("%s", err);
        assert_non_null(strstr(s.request, "GET /images/img.tar.zst?token=abc HTTP/1.1"));
        check_tree(t);
        assert_int_equal(res.bytes_downloaded, file_size(fx->zst));
}

static void test_http_credentials_redacted(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *err = NULL, *url = NULL, *safe = NULL;
        Server s = { .file = fx->zst, .status = 200 };

        server_start(&s);
        url = strprintf("http://user:secret-password@127.0.0.1:%u/img.tar.zst?token=secret-token#frag", s.port);
        ImageSource src = { .url = url, .sha256 = ZERO_SHA };
        int r = image_install(&src, t, NULL, &err);
        server_stop(&s);
        assert_int_equal(r, -EBADMSG);
        assert_non_null(strstr(s.request, "Authorization: Basic"));
        safe = strprintf("http://127.0.0.1:%u/img.tar.zst", s.port);
        assert_non_null(strstr(err, safe));
        assert_null(strstr(err, "secret"));
        assert_null(strstr(err, "user"));
        assert_null(strstr(err, "frag"));
}

static void test_http_404(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *err = NULL, *url = NULL;
        Server s = { .file = fx->zst, .status = 404 };

        server_start(&s);
        url = strprintf("http://u:secret@127.0.0.1:%u/missing.tar.zst?k=secret", s.port);
        ImageSource src = { .url = url, .sha256 = ZERO_SHA };
        int r = image_install(&src, t, NULL, &err);
        server_stop(&s);
        assert_int_equal(r, -ENOENT);
        assert_non_null(strstr(err, "HTTP 404"));
        assert_null(strstr(err, "secret"));
}

static void test_http_connection_lost(void **state) {
        /* The server promises more than it sends: curl's error is the one
         * reported, whether the archive was complete or cut off. */
        const uint64_t size = file_size(fx->zst);
        const uint64_t cut[] = { 0, size / 2 };

        /* One attempt: resuming is tested through a fault proxy
         * (tests/cli/fetch-faults.sh); this server answers once. */
        fetch_set_policy(&(FetchPolicy) { .attempts = 1 });
        for (size_t i = 0; i < ELEMENTSOF(cut); i++) {
                _cleanup_free_ char *t = new_dir("target"), *err = NULL, *url = NULL;
                Server s = { .file = fx->zst, .status = 200, .send_max = cut[i], .claim = size * 2 };
                char sha[65];

                sha256_file(fx->zst, sha);
                server_start(&s);
                url = strprintf("http://127.0.0.1:%u/img.tar.zst", s.port);
                ImageSource src = { .url = url, .sha256 = sha };
                int r = image_install(&src, t, NULL, &err);
                server_stop(&s);
                if (r != -EIO)
                        fail_msg("cut %" PRIu64 ": expected -EIO, got %d (%s)", cut[i], r, err);
                assert_non_null(strstr(err, url));
                assert_non_null(strstr(err, "transfer closed"));
                assert_non_null(strstr(err, "gave up after 1 attempt"));
        }
        fetch_set_policy(NULL);
}

static void test_http_connection_refused(void **state) {
        _cleanup_free_ char *t = new_dir("target"), *err = NULL, *url = NULL;
        Server s = {};

        /* A port that was free a moment ago. */
        server_start(&s);
        server_stop(&s);
        url = strprintf("http://127.0.0.1:%u/img.tar.zst", s.port);
        ImageSource src = { .url = url, .sha256 = ZERO_SHA };
        fetch_set_policy(&(FetchPolicy) { .attempts = 1 });
        assert_int_equal(image_install(&src, t, NULL, &err), -ECONNREFUSED);
        fetch_set_policy(NULL);
        assert_non_null(strstr(err, url));
}

/* ---- memory (IMAGE_SLOW_TESTS=1) ---------------------------------------------------- */

static long maxrss_kib(void) {
        struct rusage ru;
        assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
        return ru.ru_maxrss;
}

static void test_memory_flat(void **state) {
        const unsigned files = 25;
        const size_t file_bytes = 8 * 1024 * 1024;
        _cleanup_free_ char *src = NULL, *img = NULL, *t = NULL, *err = NULL, *warm = NULL;
        ImageResult res;
        uint64_t x = 0x9e3779b97f4a7c15ull;
        static uint64_t buf[131072];
        long before, after;

        if (!getenv("IMAGE_SLOW_TESTS") || !streq(getenv("IMAGE_SLOW_TESTS"), "1"))
                skip();

        src = new_dir("big-src");
        for (unsigned i = 0; i < files; i++) {
                _cleanup_free_ char *p = strprintf("%s/random-%02u", src, i);
                int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                for (size_t done = 0; done < file_bytes; done += sizeof buf) {
                        for (size_t j = 0; j < ELEMENTSOF(buf); j++) {
                                x ^= x << 13;
                                x ^= x >> 7;
                                x ^= x << 17;
                                buf[j] = x;
                        }
                        assert_int_equal(write(fd, buf, sizeof buf), (ssize_t) sizeof buf);
                }
                close(fd);
        }
        img = strprintf("%s/big.tar.zst", fx->work);
        run("tar -C %s -cf - . | zstd -q -T0 -3 -o %s", src, img);

        /* Warm up: libraries loaded, decompressor allocated. */
        warm = new_dir("target");
        assert_int_equal(install_path(fx->zst, NULL, warm, NULL, &err), 0);

        before = maxrss_kib();
        t = new_dir("target");
        assert_int_equal(install_path(img, NULL, t, &res, &err), 0);
        after = maxrss_kib();

        print_message("image %" PRIu64 " bytes (%" PRIu64 " extracted) in %.2fs; peak RSS before %ld KiB, "
                      "after %ld KiB, growth %ld KiB\n",
                      res.bytes_downloaded, res.bytes_extracted, res.seconds, before, after, after - before);
        assert_int_equal(res.bytes_extracted, (uint64_t) files * file_bytes);
        assert_true(res.bytes_downloaded > (uint64_t) files * file_bytes);
        /* Bounded buffers only: nowhere near the 200 MiB of the image. */
        assert_true(after - before < 32 * 1024);
        rm_rf(t);
        rm_rf(src);
        unlink(img);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_formats),
                cmocka_unit_test(test_entry_path_check),
                cmocka_unit_test(test_extract_zst),
                cmocka_unit_test(test_extract_gz),
                cmocka_unit_test(test_extract_xz),
                cmocka_unit_test(test_extract_tar),
                cmocka_unit_test(test_extract_acl_without_xattrs),
                cmocka_unit_test(test_acl_names_from_image),
                cmocka_unit_test(test_acl_unknown_name),
                cmocka_unit_test(test_extract_auto),
                cmocka_unit_test(test_target_root_is_symlink),
                cmocka_unit_test(test_trailing_data),
                cmocka_unit_test(test_wrong_sha256),
                cmocka_unit_test(test_skip_checksum),
                cmocka_unit_test(test_bad_arguments),
                cmocka_unit_test(test_refuse_absolute),
                cmocka_unit_test(test_refuse_dotdot),
                cmocka_unit_test(test_refuse_hardlink_outside),
                cmocka_unit_test(test_refuse_through_symlink),
                cmocka_unit_test(test_symlink_replaces_directory),
                cmocka_unit_test(test_symlinks_anywhere),
                cmocka_unit_test(test_control_characters_escaped),
                cmocka_unit_test(test_refuse_early_large),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_corrupt),
                cmocka_unit_test(test_not_an_archive),
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_http),
                cmocka_unit_test(test_http_credentials_redacted),
                cmocka_unit_test(test_http_404),
                cmocka_unit_test(test_http_connection_lost),
                cmocka_unit_test(test_http_connection_refused),
                cmocka_unit_test(test_memory_flat),
        };
        if (!have_tool("tar") || !have_tool("zstd") || !have_tool("gzip") || !have_tool("xz")) {
                fprintf(stderr, "test_image needs tar, zstd, gzip and xz\n");
                return 1;
        }
        return cmocka_run_group_tests(tests, setup_fixture, teardown_fixture);
}
