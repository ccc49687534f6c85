/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The users: section: accounts to create (or, for root, to give access).
 * password_hash and password are secrets: no message ever contains them. A
 * plaintext password (only with hash_password: true) is hashed with yescrypt
 * while the profile is loaded and wiped from the document. */
#include <crypt.h>

#include "profile/profile-internal.h"

#define SUDO_ALL "ALL=(ALL:ALL) ALL"

typedef struct UserState {
        ProfileUser *user;
        const YNode *node;
        bool has_password;  /* a password_hash that is not a lock ("!", "*"), or a password, valid or not */
        size_t n_keys;      /* items in ssh_authorized_keys, valid or not */
        YNode *password;    /* the plaintext password's node, to hash and wipe */
        bool hash_password;
        bool hash_password_bad; /* not a boolean (reported): do not also refuse the password */
} UserState;

static void parse_user_name(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_user_name(s);
        if (why)
                ck_error(c, v, "invalid user name '%s': %s", ck_quote(s).s, why);
        else
                ck_strdup(c, s, &us->user->name);
}

static void parse_user_gecos(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;
        const char *s = ck_scalar(c, v);

        if (!s)
                return;
        for (const char *p = s; *p; p++)
                if (*p == ':' || (unsigned char) *p < ' ' || *p == 0x7f) {
                        ck_error(c, v, "gecos must not contain ':' or control characters");
                        return;
                }
        ck_strdup(c, s, &us->user->gecos);
}

static void parse_user_password_hash(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;
        const char *s = ck_scalar(c, v), *why;

        us->has_password = us->has_password || !s || (!streq(s, "!") && !streq(s, "*")); /* a bad type is reported once */
        if (!s)
                return;
        why = profile_check_password_hash(s);
        if (why)
                ck_error(c, v, "invalid password_hash: %s", why); /* never the value: it is a secret */
        else
                ck_strdup(c, s, &us->user->password_hash);
}

static void parse_user_password(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;

        us->has_password = true; /* whatever is wrong with it is reported once, below */
        if (ck_type(c, v, YNODE_SCALAR))
                us->password = (YNode *) v; /* wiped once hashed: the document is the profile's */
}

static void parse_user_hash_password(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;

        if (!ck_bool(c, v, &us->hash_password))
                us->hash_password_bad = true;
}

static void parse_user_ssh_keys(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;

        if (v->type == YNODE_SEQUENCE)
                us->n_keys = v->n;
        else
                us->n_keys = 1; /* reported as a type error; do not also complain about logins */
        ck_strv(c, v, "SSH public key", false, profile_check_ssh_key, &us->user->ssh_authorized_keys);
}

static void parse_user_groups(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "group name", true, profile_check_user_name, &((UserState *) userdata)->user->groups);
}

static void parse_user_shell(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_abs_path(s);
        if (why)
                ck_error(c, v, "invalid shell '%s': %s", ck_quote(s).s, why);
        else
                ck_strdup(c, s, &us->user->shell);
}

/* A sudoers rule as sudo reads it after the user name (sudoers(5)):
 *   HOSTS = [(RUNAS)] [OPTION=value ...] [TAG: ...] COMMAND [, [(RUNAS)] ... COMMAND]
 * HOSTS is a comma-separated list of names, addresses or aliases (each may be
 * negated with '!'); a COMMAND is ALL, an alias (upper case), sudoedit, list
 * or an absolute path with arguments, in which ',', ':', '=' and '\' must be
 * escaped with '\'. This is the subset the installer accepts (several host
 * specifications joined by ':' are not); the target's visudo checks the
 * written file again. Returns NULL or what is wrong. */
static const char *check_sudo_rule(const char *s) {
        static const char *const tags[] = { "NOPASSWD", "PASSWD", "NOEXEC", "EXEC", "SETENV", "NOSETENV",
                                             "LOG_INPUT", "NOLOG_INPUT", "LOG_OUTPUT", "NOLOG_OUTPUT", "MAIL",
                                             "NOMAIL", "FOLLOW", "NOFOLLOW", "INTERCEPT", "NOINTERCEPT" };
        static const char *const options[] = { "ROLE", "TYPE", "CWD", "CHROOT", "TIMEOUT", "NOTBEFORE",
                                                "NOTAFTER", "APPARMOR_PROFILE", "PRIVS", "LIMITPRIVS" };
        static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+/*:[]";
        const char *p = s;
        size_t n;

        /* HOSTS = */
        for (;;) {
                p += strspn(p, " ");
                while (*p == '!')
                        p++;
                n = strspn(p, name_chars);
                if (n == 0)
                        return "expected a host list before '=' (for example ALL=(ALL) ALL)";
                p += n;
                p += strspn(p, " ");
                if (*p == ',') {
                        p++;
                        continue;
                }
                if (*p != '=')
                        return "expected '=' after the host list (for example ALL=(ALL) ALL)";
                p++;
                break;
        }

        /* command specifications, separated by ',' */
        for (;;) {
                p += strspn(p, " ");
                if (*p == '(') {
                        const char *end = strchr(p, ')');
                        if (!end)
                                return "a '(' of the run-as list is not closed";
                        for (const char *q = p + 1; q < end; q++)
                                if (!strchr(name_chars, *q) && !strchr(" ,!#%", *q))
                                        return "the run-as list in '(...)' holds a character sudo does not accept there";
                        p = end + 1;
                        p += strspn(p, " ");
                }
                for (bool more = true; more;) {
                        more = false;
                        n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
                        for (size_t i = 0; n > 0 && p[n] == '=' && i < ELEMENTSOF(options); i++)
                                if (strlen(options[i]) == n && strncmp(p, options[i], n) == 0) {
                                        p += n + 1;
                                        p += strcspn(p, " ");
                                        p += strspn(p, " ");
                                        more = true;
                                        break;
                                }
                        for (size_t i = 0; !more && n > 0 && p[n] == ':' && i < ELEMENTSOF(tags); i++)
                                if (strlen(tags[i]) == n && strncmp(p, tags[i], n) == 0) {
                                        p += n + 1;
                                        p += strspn(p, " ");
                                        more = true;
                                        break;
                                }
                        if (!more && n > 0 && p[n] == ':')
                                return "unknown tag before ':' (sudo knows NOPASSWD:, PASSWD:, NOEXEC:, EXEC:, "
                                       "SETENV:, NOSETENV:, LOG_INPUT:, LOG_OUTPUT:, MAIL:, FOLLOW:, INTERCEPT: "
                                       "and their NO forms)";
                }
                while (*p == '!')
                        p++;
                p += strspn(p, " ");
                if (*p == '/' || startswith(p, "sudoedit") || startswith(p, "list")) {
                        /* a command with arguments, up to an unescaped ',' */
                        for (; *p && *p != ','; p++) {
                                if (*p == '\\') {
                                        if (!p[1])
                                                return "a '\\' at the end of a sudo rule continues it onto a line "
                                                       "that does not exist";
                                        p++;
                                        continue;
                                }
                                if (*p == ':' || *p == '=' || *p == '#')
                                        return "':', '=' and '#' in command arguments must be escaped with '\\'";
                        }
                } else {
                        n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
                        if (n == 0 || !(p[0] >= 'A' && p[0] <= 'Z'))
                                return "expected a command: ALL, an alias, or an absolute path (for example "
                                       "ALL=(ALL) NOPASSWD: /usr/bin/apt-get)";
                        p += n;
                        p += strspn(p, " ");
                }
                if (*p == 0)
                        return NULL;
                if (*p != ',')
                        return "unexpected text after the command (several commands are separated by ',')";
                p++;
        }
}

static void parse_user_sudo(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;
        const char *s = ck_scalar(c, v);
        bool b;

        if (!s)
                return;
        if (ynode_bool(v, &b) >= 0) {
                if (b)
                        ck_strdup(c, SUDO_ALL, &us->user->sudo);
                return;
        }
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f) {
                        ck_error(c, v, "a sudo rule is one line without control characters");
                        return;
                }
        const char *why = !strchr(s, '=') ? "expected true, false or a rule such as 'ALL=(ALL) NOPASSWD:ALL'"
                                          : check_sudo_rule(s);
        if (why)
                ck_error(c, v, "invalid sudo rule '%s': %s", ck_quote(s).s, why);
        else
                ck_strdup(c, s, &us->user->sudo);
}

static void parse_user_uid(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;
        uint64_t u;

        if (ck_uint(c, v, 1, 59999, &u)) {
                us->user->uid = (uint32_t) u;
                us->user->has_uid = true;
        }
}

static void parse_user_home(Checker *c, const YNode *v, void *userdata) {
        UserState *us = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_mount_point(s);
        if (!why && streq(s, "/"))
                why = "must not be '/'";
        if (why)
                ck_error(c, v, "invalid home '%s': %s", ck_quote(s).s, why);
        else
                ck_strdup(c, s, &us->user->home);
}

static void parse_user_lock(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &((UserState *) userdata)->user->lock);
}

static const Field user_fields[] = {
        { "name", parse_user_name, true },
        { "gecos", parse_user_gecos, false },
        { "password_hash", parse_user_password_hash, false },
        { "password", parse_user_password, false },
        { "hash_password", parse_user_hash_password, false },
        { "ssh_authorized_keys", parse_user_ssh_keys, false },
        { "groups", parse_user_groups, false },
        { "shell", parse_user_shell, false },
        { "sudo", parse_user_sudo, false },
        { "uid", parse_user_uid, false },
        { "home", parse_user_home, false },
        { "lock", parse_user_lock, false },
};

/* root exists in every image: we only give it a password or keys. */
static void check_root(Checker *c, const UserState *us) {
        static const char *const not_for_root[] = { "gecos", "groups", "shell", "sudo", "uid", "home", "lock" };

        for (size_t i = 0; i < ELEMENTSOF(not_for_root); i++) {
                const YNode *k = ck_present_key(us->node, not_for_root[i]);
                if (k)
                        ck_error_key(c, k, not_for_root[i],
                                     "'%s' cannot be set for root (only a password and ssh_authorized_keys)",
                                     not_for_root[i]);
        }
}

static void check_user_keys(Checker *c, const UserState *us) {
        const ProfileUser *u = us->user;

        if (u->name && streq(u->name, "root"))
                check_root(c, us);
        /* A locked account without keys is meant to be unreachable (a service account). */
        if (!us->has_password && us->n_keys == 0 && !u->lock)
                ck_error(c, us->node, "%s%s%scould never log in: give it a password_hash "
                         "(not \"!\" or \"*\") or ssh_authorized_keys",
                         u->name ? "user '" : "", u->name ?: "", u->name ? "' " : "this user ");
}

/* A yescrypt hash of plain with a fresh random salt, as crypt(3) verifies it. */
static int hash_plaintext(const char *plain, char **ret) {
        _cleanup_free_ char *salt = NULL;
        struct crypt_data *cd;
        const char *h;
        int r = 0;

        errno = 0;
        salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
        if (!salt)
                return errno > 0 ? -errno : -EINVAL;
        cd = new0(struct crypt_data, 1);
        if (!cd)
                return -ENOMEM;
        errno = 0;
        h = crypt_r(plain, salt, cd);
        if (!h || h[0] == '*' || !startswith(h, "$y$"))
                r = errno > 0 ? -errno : -EINVAL;
        else if (!(*ret = strdup(h)))
                r = -ENOMEM;
        explicit_bzero(cd, sizeof(*cd));
        free(cd);
        return r;
}

/* password needs hash_password: true, and is then replaced by its hash. */
static void check_user_password(Checker *c, UserState *us) {
        YNode *pw = us->password;
        const YNode *pw_key = ck_key_node(us->node, "password");
        int r;

        if (!pw) {
                if (us->hash_password && !ck_present_key(us->node, "password"))
                        ck_error_key(c, ck_key_node(us->node, "hash_password"), "hash_password",
                                     "'hash_password: true' needs a 'password' to hash");
                return;
        }
        if (ck_present_key(us->node, "password_hash"))
                ck_error_key(c, pw_key, "password",
                             "give either 'password' (with 'hash_password: true') or 'password_hash', not both");
        else if (!us->hash_password && !us->hash_password_bad)
                ck_error_key(c, pw_key, "password",
                             "a plaintext password is refused unless the user also has 'hash_password: true' "
                             "(the installer then stores only its yescrypt hash); or give a password_hash "
                             "(make one with 'mkpasswd -m yescrypt')");
        else if (!pw->value[0])
                ck_error_key(c, pw, "password", "the password is empty");
        else {
                r = hash_plaintext(pw->value, &us->user->password_hash);
                if (r == -ENOMEM)
                        ck_oom(c);
                else if (r < 0)
                        ck_error_key(c, pw_key, "password", "cannot hash the password with yescrypt: %s",
                                     strerror(-r));
        }
        explicit_bzero(pw->value, strlen(pw->value));
}

static void check_user_unique(Checker *c, const Profile *p, size_t i, const YNode *node) {
        for (size_t j = 0; p->users[i].name && j < i; j++)
                if (streq_ptr(p->users[j].name, p->users[i].name)) {
                        ck_error_key(c, ck_value(node, "name"), "name", "user '%s' is already defined by users[%zu]",
                                     p->users[i].name, j);
                        return;
                }
        for (size_t j = 0; p->users[i].has_uid && j < i; j++)
                if (p->users[j].has_uid && p->users[j].uid == p->users[i].uid) {
                        ck_error_key(c, ck_value(node, "uid"), "uid", "UID %u is already given to users[%zu]",
                                     (unsigned) p->users[i].uid, j);
                        return;
                }
}

static void parse_user(Checker *c, const YNode *v, Profile *p, size_t i) {
        UserState us = { .user = &p->users[i], .node = v };

        us.user->line = v->line;
        us.user->column = v->column;
        if (!ck_fields(c, v, user_fields, ELEMENTSOF(user_fields), &us))
                return;
        check_user_password(c, &us);
        check_user_keys(c, &us);
        check_user_unique(c, p, i, v);
}

void profile_check_users_section(Checker *c, const YNode *v, Profile *p) {
        if (!ck_type(c, v, YNODE_SEQUENCE) || v->n == 0)
                return;
        p->users = new0(ProfileUser, v->n);
        if (!p->users) {
                ck_oom(c);
                return;
        }
        p->n_users = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                parse_user(c, v->items[i], p, i);
                ck_pop(c, mark);
        }
}

void profile_users_done(ProfileUser *users, size_t n) {
        for (size_t i = 0; i < n; i++) {
                ProfileUser *u = &users[i];
                free(u->name);
                free(u->gecos);
                if (u->password_hash) {
                        explicit_bzero(u->password_hash, strlen(u->password_hash));
                        free(u->password_hash);
                }
                strv_free(u->ssh_authorized_keys);
                strv_free(u->groups);
                free(u->shell);
                free(u->sudo);
                free(u->home);
        }
        free(users);
}
