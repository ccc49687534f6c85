/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The site server's memory: machines, install attempts, events, inventories,
 * logs, operator actions. One interface, two backends chosen by the URL given
 * to store_open(): SQLite (WAL; the default, one file created on first open)
 * and PostgreSQL (libpq). The logic is written once in store.c in SQL that
 * both understand; server/db.h is the driver edge (db-sqlite.c, db-pg.c).
 *
 * A Store is one connection: not thread-safe. The HTTP layer keeps a pool.
 * Every function returns >= 0 on success, -errno on failure; on failure a
 * message is available from store_error() until the next call. Times are
 * microseconds since the epoch (CLOCK_REALTIME), stored as integers.
 * Every state change is one transaction: two servers sharing one PostgreSQL
 * may call these concurrently. docs/site.md documents the states. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Store Store;

/* "sqlite:PATH", "sqlite://PATH", a plain PATH (SQLite), or
 * "postgresql://..." / "postgres://..." (any libpq URI or "host=... dbname=..."
 * after "postgresql:"). Creates the schema when missing (idempotent, safe when
 * two servers start at once). *ret_error (may be NULL) gets a message
 * without credentials. */
int store_open(const char *url, Store **ret, char **ret_error);
void store_close(Store *s);
const char *store_error(Store *s);
const char *store_backend(const Store *s); /* "sqlite" or "postgresql" */

typedef enum MachineState {
        MACHINE_DISCOVERED,  /* known, inventory taken or coming; waits for the operator */
        MACHINE_READY,       /* will install at its next network boot */
        MACHINE_INSTALLING,  /* an install attempt was handed out and has not finished */
        MACHINE_INSTALLED,   /* last install finished with exit status 0: boots its disk */
        MACHINE_FAILED,      /* last install finished non-zero (or never finished): held with the error */
        MACHINE_HELD,        /* the operator held it: a message on screen, nothing else */
        _MACHINE_STATE_MAX,
} MachineState;
const char *machine_state_to_string(MachineState s);
int machine_state_from_string(const char *s); /* -EINVAL when unknown */

typedef struct Machine {
        int64_t id;                 /* the server's own number, 1, 2, ... */
        char *mac;                  /* booting NIC, "52:54:00:12:34:56" (lower case); never NULL */
        char *uuid;                 /* SMBIOS UUID, lower case; NULL when unknown/placeholder */
        char *serial;               /* SMBIOS serial; NULL when unknown/placeholder */
        char *platform;             /* iPXE ${platform}: "pcbios" or "efi"; NULL when unknown */
        char *hostname;             /* the profile's, from the "configure" start event ("hostname NAME, ..."),
                                     * or an inventory's "hostname"; NULL when unknown */
        MachineState state;
        MachineState prior_state;   /* the state before "held" (meaningful when state == HELD) */
        char *profile;              /* the operator's assignment (a name under the profiles dir), NULL = lookup */
        char *message;              /* hold message, NULL = none */
        int64_t created, state_since, last_seen;
        int64_t current_install;    /* the latest attempt's id, 0 = none */
        /* Of the latest attempt, from its events: */
        char *phase;                /* the phase running now (or that failed), NULL */
        char *last_error;           /* the last "error" event's message, NULL */
        int64_t progress_done, progress_total; /* bytes; total 0 = unknown; both 0 = no progress yet */
        double progress_rate, progress_eta;    /* bytes/s, seconds (eta < 0 = unknown) */
        int64_t progress_time;      /* when the last progress event arrived, 0 = never */
        bool has_inventory;
} Machine;
void machine_done(Machine *m);          /* frees the strings, not m */
void machine_list_free(Machine *l, size_t n);

/* Find by MAC, else by UUID, else by serial (each may be NULL). -ENOENT. */
int store_machine_find(Store *s, const char *mac, const char *uuid, const char *serial, Machine *ret);
int store_machine_get(Store *s, int64_t id, Machine *ret);
/* An operator's name for a machine: its number, MAC, UUID, serial or hostname.
 * -ENOENT none, -ENOTUNIQ more than one. */
int store_machine_resolve(Store *s, const char *name, Machine *ret);
/* 1: created; 0: a machine with this MAC existed already (two servers saw
 * it at once) and *ret is that one, its state unchanged. */
int store_machine_create(Store *s, const char *mac, const char *uuid, const char *serial, const char *platform,
                         MachineState state, int64_t now, Machine *ret);
/* Record a boot request: last_seen, and uuid/serial/platform when given. */
int store_machine_seen(Store *s, int64_t id, const char *uuid, const char *serial, const char *platform, int64_t now);
int store_machine_list(Store *s, Machine **ret, size_t *ret_n); /* ordered by id */

/* Operator actions. Each records an audit entry (store_audit_list) and
 * applies from any state:
 *   reinstall  -> READY (a new attempt at the next boot; consent to wipe is the profile's)
 *   hold       -> HELD, prior_state kept, message set (NULL = a default text)
 *   release    -> from HELD: READY when prior_state was DISCOVERED or FAILED, else prior_state;
 *                 from DISCOVERED or FAILED: READY; other states: unchanged (returns 0)
 *   assign     -> profile set (NULL clears); state unchanged
 *   forget     -> the machine and everything about it deleted (its audit entries stay;
 *                 numbers are never reused) */
int store_machine_reinstall(Store *s, int64_t id, const char *actor, int64_t now);
int store_machine_hold(Store *s, int64_t id, const char *message, const char *actor, int64_t now);
int store_machine_release(Store *s, int64_t id, const char *actor, int64_t now);
int store_machine_assign(Store *s, int64_t id, const char *profile, const char *actor, int64_t now);
int store_machine_forget(Store *s, int64_t id, const char *actor, int64_t now);

/* Install attempts ("discover" attempts take the inventory only). */
typedef enum AttemptKind { ATTEMPT_INSTALL, ATTEMPT_DISCOVER } AttemptKind;
typedef struct Attempt {
        int64_t id, machine_id;
        int number;                 /* 1, 2, ... per machine and kind */
        AttemptKind kind;
        char *profile;              /* what the boot answer pointed at (name or "lookup") */
        int64_t started, finished;  /* finished 0 = not finished */
        int exit_status;            /* -1 = not finished */
        int64_t events;             /* events stored */
        bool has_log;
} Attempt;
void attempt_done(Attempt *a);
void attempt_list_free(Attempt *l, size_t n);

/* A boot answer that boots the installer: a new attempt with the token's
 * SHA-256 (hex) as its credential. For ATTEMPT_INSTALL the machine moves to
 * INSTALLING. For both kinds its phase/error/progress are cleared and
 * current_install = the new id (a discover run shows its phases too; only an
 * install's finish moves the state). -EEXIST: the token hash is taken. */
int store_attempt_begin(Store *s, int64_t machine_id, AttemptKind kind, const char *profile,
                        const char *token_sha256_hex, int64_t now, int64_t *ret_attempt_id);
/* The attempt (and so the machine) a token belongs to: -ENOENT. The caller
 * hashes the presented token and the lookup is by hash (constant time is the
 * caller's: compare with CRYPTO_memcmp after the lookup). */
int store_attempt_by_token(Store *s, const char *token_sha256_hex, Attempt *ret, char **ret_token_hash);
int store_attempt_list(Store *s, int64_t machine_id, Attempt **ret, size_t *ret_n); /* oldest first */

/* One event as parsed by the HTTP layer (server/intake.c, jansson). json is
 * the event as received (one line, already validated). */
typedef struct IntakeEvent {
        int64_t seq;                /* >= 1 */
        const char *phase;          /* NULL allowed */
        const char *type;           /* start finish progress info error */
        const char *level, *result, *message; /* NULL allowed */
        int exit_status;            /* -1 when absent */
        double duration;            /* -1 when absent */
        int64_t progress_done, progress_total; double progress_rate, progress_eta; /* progress only */
        int64_t time;               /* the event's own time (usec), 0 when unparsable */
        const char *json;
} IntakeEvent;
/* Store events of one attempt in one transaction; an event whose seq is
 * already stored for that attempt is dropped (*ret_new counts the new ones).
 * Updates the machine's phase/progress/last_error from the new events when
 * the attempt is its current one, and on the "install" phase's finish: the
 * attempt's exit status, and the machine INSTALLED (0) or FAILED (non-zero)
 * when it is INSTALLING this attempt. */
int store_events_add(Store *s, int64_t attempt_id, const IntakeEvent *ev, size_t n, int64_t now, size_t *ret_new);

typedef struct StoredEvent {
        int64_t seq, received, time;
        char *phase, *type, *json;
} StoredEvent;
void stored_event_list_free(StoredEvent *l, size_t n);
/* Events of one attempt by seq, at most limit (0 = all), after after_seq. */
int store_events_list(Store *s, int64_t attempt_id, int64_t after_seq, size_t limit, StoredEvent **ret, size_t *ret_n);

/* The inventory (installer inventory --json, stored verbatim) of a machine:
 * the latest replaces the earlier. hostname may be NULL. */
int store_inventory_set(Store *s, int64_t machine_id, int64_t attempt_id, const char *json, int64_t now);
int store_inventory_get(Store *s, int64_t machine_id, char **ret_json); /* -ENOENT */
/* The failure log of an attempt (the latest upload replaces an earlier one). */
int store_log_set(Store *s, int64_t attempt_id, const char *text, size_t size, int64_t now);
int store_log_get(Store *s, int64_t attempt_id, char **ret_text, size_t *ret_size); /* -ENOENT */

/* The operator token (its SHA-256, hex) and other settings: key -> value. */
int store_setting_get(Store *s, const char *key, char **ret); /* -ENOENT */
int store_setting_set(Store *s, const char *key, const char *value);
/* Set only when unset: 1 when this call set it, 0 when it was already set. */
int store_setting_init(Store *s, const char *key, const char *value);

typedef struct AuditEntry {
        int64_t time, machine_id;
        char *actor, *action, *detail;
} AuditEntry;
void audit_list_free(AuditEntry *l, size_t n);
int store_audit_add(Store *s, int64_t machine_id, const char *actor, const char *action, const char *detail, int64_t now);
int store_audit_list(Store *s, int64_t machine_id, AuditEntry **ret, size_t *ret_n); /* machine_id 0 = all */
