/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The phase runner: what `installer run` does on a booting machine. */

#include "cmdline/cmdline.h"
#include "hw/hw.h"

/* Exit codes of the installer; documented in docs/installer.md. */
typedef enum InstallerExit {
        EXIT_OK = 0,
        EXIT_FAILURE_GENERIC = 1,
        EXIT_USAGE = 2,
        EXIT_PROFILE_INVALID = 3,  /* the profile does not validate */
        EXIT_PLAN_FAILED = 4,      /* no disk / does not fit / disk holds data */
        EXIT_FETCH_FAILED = 5,     /* profile or image could not be fetched */
        EXIT_INSTALL_FAILED = 6,   /* writing the target failed */
        EXIT_CHECKSUM = 7,         /* the image does not match its sha256 */
        EXIT_PROFILE_MISMATCH = 8, /* the profile's match: block disagrees with this machine */
} InstallerExit;

typedef struct InstallOptions {
        const char *sysroot;       /* for /sys and /proc; NULL = "/" */
        bool dry_run;              /* stop after the plan */
        bool print_inventory;      /* print the inventory JSON on the console */
} InstallOptions;

/* The URLs tried, in order, for this machine's profile: by MAC of the booting
 * NIC, by SMBIOS UUID, by serial number, then the default. */
int install_profile_candidates(const BootParams *bp, const Inventory *inv, char ***ret);

/* Run the whole installation. Returns an InstallerExit code. */
int install_run(const BootParams *bp, const InstallOptions *opts);

typedef struct Plan Plan;

/* The key files of the plan's LUKS2 volumes (keys.c), one per plan->luks[]. */
typedef struct InstallKey {
        char *data;                /* SECRET */
        size_t size;
} InstallKey;
typedef struct InstallKeys {
        InstallKey *v;
        size_t n;
} InstallKeys;
/* Fetch (fetch_to_buffer(), at most 1 MiB) and check (key_sha256) every
 * key file, before anything is written. Returns EXIT_OK, or
 * EXIT_FETCH_FAILED (cannot fetch, empty) / EXIT_CHECKSUM (key_sha256
 * differs) with the reason appended to errors at the luks: entry. The URLs'
 * credentials and the keys' text lines become secrets (report_secret_add). */
typedef struct ProfileErrors ProfileErrors;
int install_fetch_keys(const Plan *plan, InstallKeys *ret_keys, ProfileErrors *errors);
/* Overwrite and free the keys. */
void install_keys_done(InstallKeys *k);

/* Carry out a validated plan: partition, make filesystems, stream the image,
 * configure the target, install the bootloader. keys: from
 * install_fetch_keys(). Returns an InstallerExit. */
int install_apply(const Plan *plan, const BootParams *bp, const InstallKeys *keys);
