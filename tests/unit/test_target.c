/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing the installed system's configuration into a target root, compared
 * with expected trees (after systemd's test-fstab-generator: input ->
 * expected files).
 *
 * Every case copies tests/data/target/base/ (a minimal Debian 12 root: the
 * account databases of a real debootstrap, /etc/skel, SSH host keys, unit
 * files, bin -> usr/bin) to a temporary directory, loads
 * tests/data/target/CASE/profile.yaml, runs target_configure() and compares
 * the result with tests/data/target/CASE/:
 *
 *   expected.manifest  every entry of the tree: "PATH TYPE MODE UID GID [LINK]"
 *   expected/PATH      the content of every file that is new or differs from
 *                      base/ (files not there must equal base/PATH)
 *
 * TARGET_TEST_REGENERATE=1 writes those from the current output instead; read
 * the diff before committing it. TARGET_TEST_KEEP=1 keeps the temporary
 * roots. The tree cases need root (chown); they are skipped otherwise. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "tree-snapshot.h"

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "profile/profile.h"
#include "target/target-fs.h"
#include "target/target.h"
#include "ydoc/ydoc.h"

#define SOURCE_DATE_EPOCH "1700000000" /* 2023-11-14: lastchg 19675 */

static const char *data_dir(void) {
        const char *d = getenv("TARGET_TEST_DATA");
        return d ? d : "tests/data/target";
}

static bool regenerate(void) {
        const char *s = getenv("TARGET_TEST_REGENERATE");
        return s && streq(s, "1");
}

/* ---- tree helpers --------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static void rm_rf(const char *path) {
        (void) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Every temporary directory, removed by the group teardown even when a test
 * fails half-way (TARGET_TEST_KEEP=1 keeps them for a look). */
static char **tmpdirs;

static char *make_tmpdir(void) {
        char *d = strdup("/tmp/test-target-XXXXXX");
        assert_non_null(d);
        assert_non_null(mkdtemp(d));
        assert_int_equal(strv_extend(&tmpdirs, d), 0);
        return d;
}

static int remove_tmpdirs(void **state) {
        const char *keep = getenv("TARGET_TEST_KEEP");

        for (size_t i = 0; tmpdirs && tmpdirs[i]; i++)
                if (keep && streq(keep, "1"))
                        fprintf(stderr, "kept %s\n", tmpdirs[i]);
                else
                        rm_rf(tmpdirs[i]);
        strv_free(tmpdirs);
        tmpdirs = NULL;
        return 0;
}

static void write_string(const char *path, const char *s) {
        _cleanup_free_ char *dir = strdup(path);
        assert_non_null(dir);
        *strrchr(dir, '/') = 0;
        assert_int_equal(mkdir_p(dir, 0755), 0);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(s, f);
        assert_int_equal(fclose(f), 0);
}

static char *read_string(const char *path) {
        char *s = NULL;
        int r = read_full_file(path, &s, NULL);
        if (r < 0)
                fail_msg("cannot read %s: %s", path, strerror(-r));
        return s;
}

/* Copy base/ to a new root with the modes and owners of a real image (git
 * keeps neither). */
static const char *copy_src, *copy_dst;

static int copy_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        const char *rel = path + strlen(copy_src);
        _cleanup_free_ char *dst = strprintf("%s%s", copy_dst, rel);

        if (!dst)
                return -1;
        if (S_ISDIR(st->st_mode)) {
                if (mkdir(dst, 0755) < 0 && errno != EEXIST)
                        return -1;
                return chmod(dst, 0755);
        }
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                if (n < 0)
                        return -1;
                target[n] = 0;
                return symlink(target, dst);
        }
        _cleanup_free_ char *data = NULL;
        size_t size;
        if (read_full_file(path, &data, &size) < 0)
                return -1;
        return write_file_atomic(dst, data, size, st->st_mode & 0111 ? 0755 : 0644);
}

static int chown_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return lchown(path, 0, 0);
}

static char *make_root(void) {
        _cleanup_free_ char *base = strprintf("%s/base", data_dir());
        char *root = make_tmpdir();
        static const struct {
                const char *path;
                mode_t mode;
                gid_t gid;
        } fix[] = {
                { "etc/shadow", 0640, 42 },
                { "etc/gshadow", 0640, 42 },
                { "etc/machine-id", 0444, 0 },
                { "etc/sudoers.d/README", 0440, 0 },
                { "etc/ssh/ssh_host_ed25519_key", 0600, 0 },
                { "etc/ssh/ssh_host_rsa_key", 0600, 0 },
                { "root", 0700, 0 },
        };

        copy_src = base;
        copy_dst = root;
        assert_int_equal(nftw(base, copy_entry, 16, FTW_PHYS), 0);
        if (geteuid() == 0)
                assert_int_equal(nftw(root, chown_entry, 16, FTW_PHYS), 0);
        for (size_t i = 0; i < ELEMENTSOF(fix); i++) {
                _cleanup_free_ char *p = strprintf("%s/%s", root, fix[i].path);
                assert_int_equal(chmod(p, fix[i].mode), 0);
                if (geteuid() == 0)
                        assert_int_equal(chown(p, 0, fix[i].gid), 0);
        }
        return root;
}

/* One line per entry below root, sorted: "PATH TYPE MODE UID GID [LINK]". */
static char ***manifest_out;
static const char *manifest_root;

static int manifest_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        const char *rel = path + strlen(manifest_root);
        char link[PATH_MAX] = "";
        char kind;

        if (!*rel)
                return 0; /* the root itself */
        rel++;
        if (S_ISDIR(st->st_mode))
                kind = 'd';
        else if (S_ISREG(st->st_mode))
                kind = 'f';
        else if (S_ISLNK(st->st_mode)) {
                ssize_t n = readlink(path, link, sizeof(link) - 1);
                if (n < 0)
                        return -1;
                link[n] = 0;
                kind = 'l';
        } else
                kind = '?';
        char *line = strprintf("%s %c %04o %u %u%s%s", rel, kind, (unsigned) (st->st_mode & 07777),
                               (unsigned) st->st_uid, (unsigned) st->st_gid, *link ? " " : "", link);
        return line && strv_push(manifest_out, line) >= 0 ? 0 : -1;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char **manifest(const char *root) {
        char **l = NULL;

        manifest_out = &l;
        manifest_root = root;
        assert_int_equal(nftw(root, manifest_entry, 16, FTW_PHYS), 0);
        qsort(l, strv_length(l), sizeof(char *), cmp_str);
        return l;
}

static char *join_lines(char **l) {
        StrBuf b = {};
        for (size_t i = 0; l && l[i]; i++) {
                assert_int_equal(strbuf_append(&b, l[i]), 0);
                assert_int_equal(strbuf_append(&b, "\n"), 0);
        }
        return strbuf_steal(&b);
}

static bool file_equals(const char *path, const char *data, size_t size) {
        _cleanup_free_ char *other = NULL;
        size_t n;
        return read_full_file(path, &other, &n) >= 0 && n == size && memcmp(other, data, size) == 0;
}

static void show_diff(const char *expected, const char *actual) {
        _cleanup_free_ char *cmd = strprintf("diff -u '%s' '%s' >&2", expected, actual);
        if (cmd && system(cmd) < 0)
                fprintf(stderr, "(cannot run diff)\n");
}

/* Compare (or, with TARGET_TEST_REGENERATE=1, write) the expected tree. */
static void check_tree(const char *root, const char *case_dir) {
        _cleanup_free_ char *base = strprintf("%s/base", data_dir());
        _cleanup_free_ char *exp_dir = strprintf("%s/expected", case_dir);
        _cleanup_free_ char *exp_manifest = strprintf("%s/expected.manifest", case_dir);
        _cleanup_strv_free_ char **entries = manifest(root);
        _cleanup_free_ char *actual_manifest = join_lines(entries);
        unsigned bad = 0;

        if (regenerate()) {
                rm_rf(exp_dir);
                write_string(exp_manifest, actual_manifest);
        } else {
                _cleanup_free_ char *want = read_string(exp_manifest);
                if (!streq(want, actual_manifest)) {
                        _cleanup_free_ char *tmp = strprintf("%s.manifest", root);
                        write_string(tmp, actual_manifest);
                        fprintf(stderr, "%s: the tree differs from expected.manifest:\n", case_dir);
                        show_diff(exp_manifest, tmp);
                        unlink(tmp);
                        bad++;
                }
        }

        for (char **e = entries; *e; e++) {
                _cleanup_free_ char *rel = strndup(*e, strcspn(*e, " "));
                _cleanup_free_ char *path = strprintf("%s/%s", root, rel);
                _cleanup_free_ char *in_base = strprintf("%s/%s", base, rel);
                _cleanup_free_ char *in_exp = strprintf("%s/%s", exp_dir, rel);
                _cleanup_free_ char *data = NULL;
                struct stat st;
                size_t size;

                if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                assert_int_equal(read_full_file(path, &data, &size), 0);

                if (regenerate()) {
                        struct stat bst;
                        if (lstat(in_base, &bst) >= 0 && S_ISREG(bst.st_mode) && file_equals(in_base, data, size))
                                continue;
                        _cleanup_free_ char *dir = strdup(in_exp);
                        *strrchr(dir, '/') = 0;
                        assert_int_equal(mkdir_p(dir, 0755), 0);
                        assert_int_equal(write_file_atomic(in_exp, data, size, 0644), 0);
                        continue;
                }

                if (access(in_exp, F_OK) >= 0) {
                        if (!file_equals(in_exp, data, size)) {
                                fprintf(stderr, "%s: %s differs from expected/%s:\n", case_dir, rel, rel);
                                show_diff(in_exp, path);
                                bad++;
                        }
                } else if (!file_equals(in_base, data, size)) {
                        fprintf(stderr, "%s: %s is new or changed, but there is no expected/%s\n", case_dir, rel,
                                rel);
                        bad++;
                }
        }
        if (bad > 0)
                fail_msg("%s: %u differences (TARGET_TEST_REGENERATE=1 rewrites the expected files)", case_dir,
                         bad);
}

/* pwck/grpck on the result. Missing home directories and shells of the
 * image's system accounts are normal in a test root (and in the real image);
 * anything else, or anything about the profile's users, is a failure. */
static void run_checker(const char *tool, const char *root, const Profile *p) {
        _cleanup_free_ char *path = strprintf("/usr/sbin/%s", tool);
        _cleanup_free_ char *cmd = strprintf("%s -r -R '%s' 2>&1", path, root);
        char line[1024];
        FILE *f;
        int status;

        if (access(path, X_OK) < 0 || geteuid() != 0)
                return;
        f = popen(cmd, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                bool ok = false;
                char who[64];

                line[strcspn(line, "\n")] = 0;
                if (streq(line, "pwck: no changes") || streq(line, "grpck: no changes"))
                        continue;
                if (sscanf(line, "user '%63[^']': ", who) == 1 &&
                    (strstr(line, "' does not exist") && (strstr(line, ": directory '") || strstr(line, ": program '")))) {
                        ok = true;
                        for (size_t i = 0; i < p->n_users; i++)
                                if (streq(who, p->users[i].name))
                                        ok = false;
                }
                if (!ok) {
                        pclose(f);
                        fail_msg("%s: %s", tool, line);
                }
        }
        status = pclose(f);
        assert_true(WIFEXITED(status));
        /* 2 = "one or more bad password entries", which the filtered lines are. */
        assert_true(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 2);
}

/* ---- the cases -------------------------------------------------------------------------- */

typedef struct Case {
        const char *name;
        const char *boot_mac;
        bool twice; /* run target_configure twice: the result must not change */
        bool netplan; /* the image has /usr/sbin/netplan */
        bool no_cloud_init; /* remove /usr/bin/cloud-init from the root first */
} Case;

static const Case cases[] = {
        { "dhcp-by-mac", "52:54:00:12:34:56", false, false, false },
        { "static", "52:54:00:aa:bb:01", false, false, false },
        { "no-network", "52:54:00:DE:AD:01", false, false, false },
        { "no-network-no-mac", NULL, false, false, false },
        { "users", NULL, true, false, false },
        { "root-keys", NULL, false, false, false },
        { "fstab", NULL, false, false, false },
        { "vlans", NULL, false, false, false },
        { "vlans-netplan", NULL, true, true, false },
        { "bond-bridge", NULL, false, false, false },
        { "sysconf", NULL, true, false, true },
        { "sysconf-cloud-init", NULL, false, false, false },
};

static Profile *load_profile(const char *file) {
        ProfileErrors errors = {};
        Profile *p = NULL;
        int r;

        r = profile_load_file(file, &p, &errors);
        if (r < 0) {
                profile_errors_print(stderr, &errors);
                profile_errors_done(&errors);
                fail_msg("cannot load %s: %s", file, strerror(-r));
        }
        profile_errors_done(&errors);
        return p;
}

/* Mounts as the installer would pass them: the profile's filesystems with
 * the UUIDs mkfs chose (made up here, one per partition). */
typedef struct Mounts {
        TargetMount *v;
        size_t n;
        char (*uuids)[48];
} Mounts;

static void mounts_from_profile(const Profile *p, Mounts *m) {
        m->v = new0(TargetMount, p->disk.n_partitions + 1);
        m->uuids = calloc(p->disk.n_partitions + 1, sizeof(*m->uuids));
        assert_non_null(m->v);
        assert_non_null(m->uuids);
        for (size_t i = 0; i < p->disk.n_partitions; i++) {
                const ProfilePartition *pp = &p->disk.partitions[i];
                if (pp->fs == FS_NONE)
                        continue;
                size_t k = m->n++;

                if (pp->fs == FS_VFAT)
                        snprintf(m->uuids[k], sizeof(m->uuids[k]), "ABCD-%04zX", i + 1);
                else
                        snprintf(m->uuids[k], sizeof(m->uuids[k]), "00000000-0000-4000-8000-%012zx", i + 1);
                m->v[k] = (TargetMount) {
                        .mount = pp->mount, .fs = pp->fs, .fs_uuid = m->uuids[k], .options = pp->mount_options,
                };
        }
}

static void mounts_done(Mounts *m) {
        free(m->v);
        free(m->uuids);
}

static void test_case(void **state) {
        const Case *c = *state;
        _cleanup_free_ char *case_dir = strprintf("%s/%s", data_dir(), c->name);
        _cleanup_free_ char *file = strprintf("%s/profile.yaml", case_dir);
        _cleanup_profile_ Profile *p = NULL;
        _cleanup_free_ char *root = NULL, *iid = NULL;
        Mounts m = {};

        if (geteuid() != 0)
                skip(); /* the tree has files owned by other users */

        p = load_profile(file);
        mounts_from_profile(p, &m);
        iid = strprintf("iid-%s-test", p->hostname);
        TargetConfig cfg = {
                .profile = p, .mounts = m.v, .n_mounts = m.n, .boot_mac = c->boot_mac, .instance_id = iid,
        };

        root = make_root();
        if (c->netplan) {
                _cleanup_free_ char *np = strprintf("%s/usr/sbin/netplan", root);
                assert_int_equal(mkdir_p(np, 0755), 0);
                assert_int_equal(rmdir(np), 0);
                write_string(np, "#!/bin/sh\n");
                assert_int_equal(chmod(np, 0755), 0);
        }
        if (c->no_cloud_init) {
                _cleanup_free_ char *ci = strprintf("%s/usr/bin/cloud-init", root);
                assert_int_equal(unlink(ci), 0);
        }
        assert_int_equal(target_configure(root, &cfg), 0);
        assert_int_equal(target_write_files(root, p), 0);
        if (c->twice) {
                assert_int_equal(target_configure(root, &cfg), 0);
                assert_int_equal(target_write_files(root, p), 0);
        }
        check_tree(root, case_dir);
        run_checker("pwck", root, p);
        run_checker("grpck", root, p);

        mounts_done(&m);
}

/* ---- safety ------------------------------------------------------------------------------- */

/* A symlink in the image must not lead a write out of the root, whether it
 * points at an absolute path (resolved inside the root), climbs with "..",
 * or loops. */
static void test_symlinks_stay_in_root(void **state) {
        if (geteuid() != 0)
                skip(); /* files owned by root */
        _cleanup_free_ char *root = make_root();
        _cleanup_free_ char *outside = make_tmpdir();
        _cleanup_free_ char *victim = strprintf("%s/victim", outside);
        _cleanup_free_ char *rel = NULL, *s1 = NULL, *s2 = NULL;
        char *p = NULL;
        struct stat st;

        write_string(victim, "untouched\n");

        /* /etc/hostname -> /tmp/.../victim (the installer's own file). */
        p = strprintf("%s/etc/hostname", root);
        assert_int_equal(symlink(victim, p), 0);
        assert_int_equal(target_write_hostname(root, "safe01"), 0);
        s1 = read_string(victim);
        assert_string_equal(s1, "untouched\n");
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        s2 = read_string(p);
        assert_string_equal(s2, "safe01\n");
        free(p);

        /* /etc/systemd -> ../../../../../../../..OUTSIDE: ".." stops at the
         * root, so the files land in ROOT/OUTSIDE/network, not in OUTSIDE. */
        rel = strprintf("../../../../../../../../../..%s", outside);
        p = strprintf("%s/etc/systemd", root);
        assert_int_equal(symlink(rel, p), 0);
        Profile prof = { .hostname = (char *) "safe01" };
        assert_int_equal(target_write_network(root, &prof, "52:54:00:00:00:01"), 0);
        free(p);
        p = strprintf("%s/network", outside);
        assert_int_equal(access(p, F_OK), -1);
        free(p);
        p = strprintf("%s%s/network/10-installer-default.network", root, outside);
        assert_int_equal(access(p, F_OK), 0);
        free(p);

        /* /etc/sudoers.d -> /etc/sudoers.d: a loop, refused. */
        p = strprintf("%s/etc/sudoers.d", root);
        rm_rf(p);
        assert_int_equal(symlink("/etc/sudoers.d", p), 0);
        ProfileUser u = {
                .name = (char *) "eve", .password_hash = (char *) "!", .sudo = (char *) "ALL=(ALL) ALL",
        };
        Profile prof2 = { .users = &u, .n_users = 1 };
        assert_int_equal(target_write_users(root, &prof2), -ELOOP);
        free(p);

        /* A home that is a symlink to /etc: refused, nothing chowned. */
        _cleanup_free_ char *root2 = make_root();
        p = strprintf("%s/home", root2);
        assert_int_equal(mkdir(p, 0755), 0);
        free(p);
        p = strprintf("%s/home/eve", root2);
        assert_int_equal(symlink("/etc", p), 0);
        u.sudo = NULL;
        assert_int_equal(target_write_users(root2, &prof2), -ENOTDIR);
        free(p);
        p = strprintf("%s/etc", root2);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        if (geteuid() == 0)
                assert_int_equal(st.st_uid, 0);
        free(p);

}

/* ---- errors a profile can cause ---------------------------------------------------------------- */

static void test_unknown_group(void **state) {
        if (geteuid() != 0)
                skip(); /* files owned by root */
        _cleanup_free_ char *root = make_root();
        _cleanup_free_ char *passwd = strprintf("%s/etc/passwd", root), *before = read_string(passwd), *after = NULL;
        char *groups[] = { (char *) "adm", (char *) "no-such-group", NULL };
        ProfileUser u = { .name = (char *) "dave", .password_hash = (char *) "!", .groups = groups };
        Profile p = { .users = &u, .n_users = 1 };

        assert_int_equal(target_write_users(root, &p), -ENOENT);
        after = read_string(passwd);
        assert_string_equal(before, after); /* nothing written */

        /* A user whose name is taken by a group of the image. */
        u.name = (char *) "sudo";
        u.groups = NULL;
        assert_int_equal(target_write_users(root, &p), -EEXIST);
}

/* What the image decides: a taken GID or UID, a missing time zone, an
 * unknown file owner, a file URL whose data does not match its sha256. */
static void test_system_errors(void **state) {
        if (geteuid() != 0)
                skip(); /* files owned by root */
        _cleanup_free_ char *root = make_root();
        _cleanup_free_ char *passwd = strprintf("%s/etc/passwd", root), *before = read_string(passwd), *after = NULL;
        _cleanup_free_ char *src = strprintf("%s/payload", root), *url = strprintf("file://%s", src);
        _cleanup_free_ char *motd = strprintf("%s/etc/motd", root);
        ProfileGroup g = { .name = (char *) "adm", .gid = 1234, .has_gid = true };
        ProfileUser u = { .name = (char *) "dave", .password_hash = (char *) "!", .uid = 998, .has_uid = true };
        Profile p = { .groups = &g, .n_groups = 1 };

        /* adm exists with GID 4. */
        assert_int_equal(target_write_users(root, &p), -EEXIST);
        /* GID 4 belongs to adm. */
        g.name = (char *) "newgroup";
        g.gid = 4;
        assert_int_equal(target_write_users(root, &p), -EEXIST);
        /* UID 998 is systemd-network's. */
        p.n_groups = 0;
        p.users = &u;
        p.n_users = 1;
        assert_int_equal(target_write_users(root, &p), -EEXIST);
        after = read_string(passwd);
        assert_string_equal(before, after); /* nothing written */

        Profile tz = { .timezone = (char *) "Mars/Olympus_Mons" };
        assert_int_equal(target_write_system(root, &tz), -ENOENT);
        tz.timezone = (char *) "Europe"; /* a directory, not a zone */
        assert_int_equal(target_write_system(root, &tz), -ENOENT);

        ProfileFile f = { .path = (char *) "/etc/motd", .content = (char *) "x\n", .owner = (char *) "nobody-here",
                          .mode = 0644 };
        Profile fp = { .files = &f, .n_files = 1 };
        assert_int_equal(target_write_files(root, &fp), -ESRCH);
        write_string(src, "payload\n");
        f.owner = NULL;
        f.content = NULL;
        f.url = url;
        f.sha256 = (char *) "0000000000000000000000000000000000000000000000000000000000000000";
        assert_int_equal(target_write_files(root, &fp), -EBADMSG);
        assert_int_equal(access(motd, F_OK), -1);
        /* The right sha256: written, with its mode. */
        char hex[65] = "";
        {
                _cleanup_free_ char *cmd = strprintf("sha256sum < '%s'", src);
                FILE *pf = popen(cmd, "r");
                assert_non_null(pf);
                assert_non_null(fgets(hex, sizeof hex, pf));
                pclose(pf);
        }
        f.sha256 = hex;
        f.mode = 0600;
        assert_int_equal(target_write_files(root, &fp), 0);
        after = (free(after), read_string(motd));
        assert_string_equal(after, "payload\n");
}

static void test_fstab_errors(void **state) {
        if (geteuid() != 0)
                skip(); /* files owned by root */
        _cleanup_free_ char *root = make_tmpdir();
        TargetMount dup[] = {
                { "/", FS_EXT4, "00000000-0000-4000-8000-000000000001", NULL },
                { "/", FS_XFS, "00000000-0000-4000-8000-000000000002", NULL },
        };
        TargetMount relative[] = { { "boot", FS_EXT4, "00000000-0000-4000-8000-000000000001", NULL } };
        TargetMount no_uuid[] = { { "/", FS_EXT4, NULL, NULL } };
        TargetMount bad_uuid[] = { { "/", FS_EXT4, "x y", NULL } };
        TargetMount swap_mount[] = { { "/swap", FS_SWAP, "00000000-0000-4000-8000-000000000001", NULL } };
        TargetMount no_fs[] = { { "/data", FS_NONE, "00000000-0000-4000-8000-000000000001", NULL } };
        TargetMount bad_opts[] = { { "/", FS_EXT4, "00000000-0000-4000-8000-000000000001", "defaults 0 0\n#" } };

        assert_int_equal(target_write_fstab(root, dup, 2), -EINVAL);
        assert_int_equal(target_write_fstab(root, relative, 1), -EINVAL);
        assert_int_equal(target_write_fstab(root, no_uuid, 1), -EINVAL);
        assert_int_equal(target_write_fstab(root, bad_uuid, 1), -EINVAL);
        assert_int_equal(target_write_fstab(root, swap_mount, 1), -EINVAL);
        assert_int_equal(target_write_fstab(root, no_fs, 1), -EINVAL);
        assert_int_equal(target_write_fstab(root, bad_opts, 1), -EINVAL);

        /* A space in a mount point is escaped, not a field separator. */
        TargetMount space[] = { { "/srv/my data", FS_EXT4, "00000000-0000-4000-8000-000000000001", NULL } };
        assert_int_equal(target_write_fstab(root, space, 1), 0);
        _cleanup_free_ char *path = strprintf("%s/etc/fstab", root);
        _cleanup_free_ char *s = read_string(path);
        assert_non_null(strstr(s, " /srv/my\\040data "));
}

/* LUKS2: key files 0400 root in a 0700 directory, one crypttab line each;
 * nothing that could break a crypttab line is accepted. */
static void test_crypttab(void **state) {
        if (geteuid() != 0)
                skip(); /* files owned by root */
        _cleanup_free_ char *root = make_tmpdir();
        static const char key[] = "secret\0binary\n";
        TargetCrypt v[] = {
                { "secure", "38c3dc11-f40d-46ea-a1f8-985823c1af23", key, sizeof key - 1 },
                { "swap_crypt", "00000000-0000-4000-8000-000000000002", "k2", 2 },
        };
        struct stat st;

        assert_int_equal(target_write_crypttab(root, v, 2), 0);
        _cleanup_free_ char *tab = strprintf("%s/etc/crypttab", root), *dir = strprintf("%s/etc/cryptsetup-keys.d", root),
                            *k1 = strprintf("%s/etc/cryptsetup-keys.d/secure.key", root);
        _cleanup_free_ char *s = read_string(tab);
        assert_non_null(strstr(s, "\nsecure\tUUID=38c3dc11-f40d-46ea-a1f8-985823c1af23\t/etc/cryptsetup-keys.d/secure.key\tluks\n"));
        assert_non_null(strstr(s, "\nswap_crypt\tUUID=00000000-0000-4000-8000-000000000002\t/etc/cryptsetup-keys.d/swap_crypt.key\tluks\n"));
        assert_null(strstr(s, "secret"));
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(stat(k1, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0400);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_size, (off_t) (sizeof key - 1));
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        assert_int_equal(read_full_file(k1, &data, &size), 0);
        assert_int_equal(size, sizeof key - 1);
        assert_memory_equal(data, key, size);

        TargetCrypt bad_name[] = { { "a b", "00000000-0000-4000-8000-000000000001", "k", 1 } };
        TargetCrypt slash[] = { { "../x", "00000000-0000-4000-8000-000000000001", "k", 1 } };
        TargetCrypt no_uuid[] = { { "x", NULL, "k", 1 } };
        TargetCrypt no_key[] = { { "x", "00000000-0000-4000-8000-000000000001", "", 0 } };
        assert_int_equal(target_write_crypttab(root, bad_name, 1), -EINVAL);
        assert_int_equal(target_write_crypttab(root, slash, 1), -EINVAL);
        assert_int_equal(target_write_crypttab(root, no_uuid, 1), -EINVAL);
        assert_int_equal(target_write_crypttab(root, no_key, 1), -EINVAL);
}

/* ---- storage files in a hostile image: links that lead out of the target ------------------------ */

#define CANARY "CANARY: a file of the installer's own system\n"


static void test_storage_files_stay_in_root(void **state) {
        if (geteuid() != 0)
                skip(); /* files owned by root */
        enum { MDADM, CRYPTTAB, FSTAB };
        static const struct {
                const char *what;
                int writer;
                const char *at, *target; /* "%O": the outside directory */
                int ret;
                const char *path; /* what the installed system then reads (links resolved in it) */
        } rows[] = {
                { "etc/mdadm -> outside", MDADM, "/etc/mdadm", "%O", 0, "/etc/mdadm/mdadm.conf" },
                { "etc/mdadm -> ../../..", MDADM, "/etc/mdadm", "../../..", 0, "/etc/mdadm/mdadm.conf" },
                { "etc -> ../../outside", MDADM, "/etc", "../../outside", 0, "/etc/mdadm/mdadm.conf" },
                { "mdadm.conf -> canary", MDADM, "/etc/mdadm/mdadm.conf", "%O/canary", 0, "/etc/mdadm/mdadm.conf" },
                { "etc/crypttab -> canary", CRYPTTAB, "/etc/crypttab", "%O/canary", 0, "/etc/crypttab" },
                { "etc -> outside (crypttab)", CRYPTTAB, "/etc", "%O", 0, "/etc/crypttab" },
                { "etc/cryptsetup-keys.d -> outside", CRYPTTAB, "/etc/cryptsetup-keys.d", "%O", -ENOTDIR, NULL },
                { "etc/fstab -> canary", FSTAB, "/etc/fstab", "%O/canary", 0, "/etc/fstab" },
                { "etc -> ../.. (fstab)", FSTAB, "/etc", "../..", 0, "/etc/fstab" },
        };
        char *const arrays[] = { (char *) "ARRAY /dev/md/0 metadata=1.2 UUID=0a1b2c3d:4e5f6a7b:8c9d0e1f:2a3b4c5d" };
        TargetCrypt crypt[] = { { "secure", "38c3dc11-f40d-46ea-a1f8-985823c1af23", "key", 3 } };
        TargetMount mounts[] = { { .mount = "/", .fs = FS_EXT4, .fs_uuid = "0b5e3c1a-2f4d-4e6b-9a8c-7d1e2f3a4b5c" } };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                /* BASE/r/root: "../.." from it (a link in /) and "../../.." from its /etc
                 * (a link in /etc) reach BASE. */
                _cleanup_free_ char *base = make_tmpdir();
                _cleanup_free_ char *root = strprintf("%s/r/root", base), *outside = strprintf("%s/outside", base);
                _cleanup_free_ char *canary = strprintf("%s/canary", outside), *at = strprintf("%s%s", root, rows[i].at);
                const char *o = strstr(rows[i].target, "%O");
                _cleanup_free_ char *target = o ? strprintf("%.*s%s%s", (int) (o - rows[i].target), rows[i].target,
                                                            outside, o + 2)
                                                : strdup(rows[i].target);
                int r = 0;

                print_message("  %s\n", rows[i].what);
                write_string(canary, CANARY);
                write_string(at, "x"); /* the parents */
                assert_int_equal(unlink(at), 0);
                assert_int_equal(symlink(target, at), 0);
                _cleanup_free_ char *before = tree_snapshot(base, root);

                switch (rows[i].writer) {
                case MDADM: r = target_write_mdadm_conf(root, arrays, 1); break;
                case CRYPTTAB: r = target_write_crypttab(root, crypt, 1); break;
                case FSTAB: r = target_write_fstab(root, mounts, 1); break;
                }
                if (r != rows[i].ret)
                        fail_msg("%s: returned %d, expected %d", rows[i].what, r, rows[i].ret);
                _cleanup_free_ char *after = tree_snapshot(base, root);
                if (!streq(before, after))
                        fail_msg("%s: outside the target\nbefore:\n%safter:\n%s", rows[i].what, before, after);
                if (rows[i].path) {
                        _cleanup_close_ int rootfd = target_root_open(root);
                        _cleanup_free_ char *text = NULL;
                        assert_true(rootfd >= 0);
                        assert_int_equal(target_read_file(rootfd, rows[i].path, &text, NULL), 0);
                        assert_true(startswith(text, "# "));
                }
        }
}

/* The resolver's API that boot/ uses: files opened only when regular,
 * copies from an fd, no links at all for the ESP, FAT modes left alone,
 * a directory's host path inside the root. */
static void test_fs_api(void **state) {
        _cleanup_free_ char *base = make_tmpdir();
        _cleanup_free_ char *root = strprintf("%s/root", base), *outside = strprintf("%s/outside", base);
        _cleanup_free_ char *fifo = strprintf("%s/boot/fifo", root), *canary = strprintf("%s/canary", outside);
        _cleanup_free_ char *link = strprintf("%s/boot/link", root), *dirlink = strprintf("%s/d", root);
        _cleanup_close_ int rootfd = -1, fd = -1, dirfd = -1;
        _cleanup_free_ char *name = NULL, *host = NULL, *real = NULL, *copied = NULL, *text = NULL;
        struct stat st;

        write_string(canary, CANARY);
        _cleanup_free_ char *kernel = strprintf("%s/boot/vmlinuz", root);
        write_string(kernel, "KERNEL\n");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(symlink(canary, link), 0); /* resolves to ROOT/.../canary: absent */
        assert_int_equal(symlink(outside, dirlink), 0);
        rootfd = target_root_open(root);
        assert_true(rootfd >= 0);

        /* Regular files only; a FIFO does not block. */
        assert_int_equal(target_open_file(rootfd, "/boot/fifo", 0, NULL), -EBADF);
        assert_int_equal(target_open_file(rootfd, "/boot", 0, NULL), -EISDIR);
        assert_int_equal(target_open_file(rootfd, "/boot/link", 0, NULL), -ENOENT);
        assert_int_equal(target_open_file(rootfd, "/boot/link", CHASE_NO_SYMLINKS, NULL), -ELOOP);
        fd = target_open_file(rootfd, "/boot/vmlinuz", 0, &st);
        assert_true(fd >= 0);
        assert_int_equal(st.st_size, 7);

        /* A copy from the fd, whatever its offset; no chmod with TARGET_MODE_KEEP. */
        assert_int_equal(lseek(fd, 3, SEEK_SET), 3);
        assert_int_equal(target_chase(rootfd, "/esp/x/linux", CHASE_MKDIR | CHASE_NO_SYMLINKS | CHASE_NO_CHMOD,
                                      &dirfd, &name), 0);
        assert_int_equal(target_copy_fd_at(dirfd, name, fd, TARGET_MODE_KEEP, 0, 0), 0);
        copied = strprintf("%s/esp/x/linux", root);
        text = read_string(copied);
        assert_string_equal(text, "KERNEL\n");
        assert_int_equal(stat(copied, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644 & ~(mode_t) 077); /* umask 077 in this test */
        /* No symlink on the way with CHASE_NO_SYMLINKS. */
        closep(&dirfd);
        free(TAKE_PTR(name));
        assert_int_equal(target_chase(rootfd, "/d/file", CHASE_MKDIR | CHASE_NO_SYMLINKS, &dirfd, &name), -ELOOP);
        assert_int_equal(target_open_dir(rootfd, "/d", CHASE_NO_SYMLINKS), -ELOOP);

        /* A host path for a tool: the link d -> OUTSIDE is ROOT/OUTSIDE. */
        real = realpath(root, NULL);
        assert_int_equal(target_dir_host_path(rootfd, "/d", CHASE_MKDIR, &host, NULL), 0);
        _cleanup_free_ char *want = strprintf("%s%s", real, outside);
        assert_string_equal(host, want);
}

static void test_seed_errors(void **state) {
        if (geteuid() != 0)
                skip(); /* files owned by root */
        _cleanup_free_ char *root = make_tmpdir();
        Profile p = { .hostname = (char *) "seed01" };

        assert_int_equal(target_write_seed(root, &p, NULL), -EINVAL);
        assert_int_equal(target_write_seed(root, &p, "iid: evil\nuser-data"), -EINVAL);
        assert_int_equal(target_write_seed(root, &p, "iid-seed01-1"), 0);

        _cleanup_free_ char *path = strprintf("%s/var/lib/cloud/seed/nocloud/user-data", root);
        _cleanup_free_ char *s = read_string(path);
        struct stat st;
        assert_string_equal(s, "#cloud-config\n{}\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* ---- netplan files -------------------------------------------------------------------------- */

/* Every netplan file of tests/data/netplan/ loads (profile_load_network_file)
 * and renders; tests/cli/netplan-compare.sh compares the result with netplan,
 * this runs the same paths under the sanitizers. */
static void test_netplan_files(void **state) {
        if (geteuid() != 0)
                skip(); /* files owned by root */
        const char *dir = "tests/data/netplan";
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        assert_non_null(d);
        while ((de = readdir(d))) {
                if (!endswith(de->d_name, ".yaml"))
                        continue;
                _cleanup_free_ char *path = strprintf("%s/%s", dir, de->d_name);
                _cleanup_free_ char *root = make_tmpdir();
                _cleanup_free_ char *netdir = strprintf("%s/etc/systemd/network", root);
                _cleanup_profile_ Profile *p = NULL;
                ProfileErrors errors = {};

                if (profile_load_network_file(path, &p, &errors) < 0) {
                        profile_errors_print(stderr, &errors);
                        fail_msg("%s does not load", path);
                }
                profile_errors_done(&errors);
                assert_true(p->network.n_interfaces > 0);
                assert_int_equal(target_write_network(root, p, NULL), 0);
                /* Twice: the same files, nothing stale. */
                assert_int_equal(target_write_network(root, p, NULL), 0);
                _cleanup_(closedirp) DIR *nd = opendir(netdir);
                assert_non_null(nd);
                unsigned files = 0;
                for (struct dirent *e; (e = readdir(nd));)
                        files += startswith(e->d_name, "10-installer-") != NULL;
                assert_true(files >= p->network.n_interfaces);
                n++;
        }
        assert_true(n >= 5);
}

static void test_netplan_file_errors(void **state) {
        _cleanup_free_ char *dir = make_tmpdir();
        _cleanup_free_ char *extra = strprintf("%s/extra.yaml", dir), *syntax = strprintf("%s/syntax.yaml", dir);
        _cleanup_free_ char *missing = strprintf("%s/missing.yaml", dir);
        ProfileErrors errors = {};
        Profile *p = NULL;

        write_string(extra, "network:\n  version: 2\n  ethernets: {eth0: {dhcp4: true}}\nhostname: x\n");
        assert_int_equal(profile_load_network_file(extra, &p, &errors), -EINVAL);
        assert_null(p);
        assert_int_equal(errors.n, 1);
        assert_int_equal(errors.v[0].line, 4);
        assert_int_equal(errors.v[0].column, 1);
        assert_non_null(strstr(errors.v[0].message, "a netplan file has only 'network'"));
        profile_errors_done(&errors);

        write_string(syntax, "network:\n  version: 2\n  ethernets: [\n");
        assert_int_equal(profile_load_network_file(syntax, &p, &errors), -EINVAL);
        assert_int_equal(errors.n, 1);
        assert_true(errors.v[0].line > 0);
        profile_errors_done(&errors);

        assert_int_equal(profile_load_network_file(missing, &p, &errors), -ENOENT);
        assert_int_equal(errors.n, 0);
}

/* The last line of defence: a value that would end a Key=value line. */
static void test_network_unsafe_values(void **state) {
        _cleanup_free_ char *root = make_tmpdir();
        char *addrs[] = { (char *) "10.0.0.1/24\nDNS=6.6.6.6", NULL };
        ProfileInterface e = { .kind = NET_ETHERNET, .id = (char *) "eth0", .addresses = addrs };
        Profile p = { .network = { .interfaces = &e, .n_interfaces = 1 } };

        assert_int_equal(target_write_network(root, &p, NULL), -EINVAL);
        e.addresses = NULL;
        e.id = (char *) "../etc";
        assert_int_equal(target_write_network(root, &p, NULL), -EINVAL);
        e.id = (char *) "eth0";
        e.bond.mode = (char *) "active-backup x";
        assert_int_equal(target_write_network(root, &p, NULL), -EINVAL);
        _cleanup_free_ char *netdir = strprintf("%s/etc", root);
        assert_int_equal(access(netdir, F_OK), -1);
}

/* ---- ydoc_emit -------------------------------------------------------------------------------------- */

static char *emit_string(const YNode *n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(ydoc_emit(n, f), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void assert_same_tree(const YNode *a, const YNode *b) {
        assert_int_equal(a->type, b->type);
        assert_int_equal(a->n, b->n);
        if (a->type == YNODE_SCALAR) {
                assert_string_equal(a->value, b->value);
                /* A plain empty scalar (null) may come back as plain "null". */
                assert_int_equal(a->plain, b->plain);
                return;
        }
        for (size_t i = 0; i < a->n; i++) {
                if (a->type == YNODE_MAPPING)
                        assert_same_tree(a->keys[i], b->keys[i]);
                assert_same_tree(a->items[i], b->items[i]);
        }
}

static void test_emit_roundtrip(void **state) {
        static const char doc[] =
                "plain: hello world\n"
                "quoted_bool: \"yes\"\n"
                "bool: yes\n"
                "mode: '0644'\n"
                "number: 0644\n"
                "version: \"1.10\"\n"
                "null_string: \"null\"\n"
                "tilde: ~\n"
                "empty: ''\n"
                "colon: 'a: b'\n"
                "hash: '#not a comment'\n"
                "multi: |\n"
                "  line one\n"
                "    indented\n"
                "  line three\n"
                "trailing_space: \"x \"\n"
                "tab: \"a\\tb\"\n"
                "unicode: \"ünïcödé ✓\"\n"
                "\"quoted key\": 1\n"
                "'123': numeric key as string\n"
                "list: [a, 'b', \"no\", [nested, \"on\"], {k: v}]\n"
                "emptymap: {}\n"
                "emptylist: []\n"
                "long: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPVVA5UNvU/qw2HM7XVHWCkA3o89ZV6uQKgFJ/VdRaBu "
                "demo@installer-tests (TEST KEY, DO NOT USE) and then some more words to pass eighty columns\n";
        _cleanup_ydoc_ YDoc *a = NULL, *b = NULL;
        _cleanup_free_ char *out = NULL, *err = NULL;

        assert_int_equal(ydoc_parse_string("doc", doc, strlen(doc), &a, &err), 0);
        out = emit_string(a->root);
        if (ydoc_parse_string("emitted", out, strlen(out), &b, &err) < 0)
                fail_msg("emitted YAML does not parse: %s\n%s", err, out);

        /* Everything as it was, except that ~ is now spelled differently. */
        assert_same_tree(a->root, b->root);
        assert_true(ynode_is_null(ynode_get(b->root, "tilde")));
        bool v;
        assert_int_equal(ynode_bool(ynode_get(b->root, "quoted_bool"), &v), -EINVAL);
        assert_int_equal(ynode_bool(ynode_get(b->root, "bool"), &v), 0);
        assert_false(ynode_is_null(ynode_get(b->root, "null_string")));
        /* Not folded, and no document markers. */
        assert_non_null(strstr(out, "long: ssh-ed25519 AAAA"));
        assert_null(strstr(out, "---"));
        assert_non_null(strstr(out, "multi: |\n"));
}

static void test_emit_exact(void **state) {
        static const char doc[] = "runcmd:\n  - echo \"hi\" > /dev/ttyS0\n  - [sh, -c, 'true']\npackages: [vim]\nflag: 'off'\n";
        _cleanup_ydoc_ YDoc *a = NULL;
        _cleanup_free_ char *out = NULL;

        assert_int_equal(ydoc_parse_string("doc", doc, strlen(doc), &a, NULL), 0);
        out = emit_string(a->root);
        assert_string_equal(out,
                            "runcmd:\n"
                            "- echo \"hi\" > /dev/ttyS0\n"
                            "- - sh\n"
                            "  - -c\n"
                            "  - 'true'\n"
                            "packages:\n"
                            "- vim\n"
                            "flag: 'off'\n");
        assert_int_equal(ydoc_emit(NULL, stdout), -EINVAL);
}

int main(void) {
        struct CMUnitTest tests[ELEMENTSOF(cases) + 13];
        size_t n = 0;

        setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH, 1);
        umask(077); /* the modes written must not depend on it */

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                tests[n++] = (struct CMUnitTest) {
                        .name = cases[i].name, .test_func = test_case, .initial_state = (void *) &cases[i],
                };
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_symlinks_stay_in_root);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_unknown_group);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_system_errors);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_fstab_errors);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_crypttab);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_seed_errors);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_netplan_files);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_netplan_file_errors);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_network_unsafe_values);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_emit_roundtrip);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_emit_exact);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_storage_files_stay_in_root);
        tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_fs_api);
        return _cmocka_run_group_tests("target", tests, n, NULL, remove_tmpdirs);
}
