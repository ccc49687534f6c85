/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The boot decision and the iPXE scripts (docs/site.md, "Boot answers").
 * Everything here is pure: no I/O, no store; answer.c's request handler
 * (answer_handle_answer in http.h) does the store work around it. */

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "store.h"

typedef enum AnswerKind {
        ANSWER_INSTALL,   /* boot the installer, a new install attempt */
        ANSWER_DISCOVER,  /* boot the installer in discover mode (inventory, then wait) */
        ANSWER_LOCAL,     /* boot the local disk */
        ANSWER_HOLD,      /* show a message, ask again in 30 s */
} AnswerKind;
const char *answer_kind_to_string(AnswerKind k);

/* The state a machine seen for the first time is created in. */
MachineState answer_initial_state(SitePolicy policy);
/* What a machine (NULL: not known yet) gets when it asks. */
AnswerKind answer_decide(const Machine *m, SitePolicy policy);

typedef struct AnswerScript {
        const char *base_url;     /* ends with '/' */
        const char *append;       /* extra kernel arguments, NULL = none */
} AnswerScript;

/* GET /boot.ipxe: DHCP (retried), then chain to /ipxe/answer with the
 * machine's identity. */
char *answer_script_boot(const AnswerScript *c);
/* INSTALL or DISCOVER: the installer's kernel and initrd. profile NULL =
 * the installer looks it up under URL/profiles/. */
char *answer_script_installer(const AnswerScript *c, int64_t machine_id, const char *token,
                              const char *profile, bool discover);
/* LOCAL: the first disk. platform "efi" -> exit (the firmware boots the
 * next boot entry); otherwise (pcbios, unknown) sanboot the first BIOS disk,
 * exit when that fails. */
char *answer_script_local(const char *platform);
/* HOLD: the message on screen, then ask again in 30 s. */
char *answer_script_hold(const AnswerScript *c, const char *message);
/* The message shown to a held or failed machine. attempt: its latest install
 * attempt (NULL when none). */
char *answer_hold_message(const Machine *m, const Attempt *attempt);
/* Text safe to put on an iPXE command line: printable ASCII without
 * $ " ' \ | & ; # ` and at most 200 characters; anything else becomes '_'. */
char *answer_ipxe_safe(const char *text);
