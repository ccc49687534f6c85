/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to installer/profile: the checker that walks a YDoc, fills the
 * Profile structs and collects every problem it finds.
 *
 * Validation problems are collected, not returned: a check function records
 * a problem with ck_error() and carries on with the next key, so one run
 * reports everything. The only failure that stops the walk is running out of
 * memory; it is remembered in Checker.r (first one wins) and returned by
 * profile_load_*(). Check functions therefore return void. */

#include <stdint.h>

#include "basic/strutil.h"
#include "profile/profile.h"
#include "ydoc/ydoc.h"

typedef struct Checker {
        const char *file;       /* for messages */
        ProfileErrors *errors;  /* where problems go */
        size_t n_errors;        /* problems recorded by this checker */
        StrBuf path;            /* current dotted key path */
        int r;                  /* first fatal error (-ENOMEM), or 0 */
} Checker;

void ck_done(Checker *c);
void ck_oom(Checker *c);

/* The key path. ck_push_*() return a mark for ck_pop(). */
size_t ck_push_key(Checker *c, const char *key);
size_t ck_push_index(Checker *c, size_t i);
void ck_pop(Checker *c, size_t mark);

/* Record a problem at node 'at' (position unknown when NULL) under the current
 * path, or under current path + "." + key. */
void ck_error(Checker *c, const YNode *at, const char *fmt, ...) _printf_(3, 4);
void ck_error_key(Checker *c, const YNode *at, const char *key, const char *fmt, ...) _printf_(4, 5);

/* A user-supplied value made safe for a message: at most 60 bytes of it,
 * control characters written as \xNN. Only for values that are not secret. */
typedef struct Quoted {
        char s[256];
} Quoted;
Quoted ck_quote(const char *s);

/* Type checks: report "expected X, got Y" and return false/NULL on mismatch. */
bool ck_type(Checker *c, const YNode *v, YNodeType t);
const char *ck_scalar(Checker *c, const YNode *v);
bool ck_bool(Checker *c, const YNode *v, bool *ret);
bool ck_uint(Checker *c, const YNode *v, uint64_t min, uint64_t max, uint64_t *ret);
/* One of names[]; returns the index, or -1 after reporting (with a "did you
 * mean" suggestion where one is close). */
int ck_enum(Checker *c, const YNode *v, const char *what, const char *const *names, size_t n);
/* strdup that records -ENOMEM. */
bool ck_strdup(Checker *c, const char *s, char **ret);

/* The table-driven mapping walk. For each key of m in document order: unknown
 * keys are reported at the key (with a suggestion), keys whose parse is NULL
 * are reported as "not supported yet", null values are treated as absent,
 * everything else is handed to parse() with the key pushed on the path.
 * Required keys that are absent are reported at m. Returns false if m is not
 * a mapping (reported). */
typedef void (*FieldFunc)(Checker *c, const YNode *value, void *userdata);
typedef struct Field {
        const char *key;
        FieldFunc parse;
        bool required;
} Field;
bool ck_fields(Checker *c, const YNode *m, const Field *fields, size_t n, void *userdata);

/* The key node (not the value) of an entry in mapping m, or NULL. */
const YNode *ck_key_node(const YNode *m, const char *key);
/* The value node, but NULL for null values (which count as absent). */
const YNode *ck_value(const YNode *m, const char *key);
/* The key node of an entry whose value is not null: for reporting a key that
 * is present but not allowed. */
const YNode *ck_present_key(const YNode *m, const char *key);

/* A list of strings, each checked by validate() (returns NULL if fine, else
 * the reason). Problems are reported per item as "invalid WHAT 'VALUE': REASON"
 * (without the value when echo is false). Valid items are appended to *ret. */
typedef const char *(*ValidateFunc)(const char *s);
void ck_strv(Checker *c, const YNode *v, const char *what, bool echo, ValidateFunc validate, char ***ret);
/* A MAC address scalar normalised into mac; false (with an error) if it is not one. */
bool ck_mac(Checker *c, const YNode *v, char mac[static 18]);
/* A scalar checked by validate (which returns NULL or why it is invalid),
 * copied to *ret when valid (true); "invalid WHAT 'VALUE': why" otherwise. */
bool ck_validated(Checker *c, const YNode *v, const char *what, ValidateFunc validate, char **ret);
/* A sha256 (64 hex digits) copied to *ret in lower case; an error otherwise. */
void ck_sha256(Checker *c, const YNode *v, char **ret);

/* ---- validators (profile-validate.c): NULL if fine, else why not ---------- */

const char *profile_check_hostname(const char *s);
const char *profile_check_domain(const char *s);
const char *profile_check_user_name(const char *s);
const char *profile_check_password_hash(const char *s);
const char *profile_check_ssh_key(const char *s);
const char *profile_check_abs_path(const char *s);
const char *profile_check_mount_point(const char *s);
const char *profile_check_ip(const char *s);
const char *profile_check_ip4(const char *s);
const char *profile_check_ip6(const char *s);
const char *profile_check_cidr(const char *s);
const char *profile_check_url(const char *s);
/* A relative reference (RFC 3986 section 4.2) to an image: NULL if fine,
 * else why not. */
const char *profile_check_url_reference(const char *s);
const char *profile_check_sha256(const char *s);
/* Characters a GPT partition name takes in UTF-16 code units. */
size_t profile_utf16_length(const char *s);
/* Address family of an IP address or CIDR string: AF_INET, AF_INET6 or -1. */
int profile_ip_family(const char *s);

/* ---- sections (one file each) ------------------------------------------------ */

void profile_check_disk_section(Checker *c, const YNode *v, ProfileDisk *disk);
void profile_check_users_section(Checker *c, const YNode *v, Profile *p);
void profile_check_network_section(Checker *c, const YNode *v, ProfileNetwork *net);
void profile_check_match_section(Checker *c, const YNode *v, ProfileMatch *m);
/* profile-system.c: one top-level key each; userdata is the Profile. */
void profile_parse_groups(Checker *c, const YNode *v, void *userdata);
void profile_parse_ssh(Checker *c, const YNode *v, void *userdata);
void profile_parse_files(Checker *c, const YNode *v, void *userdata);
void profile_parse_packages(Checker *c, const YNode *v, void *userdata);
void profile_parse_apt(Checker *c, const YNode *v, void *userdata);
void profile_parse_post_install(Checker *c, const YNode *v, void *userdata);
void profile_parse_timezone(Checker *c, const YNode *v, void *userdata);
void profile_parse_locale(Checker *c, const YNode *v, void *userdata);
void profile_parse_keyboard(Checker *c, const YNode *v, void *userdata);
void profile_parse_ntp(Checker *c, const YNode *v, void *userdata);
void profile_parse_timeouts(Checker *c, const YNode *v, void *userdata);
/* profile-fetch.c: fetch: (userdata: the Profile). */
void profile_parse_fetch(Checker *c, const YNode *v, void *userdata);
void profile_parse_bootloader(Checker *c, const YNode *v, void *userdata);
/* profile-tls.c: tls: (userdata: the Profile). */
void profile_parse_tls(Checker *c, const YNode *v, void *userdata);
void profile_tls_done(ProfileTls *t);
/* After the walk: checks across sections (user groups, firstboot packages). */
void profile_check_system(Checker *c, const YNode *root, Profile *p);
void profile_system_done(Profile *p);

/* profile-disk.c, shared with profile-storage.c */
size_t profile_fs_label_max(FsType t);
bool profile_fs_is_mounted(FsType t);
const char *profile_check_label(const char *s);
bool profile_parse_byte_size(Checker *c, const YNode *v, uint64_t *ret);
bool profile_parse_size(Checker *c, const YNode *v, PartitionSize *ret);

/* profile-storage.c: raid:, lvm:, luks: and the checks across disk, raid and lvm. */
const char *profile_check_md_name(const char *s);
const char *profile_check_lvm_name(const char *s);
void profile_parse_luks(Checker *c, const YNode *v, ProfileLuks **ret);
void profile_luks_free(ProfileLuks *l);
void profile_check_raid_section(Checker *c, const YNode *v, Profile *p);
void profile_check_lvm_section(Checker *c, const YNode *v, Profile *p);
/* After every section is read: references (raid:/lvm: names), mount points
 * across partitions, arrays and volumes, the root filesystem. */
void profile_check_storage(Checker *c, const YNode *root, Profile *p);
void profile_storage_done(Profile *p);

void profile_disk_done(ProfileDisk *d);
void profile_users_done(ProfileUser *users, size_t n);
void profile_network_done(ProfileNetwork *n);
void profile_match_done(ProfileMatch *m);

/* ---- loading (profile.c, profile-include.c) ------------------------------------------- */

/* ydoc reports "NAME:LINE:COL: MESSAGE"; record it with the position apart. */
int profile_add_syntax_error(ProfileErrors *e, const char *name, const char *msg);

#define PROFILE_INCLUDE_MAX_DEPTH 4   /* profile -> f1 -> f2 -> f3 -> f4 */
#define PROFILE_INCLUDE_MAX_FILES 32  /* fragments in all */

/* Replace p->doc->root by the merge of its fragments and itself (docs/profile.md).
 * The fragments' documents go to p->fragments. Problems are appended to
 * errors (-EINVAL); fn NULL makes 'include' an error. Returns 0, -EINVAL or
 * -ENOMEM. */
int profile_resolve_includes(Profile *p, ProfileIncludeFn fn, void *userdata, ProfileErrors *errors);
