/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Machines, attempts and events as JSON (jansson), the shapes of
 * SITE-SPEC.md / docs/site.md ("MACHINE", "ATTEMPT"). NULL when out of memory. */

#include <jansson.h>
#include <stdint.h>

#include "store.h"

/* RFC 3339 UTC with microseconds, "2026-12-07T18:00:00.000000Z"; buf of at
 * least 64 bytes. */
char *json_format_time(int64_t usec, char buf[static 64]);
/* A time as a JSON string, null for 0. */
json_t *json_time(int64_t usec);
/* Parse RFC 3339 ("...Z" or "+HH:MM", fraction optional) to usec; -EINVAL. */
int json_parse_time(const char *s, int64_t *ret);

/* MACHINE; current = the machine's latest attempt (NULL: "attempt":null). */
json_t *json_machine(const Machine *m, const Attempt *current);
/* ATTEMPT; events = its stored events (to build "phases"), NULL = no "phases". */
json_t *json_attempt(const Attempt *a, const StoredEvent *events, size_t n_events);
json_t *json_audit(const AuditEntry *a);
