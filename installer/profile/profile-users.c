/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The users: section: accounts to create (or, for root, to give access).
 * password_hash is a secret: no message ever contains it. */
#include "profile/profile-internal.h"

#define SUDO_ALL "ALL=(ALL:ALL) ALL"

typedef struct UserState {
        ProfileUser *user;
        const YNode *node;
        bool has_password;  /* a password_hash that is not a lock ("!", "*"), valid or not */
        size_t n_keys;      /* items in ssh_authorized_keys, valid or not */
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

        us->has_password = !s || (!streq(s, "!") && !streq(s, "*")); /* a bad type is reported once */
        if (!s)
                return;
        why = profile_check_password_hash(s);
        if (why)
                ck_error(c, v, "invalid password_hash: %s", why); /* never the value: it is a secret */
        else
                ck_strdup(c, s, &us->user->password_hash);
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
        if (!strchr(s, '='))
                ck_error(c, v, "invalid sudo rule '%s': expected true, false or a rule such as "
                         "'ALL=(ALL) NOPASSWD:ALL'", ck_quote(s).s);
        else
                ck_strdup(c, s, &us->user->sudo);
}

static const Field user_fields[] = {
        { "name", parse_user_name, true },
        { "gecos", parse_user_gecos, false },
        { "password_hash", parse_user_password_hash, false },
        { "ssh_authorized_keys", parse_user_ssh_keys, false },
        { "groups", parse_user_groups, false },
        { "shell", parse_user_shell, false },
        { "sudo", parse_user_sudo, false },
};

/* root exists in every image: we only give it a password or keys. */
static void check_root(Checker *c, const UserState *us) {
        static const char *const not_for_root[] = { "gecos", "groups", "shell", "sudo" };

        for (size_t i = 0; i < ELEMENTSOF(not_for_root); i++) {
                const YNode *k = ck_present_key(us->node, not_for_root[i]);
                if (k)
                        ck_error_key(c, k, not_for_root[i],
                                     "'%s' cannot be set for root (only password_hash and ssh_authorized_keys)",
                                     not_for_root[i]);
        }
}

static void check_user_keys(Checker *c, const UserState *us) {
        const ProfileUser *u = us->user;

        if (u->name && streq(u->name, "root"))
                check_root(c, us);
        if (!us->has_password && us->n_keys == 0)
                ck_error(c, us->node, "%s%s%scould never log in: give it a password_hash "
                         "(not \"!\" or \"*\") or ssh_authorized_keys",
                         u->name ? "user '" : "", u->name ?: "", u->name ? "' " : "this user ");
}

static void check_user_unique(Checker *c, const Profile *p, size_t i, const YNode *node) {
        for (size_t j = 0; p->users[i].name && j < i; j++)
                if (streq_ptr(p->users[j].name, p->users[i].name)) {
                        ck_error_key(c, ck_value(node, "name"), "name", "user '%s' is already defined by users[%zu]",
                                     p->users[i].name, j);
                        return;
                }
}

static void parse_user(Checker *c, const YNode *v, Profile *p, size_t i) {
        UserState us = { .user = &p->users[i], .node = v };

        us.user->line = v->line;
        us.user->column = v->column;
        if (!ck_fields(c, v, user_fields, ELEMENTSOF(user_fields), &us))
                return;
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
        }
        free(users);
}
