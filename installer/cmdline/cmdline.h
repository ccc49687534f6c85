/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The installer's kernel command-line parameters (all start with "inst.").
 * Read from /proc/cmdline, or from $INSTALLER_PROC_CMDLINE when set (tests,
 * like systemd's $SYSTEMD_PROC_CMDLINE). See docs/boot.md. */

#include "basic/log.h"
#include "basic/macro.h"

/* inst.mode=: what `installer` is booted for (docs/boot.md). */
typedef enum BootMode {
        BOOT_MODE_INSTALL,    /* install (the default): `installer run` */
        BOOT_MODE_DISCOVER,   /* discover: `installer discover` reports the hardware and waits */
} BootMode;

const char *boot_mode_to_string(BootMode m);

typedef struct BootParams {
        char *profiles_url;   /* inst.profiles=URL  base of the profile tree */
        char *profile_url;    /* inst.profile=URL   one explicit profile */
        char *mac;            /* inst.mac=          booting NIC, normalised */
        char *uuid;           /* inst.uuid=         SMBIOS UUID, lower case */
        char *serial;         /* inst.serial=       SMBIOS serial (URI-decoded) */
        char *report_url;     /* inst.report=URL    where events go (docs/events.md) */
        char *report_token;   /* inst.report.token= bearer token; SECRET: never print */
        char *medium;         /* inst.medium=       LABEL=NAME or UUID=UUID of the boot medium */
        char *finish;         /* inst.finish=       reboot|poweroff|shell (for /init) */
        BootMode mode;        /* inst.mode=         install|discover */
        char *wait_url;       /* inst.wait=URL      discover: asked until it says "reboot" */
        bool dry_run;         /* inst.dryrun        plan only, never write */
        bool insecure;        /* inst.insecure      allow http:// without checks */
        int log_level;        /* inst.loglevel=, inst.debug; -1 when unset */
        char **unknown;       /* inst.* words we do not know (warned about) */
} BootParams;

/* Parse a command line. Words may be quoted with "..." as the kernel allows.
 * Returns 0, or -EINVAL with *ret_error naming the bad word. Words without the
 * "inst." prefix are ignored. */
int cmdline_parse(const char *line, BootParams *ret, char **ret_error);
/* Read and parse $INSTALLER_PROC_CMDLINE or /proc/cmdline. */
int cmdline_read(BootParams *ret, char **ret_error);
void cmdline_done(BootParams *p);

/* Decode %XX escapes (iPXE's ${var:uristring}); returns NULL on OOM or on a
 * malformed escape. */
char *cmdline_uri_decode(const char *s);
