/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Accounts of the installed system. The target's /etc/passwd, /etc/shadow,
 * /etc/group and /etc/gshadow are edited directly, as useradd(8) would edit
 * them in a chroot, but without running anything from the image: the image
 * is data, and the installer may not even be able to execute it. The one
 * exception is the target's visudo, which checks a sudo rule before it is
 * installed (when the image has one).
 *
 * password_hash is a secret: it is never logged, and the buffers that held
 * /etc/shadow are wiped before they are freed. */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "target/target-internal.h"

#define UID_FIRST 1000  /* Debian's login.defs UID_MIN/GID_MIN */
#define UID_LAST 59999  /* ... and UID_MAX/GID_MAX (60000, exclusive here) */
#define HOME_MODE 0750
#define SUDOERS_DIR "/etc/sudoers.d"
#define SUDOERS_PREFIX "90-installer-"

typedef struct DbFile {
        const char *path;
        bool secret;          /* shadow, gshadow: 0640 root:shadow, wiped from memory */
        char **lines;         /* without the newlines */
        bool existed, changed;
        struct stat st;
} DbFile;

enum { DB_PASSWD, DB_SHADOW, DB_GROUP, DB_GSHADOW, _DB_MAX };

typedef struct Accounts {
        DbFile db[_DB_MAX];
        long today;           /* days since the epoch */
} Accounts;

static void db_done(DbFile *f) {
        for (size_t i = 0; f->lines && f->lines[i]; i++)
                if (f->secret)
                        explicit_bzero(f->lines[i], strlen(f->lines[i]));
        strv_free(f->lines);
        f->lines = NULL;
}

static void accounts_done(Accounts *a) {
        for (size_t i = 0; i < _DB_MAX; i++)
                db_done(&a->db[i]);
}

static int db_load(int rootfd, DbFile *f, bool required) {
        _cleanup_free_ char *data = NULL;
        int r;

        r = target_read_file(rootfd, f->path, &data, &f->st);
        if (r == -ENOENT && !required) {
                f->lines = new0(char *, 1);
                return f->lines ? 0 : -ENOMEM;
        }
        if (r < 0)
                return log_debug_errno(r, "users: cannot read %s of the target: %m", f->path);
        f->existed = true;

        for (char *p = data; *p;) {
                size_t n = strcspn(p, "\n");
                char *line = strndup(p, n);

                if (!line || strv_push(&f->lines, line) < 0) {
                        free(line);
                        r = -ENOMEM;
                        break;
                }
                p += n;
                if (*p == '\n')
                        p++;
        }
        if (f->secret)
                explicit_bzero(data, strlen(data));
        if (r < 0)
                return r;
        if (!f->lines) {
                f->lines = new0(char *, 1);
                if (!f->lines)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- lines and fields ------------------------------------------------------------ */

static bool line_is(const char *line, const char *name) {
        const char *rest = startswith(line, name);
        return rest && *rest == ':';
}

static char **db_find(DbFile *f, const char *name) {
        for (char **l = f->lines; *l; l++)
                if (line_is(*l, name))
                        return l;
        return NULL;
}

/* Field idx (0-based) of a colon-separated line; "" when the line is shorter. */
static char *line_field(const char *line, size_t idx) {
        const char *p = line;

        for (size_t i = 0; i < idx; i++) {
                p = strchr(p, ':');
                if (!p)
                        return strdup("");
                p++;
        }
        return strndup(p, strcspn(p, ":"));
}

/* Replace field idx of *line (padding with empty fields if needed). */
static int line_set_field(char **line, size_t idx, const char *value) {
        StrBuf b = {};
        const char *p = *line;
        size_t i = 0;
        int r = 0;

        for (; i < idx && r >= 0; i++) {
                size_t n = p ? strcspn(p, ":") : 0;
                r = strbuf_append_n(&b, p ?: "", n);
                if (r >= 0)
                        r = strbuf_append(&b, ":");
                if (p)
                        p = p[n] == ':' ? p + n + 1 : NULL;
        }
        if (r >= 0)
                r = strbuf_append(&b, value);
        if (r >= 0 && p && (p = strchr(p, ':')))
                r = strbuf_append(&b, p);
        if (r < 0) {
                if (b.data)
                        explicit_bzero(b.data, b.len);
                strbuf_done(&b);
                return -ENOMEM;
        }
        explicit_bzero(*line, strlen(*line));
        free(*line);
        *line = strbuf_steal(&b);
        return *line ? 0 : -ENOMEM;
}

static int line_get_id(const char *line, size_t idx, uint32_t *ret) {
        _cleanup_free_ char *s = line_field(line, idx);
        char *end;
        unsigned long v;

        if (!s)
                return -ENOMEM;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (!*s || *end || errno != 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

static bool id_in_use(DbFile *f, uint32_t id) {
        for (char **l = f->lines; *l; l++) {
                uint32_t x;
                if (**l != '#' && line_get_id(*l, 2, &x) >= 0 && x == id)
                        return true;
        }
        return false;
}

static int alloc_id(DbFile *f, uint32_t *ret) {
        for (uint32_t id = UID_FIRST; id <= UID_LAST; id++)
                if (!id_in_use(f, id)) {
                        *ret = id;
                        return 0;
                }
        return -EUSERS;
}

static int db_append(DbFile *f, char *line) {
        if (!line)
                return -ENOMEM;
        if (strv_push(&f->lines, line) < 0) {
                explicit_bzero(line, strlen(line));
                free(line);
                return -ENOMEM;
        }
        f->changed = true;
        return 0;
}

/* Add name to the member list (field 3) of group line *line. */
static int line_add_member(char **line, const char *name) {
        _cleanup_free_ char *members = line_field(*line, 3), *joined = NULL;

        if (!members)
                return -ENOMEM;
        for (const char *p = members; *p;) {
                size_t n = strcspn(p, ",");
                if (n == strlen(name) && strncmp(p, name, n) == 0)
                        return 0;
                p += n + (p[n] == ',');
        }
        joined = *members ? strprintf("%s,%s", members, name) : strdup(name);
        if (!joined)
                return -ENOMEM;
        return line_set_field(line, 3, joined) < 0 ? -ENOMEM : 1;
}

/* ---- checks ------------------------------------------------------------------------ */

static bool is_user_name(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 32 && ((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_') &&
               s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-")] == 0;
}

/* Nothing that could add a field or a line. */
static bool is_field_safe(const char *s) {
        for (; s && *s; s++)
                if (*s == ':' || (unsigned char) *s < ' ' || *s == 0x7f)
                        return false;
        return true;
}

static bool is_line_safe(const char *s) {
        for (; s && *s; s++)
                if (*s == '\n' || *s == '\r' || *s == 0)
                        return false;
        return true;
}

static int check_user(const ProfileUser *u) {
        if (!is_user_name(u->name))
                return log_debug_errno(-EINVAL, "users: invalid user name");
        if (!is_field_safe(u->gecos) || !is_field_safe(u->shell) || (u->shell && u->shell[0] != '/'))
                return log_debug_errno(-EINVAL, "users: %s: invalid gecos or shell", u->name);
        if (u->password_hash && (!*u->password_hash || !is_field_safe(u->password_hash)))
                return log_debug_errno(-EINVAL, "users: %s: invalid password hash", u->name); /* not the value */
        for (size_t i = 0; u->ssh_authorized_keys && u->ssh_authorized_keys[i]; i++)
                if (!*u->ssh_authorized_keys[i] || !is_line_safe(u->ssh_authorized_keys[i]))
                        return log_debug_errno(-EINVAL, "users: %s: invalid SSH key", u->name);
        for (size_t i = 0; u->groups && u->groups[i]; i++)
                if (!is_user_name(u->groups[i]))
                        return log_debug_errno(-EINVAL, "users: %s: invalid group name", u->name);
        if (u->home && (u->home[0] != '/' || !u->home[1] || !is_field_safe(u->home) || strstr(u->home, "..")))
                return log_debug_errno(-EINVAL, "users: %s: invalid home", u->name);
        if (u->sudo && (!*u->sudo || !is_line_safe(u->sudo)))
                return log_debug_errno(-EINVAL, "users: %s: invalid sudo rule", u->name);
        return 0;
}

/* ---- the account databases --------------------------------------------------------------- */

typedef struct UserPlan {
        const ProfileUser *user;
        uint32_t uid, gid;
        char *home;
        bool created;
} UserPlan;

/* The password field: the hash, "!" + the hash when locked (as usermod -L
 * does). No password: "*" (no password login) rather than "!" (locked), so
 * that key logins work even where sshd treats "!" as a locked account. */
static char *password_field(const ProfileUser *u, const char *current) {
        const char *h = u->password_hash ?: current ?: "*";

        if (u->lock && h[0] != '!')
                return strprintf("!%s", h);
        return strdup(h);
}

static int shadow_line(const Accounts *a, const ProfileUser *u, char **ret) {
        _cleanup_free_ char *pw = password_field(u, NULL);

        if (!pw)
                return -ENOMEM;
        *ret = strprintf("%s:%s:%ld:0:99999:7:::", u->name, pw, a->today);
        if (pw)
                explicit_bzero(pw, strlen(pw));
        return *ret ? 0 : -ENOMEM;
}

#define SYS_GID_FIRST 100  /* Debian's SYS_GID_MIN .. SYS_GID_MAX, allocated from the top as addgroup --system does */
#define SYS_GID_LAST 999

static int add_groups(Accounts *a, const Profile *p) {
        for (size_t i = 0; i < p->n_groups; i++) {
                const ProfileGroup *g = &p->groups[i];
                char **gl = db_find(&a->db[DB_GROUP], g->name);
                uint32_t gid = 0;
                int r;

                if (!is_user_name(g->name))
                        return log_debug_errno(-EINVAL, "users: invalid group name");
                if (gl) {
                        if (g->has_gid && (line_get_id(*gl, 2, &gid) < 0 || gid != g->gid))
                                return log_error_errno(-EEXIST, "Cannot create group '%s' with GID %" PRIu32
                                                       ": the target image has it with GID %" PRIu32, g->name,
                                                       g->gid, gid);
                        log_debug("users: group %s exists", g->name);
                        continue;
                }
                if (g->has_gid) {
                        if (id_in_use(&a->db[DB_GROUP], g->gid))
                                return log_error_errno(-EEXIST, "Cannot create group '%s': GID %" PRIu32
                                                       " is taken in the target image", g->name, g->gid);
                        gid = g->gid;
                } else if (g->system) {
                        for (gid = SYS_GID_LAST; gid >= SYS_GID_FIRST && id_in_use(&a->db[DB_GROUP], gid); gid--)
                                ;
                        if (gid < SYS_GID_FIRST)
                                return log_error_errno(-EUSERS, "Cannot create group '%s': no free system GID", g->name);
                } else if ((r = alloc_id(&a->db[DB_GROUP], &gid)) < 0)
                        return log_error_errno(r, "Cannot create group '%s': no free GID", g->name);

                r = db_append(&a->db[DB_GROUP], strprintf("%s:x:%" PRIu32 ":", g->name, gid));
                if (r >= 0 && a->db[DB_GSHADOW].existed)
                        r = db_append(&a->db[DB_GSHADOW], strprintf("%s:!::", g->name));
                if (r < 0)
                        return r;
                log_debug("users: creating group %s (gid %" PRIu32 ")", g->name, gid);
        }
        return 0;
}

static int add_new_user(Accounts *a, int rootfd, UserPlan *up) {
        const ProfileUser *u = up->user;
        _cleanup_free_ char *shell = NULL;
        char *line;
        int r;

        if (db_find(&a->db[DB_GROUP], u->name))
                return log_error_errno(-EEXIST, "Cannot create user '%s': the target image already has a group "
                                       "of that name", u->name);
        if (u->has_uid) {
                if (id_in_use(&a->db[DB_PASSWD], u->uid))
                        return log_error_errno(-EEXIST, "Cannot create user '%s' with UID %" PRIu32 ": the "
                                               "target image has a user with that UID", u->name, u->uid);
                up->uid = u->uid;
                r = 0;
        } else
                r = alloc_id(&a->db[DB_PASSWD], &up->uid);
        if (r >= 0)
                r = id_in_use(&a->db[DB_GROUP], up->uid) ? alloc_id(&a->db[DB_GROUP], &up->gid) : 0;
        if (r < 0)
                return log_error_errno(r, "Cannot create user '%s': no free UID/GID between %d and %d", u->name,
                                       UID_FIRST, UID_LAST);
        if (!id_in_use(&a->db[DB_GROUP], up->uid))
                up->gid = up->uid;

        if (u->shell) {
                shell = strdup(u->shell);
                if (shell && (r = target_exists(rootfd, shell)) <= 0)
                        log_debug("users: shell %s of %s is not in the image (yet)", shell, u->name);
        } else {
                r = target_exists(rootfd, "/bin/bash");
                if (r < 0)
                        return r;
                shell = strdup(r > 0 ? "/bin/bash" : "/bin/sh");
        }
        up->home = u->home ? strdup(u->home) : strprintf("/home/%s", u->name);
        if (!shell || !up->home)
                return -ENOMEM;

        r = db_append(&a->db[DB_PASSWD], strprintf("%s:x:%" PRIu32 ":%" PRIu32 ":%s:%s:%s", u->name, up->uid,
                                                   up->gid, u->gecos ?: "", up->home, shell));
        if (r >= 0)
                r = db_append(&a->db[DB_GROUP], strprintf("%s:x:%" PRIu32 ":", u->name, up->gid));
        if (r >= 0)
                r = db_append(&a->db[DB_GSHADOW], strprintf("%s:!::", u->name));
        if (r >= 0 && (r = shadow_line(a, u, &line)) >= 0)
                r = db_append(&a->db[DB_SHADOW], line);
        if (r < 0)
                return r;
        up->created = true;
        log_debug("users: creating %s (uid %" PRIu32 ", gid %" PRIu32 ", shell %s)", u->name, up->uid, up->gid,
                  shell);
        return 0;
}

static int update_existing_user(Accounts *a, char *pwline, UserPlan *up) {
        const ProfileUser *u = up->user;
        char **sp;
        int r;

        if (line_get_id(pwline, 2, &up->uid) < 0 || line_get_id(pwline, 3, &up->gid) < 0)
                return log_debug_errno(-EINVAL, "users: the entry of %s in /etc/passwd is malformed", u->name);
        up->home = line_field(pwline, 5);
        if (!up->home)
                return -ENOMEM;
        if (up->home[0] != '/')
                return log_debug_errno(-EINVAL, "users: %s has no absolute home directory", u->name);
        log_debug("users: %s exists (uid %" PRIu32 "); updating it", u->name, up->uid);

        if (!u->password_hash && !u->lock)
                return 0;
        sp = db_find(&a->db[DB_SHADOW], u->name);
        if (!sp) {
                char *line;
                r = shadow_line(a, u, &line);
                return r < 0 ? r : db_append(&a->db[DB_SHADOW], line);
        }
        _cleanup_free_ char *today = strprintf("%ld", a->today), *cur = line_field(*sp, 1), *pw = NULL;
        if (!today || !cur)
                return -ENOMEM;
        pw = password_field(u, cur);
        explicit_bzero(cur, strlen(cur));
        if (!pw)
                return -ENOMEM;
        r = line_set_field(sp, 1, pw);
        explicit_bzero(pw, strlen(pw));
        if (r >= 0)
                r = line_set_field(sp, 2, today);
        a->db[DB_SHADOW].changed = true;
        return r;
}

static int add_to_groups(Accounts *a, const ProfileUser *u) {
        int r;

        for (size_t i = 0; u->groups && u->groups[i]; i++) {
                const char *g = u->groups[i];
                char **gl = db_find(&a->db[DB_GROUP], g), **gsl;

                if (!gl)
                        return log_error_errno(-ENOENT, "Cannot add user '%s' to group '%s': the target image has no "
                                               "such group (the installer only uses existing groups)", u->name, g);
                r = line_add_member(gl, u->name);
                if (r < 0)
                        return r;
                if (r > 0)
                        a->db[DB_GROUP].changed = true;
                gsl = db_find(&a->db[DB_GSHADOW], g);
                if (gsl) {
                        r = line_add_member(gsl, u->name);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                a->db[DB_GSHADOW].changed = true;
                }
        }
        return 0;
}

static int db_save(int rootfd, DbFile *f, gid_t shadow_gid) {
        _cleanup_(target_buf_free) TargetBuf b = {};
        mode_t mode;
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        if (!f->changed)
                return 0;
        if (f->secret) {
                /* Keep the image's mode, but never readable by others. */
                mode = f->existed ? (f->st.st_mode & 0660) : 0640;
                gid = f->existed ? f->st.st_gid : shadow_gid;
        } else {
                mode = f->existed ? (f->st.st_mode & 07777) : 0644;
                gid = f->existed ? f->st.st_gid : 0;
        }
        if (f->existed)
                uid = f->st.st_uid;

        r = target_buf_open(&b);
        if (r < 0)
                return r;
        for (char **l = f->lines; *l; l++)
                fprintf(b.f, "%s\n", *l);
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        r = target_write_file(rootfd, f->path, b.data, b.size, mode, uid, gid);
        if (f->secret)
                explicit_bzero(b.data, b.size);
        return r;
}

/* ---- homes, keys, sudo -------------------------------------------------------------------------- */

static int make_home(int rootfd, const UserPlan *up) {
        _cleanup_close_ int homes = -1, home = -1, skel = -1;
        _cleanup_free_ char *parent = NULL;
        const char *name;
        int r;

        /* The parent of the home (/home, /srv, ...) is created root-owned, 0755. */
        name = strrchr(up->home, '/');
        if (!name || !name[1])
                return -EINVAL;
        parent = name == up->home ? strdup("/") : strndup(up->home, (size_t) (name - up->home));
        if (!parent)
                return -ENOMEM;
        name++;
        homes = target_open_dir(rootfd, parent, CHASE_MKDIR);
        if (homes < 0)
                return log_debug_errno(homes, "users: cannot open %s: %m", parent);
        r = target_mkdir_at(homes, name, HOME_MODE, up->uid, up->gid);
        if (r < 0)
                return log_debug_errno(r, "users: cannot create %s: %m", up->home);
        if (r == 0) {
                log_debug("users: %s exists already; not copying /etc/skel", up->home);
                return 0;
        }
        skel = target_open_dir(rootfd, "/etc/skel", 0);
        if (skel == -ENOENT)
                return 0;
        if (skel < 0)
                return log_debug_errno(skel, "users: cannot open /etc/skel: %m");
        home = openat(homes, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (home < 0)
                return -errno;
        r = target_copy_tree(skel, home, up->uid, up->gid);
        if (r < 0)
                return log_debug_errno(r, "users: cannot copy /etc/skel to %s: %m", up->home);
        return 0;
}

static int write_authorized_keys(int rootfd, const UserPlan *up) {
        char *const *keys = up->user->ssh_authorized_keys;
        _cleanup_(target_buf_free) TargetBuf b = {};
        _cleanup_close_ int home = -1, ssh = -1;
        int r;

        if (!keys || !keys[0])
                return 0;

        home = target_open_dir(rootfd, up->home, 0);
        if (home < 0)
                return log_debug_errno(home, "users: cannot open the home directory %s of %s: %m", up->home,
                                       up->user->name);
        r = target_mkdir_at(home, ".ssh", 0700, up->uid, up->gid);
        if (r < 0)
                return log_debug_errno(r, "users: cannot create %s/.ssh: %m", up->home);
        ssh = openat(home, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ssh < 0)
                return log_debug_errno(errno, "users: cannot open %s/.ssh: %m", up->home);
        /* An existing .ssh (root's, in an image) gets the right owner and mode too. */
        if (fchown(ssh, up->uid, up->gid) < 0 || fchmod(ssh, 0700) < 0)
                return log_debug_errno(errno, "users: cannot set the owner of %s/.ssh: %m", up->home);

        r = target_buf_open(&b);
        if (r < 0)
                return r;
        for (size_t i = 0; keys[i]; i++)
                fprintf(b.f, "%s\n", keys[i]);
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        r = target_write_at(ssh, "authorized_keys", b.data, b.size, 0600, up->uid, up->gid);
        if (r < 0)
                return log_debug_errno(r, "users: cannot write %s/.ssh/authorized_keys: %m", up->home);
        log_debug("users: %s: %zu SSH keys", up->user->name, strv_length(keys));
        return 0;
}

/* The target's own visudo judges the file before sudo ever reads it: a rule
 * its sudo rejects would otherwise break sudo for every user ("parse error
 * in /etc/sudoers.d/..."). The file is written under a name with a '.',
 * which sudo skips, checked with "visudo -c -f", and removed again. An image
 * without visudo (no sudo installed) has nothing to break: not checked. */
static int check_sudoers(const char *root, int rootfd, const char *path, const char *data, const char *user) {
        _cleanup_free_ char *check = strprintf("%s.installer-check", path), *out = NULL;
        _cleanup_close_ int dfd = -1;
        struct stat st;
        int r, q;

        if (!check)
                return -ENOMEM;
        if (fstatat(rootfd, "usr/sbin/visudo", &st, 0) < 0 || !S_ISREG(st.st_mode)) {
                log_debug("users: %s: the target has no /usr/sbin/visudo; the sudo rule is not checked", user);
                return 0;
        }
        r = target_write_file(rootfd, check, data, strlen(data), 0440, 0, 0);
        if (r < 0)
                return log_debug_errno(r, "users: cannot write %s: %m", check);
        char *const argv[] = { "/usr/sbin/visudo", "-c", "-q", "-f", check, NULL };
        r = target_chroot_run(root, argv, &out);
        dfd = target_open_dir(rootfd, SUDOERS_DIR, 0);
        q = dfd < 0 ? dfd : unlinkat(dfd, check + strlen(SUDOERS_DIR "/"), 0) < 0 ? -errno : 0;
        if (r == -EPROTO)
                return log_error_errno(-EINVAL, "users: the target's visudo rejects the sudo rule of %s: %s", user,
                                       out && *out ? strstrip(out) : "(no output)");
        if (r < 0)
                return log_error_errno(r, "users: cannot run the target's visudo to check the sudo rule of %s: %m",
                                       user);
        if (q < 0)
                return log_error_errno(q, "users: cannot remove %s: %m", check);
        return 0;
}

static int write_sudoers(const char *root, int rootfd, const ProfileUser *u) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        int r;

        if (!u->sudo)
                return 0;
        path = strprintf(SUDOERS_DIR "/" SUDOERS_PREFIX "%s", u->name);
        if (!path)
                return -ENOMEM;
        /* sudo silently skips files in sudoers.d whose name contains '.' or ends in '~'. */
        if (strchr(path + strlen(SUDOERS_DIR "/"), '.') || endswith(path, "~"))
                return log_debug_errno(-EINVAL, "users: %s would be ignored by sudo", path);
        data = strprintf("# Written by the installer from the profile (users: %s, sudo).\n%s %s\n", u->name,
                         u->name, u->sudo);
        if (!data)
                return -ENOMEM;
        r = check_sudoers(root, rootfd, path, data, u->name);
        if (r < 0)
                return r;
        return target_write_file(rootfd, path, data, strlen(data), 0440, 0, 0);
}

/* ---- the whole step ------------------------------------------------------------------------------ */

static gid_t shadow_group(DbFile *group) {
        char **l = db_find(group, "shadow");
        uint32_t gid;

        return l && line_get_id(*l, 2, &gid) >= 0 ? (gid_t) gid : 0;
}

int target_write_users(const char *root, const Profile *p) {
        _cleanup_(accounts_done) Accounts a = {
                .db = {
                        [DB_PASSWD] = { .path = "/etc/passwd" },
                        [DB_SHADOW] = { .path = "/etc/shadow", .secret = true },
                        [DB_GROUP] = { .path = "/etc/group" },
                        [DB_GSHADOW] = { .path = "/etc/gshadow", .secret = true },
                },
        };
        _cleanup_close_ int rootfd = -1;
        UserPlan *plans = NULL;
        int r = 0;

        if (!p)
                return -EINVAL;
        if (p->n_users == 0 && p->n_groups == 0)
                return 0;
        for (size_t i = 0; i < p->n_users; i++) {
                r = check_user(&p->users[i]);
                if (r < 0)
                        return r;
        }

        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        a.today = target_days_since_epoch();
        for (size_t i = 0; i < _DB_MAX; i++) {
                r = db_load(rootfd, &a.db[i], i == DB_PASSWD || i == DB_GROUP);
                if (r < 0)
                        return r;
        }

        plans = new0(UserPlan, MAX(p->n_users, (size_t) 1));
        if (!plans)
                return -ENOMEM;

        /* First all the databases, in memory: a profile that does not fit the
         * image (a missing group) fails before anything is written. */
        r = add_groups(&a, p);
        for (size_t i = 0; i < p->n_users && r >= 0; i++) {
                char **pw;

                plans[i].user = &p->users[i];
                pw = db_find(&a.db[DB_PASSWD], p->users[i].name);
                r = pw ? update_existing_user(&a, *pw, &plans[i]) : add_new_user(&a, rootfd, &plans[i]);
                if (r >= 0)
                        r = add_to_groups(&a, &p->users[i]);
        }

        /* Groups before the users that refer to them, as useradd does. */
        if (r >= 0) {
                gid_t sg = shadow_group(&a.db[DB_GROUP]);
                static const int order[] = { DB_GROUP, DB_GSHADOW, DB_PASSWD, DB_SHADOW };
                for (size_t i = 0; i < ELEMENTSOF(order) && r >= 0; i++)
                        r = db_save(rootfd, &a.db[order[i]], sg);
        }

        for (size_t i = 0; i < p->n_users && r >= 0; i++) {
                if (plans[i].created)
                        r = make_home(rootfd, &plans[i]);
                if (r >= 0)
                        r = write_authorized_keys(rootfd, &plans[i]);
                if (r >= 0)
                        r = write_sudoers(root, rootfd, plans[i].user);
        }

        for (size_t i = 0; i < p->n_users; i++)
                free(plans[i].home);
        free(plans);
        return r;
}
