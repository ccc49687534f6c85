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
        EXIT_SIGNATURE = 9,        /* a signature was refused, or the trusted keys are unreadable (trust/) */
} InstallerExit;

typedef struct InstallOptions {
        const char *sysroot;       /* for /sys and /proc; NULL = "/" */
        bool dry_run;              /* stop after the plan */
        bool print_inventory;      /* print the inventory JSON on the console */
        const char *keys_path;     /* trusted keys; NULL = TRUST_KEYRING_PATH (absent: none) */
} InstallOptions;

/* The URLs tried, in order, for this machine's profile: by MAC of the booting
 * NIC, by SMBIOS UUID, by serial number, then the default. */
int install_profile_candidates(const BootParams *bp, const Inventory *inv, char ***ret);

/* Mount the boot medium (inst.medium=, phase "medium") and detect the
 * hardware (phase "detect"); print the inventory (print_inventory) and queue
 * its upload to the report URL (report_upload_inventory()). The one path of
 * `installer run` and `installer discover`. Returns EXIT_OK with *ret set,
 * EXIT_FETCH_FAILED (the medium) or EXIT_FAILURE_GENERIC. */
int install_detect(const BootParams *bp, const InstallOptions *opts, Inventory **ret);

/* Run the whole installation. Returns an InstallerExit code. */
int install_run(const BootParams *bp, const InstallOptions *opts);

/* `installer discover`: detect the hardware and upload the inventory
 * (install_detect()), then, with inst.wait=URL, ask that URL (GET, bearer
 * token inst.report.token) every DISCOVER_POLL_SEC until it answers
 * {"action":"reboot"} (phase "discover"); without inst.wait= return at once.
 * Writes nothing to any disk. Returns EXIT_OK, EXIT_FAILURE_GENERIC or
 * EXIT_FETCH_FAILED (the medium), or EXIT_FAILURE_GENERIC after a signal
 * (the caller makes it 128+N). */
#define DISCOVER_POLL_SEC 10
#define DISCOVER_REQUEST_TIMEOUT_SEC 10
#define DISCOVER_MESSAGE_SEC 60
int install_discover(const BootParams *bp, const InstallOptions *opts);

/* The answer of inst.wait=URL: a JSON object {"action":"wait"|"reboot",
 * "state":"..."}; other keys are ignored. Returns 0 with *ret_action and
 * *ret_state (a printable copy, NULL when absent), -EINVAL (not JSON) or
 * -EBADMSG (no or an unknown action, not an object) with *ret_error, -ENOMEM. */
typedef enum DiscoverAction {
        DISCOVER_WAIT,
        DISCOVER_REBOOT,
} DiscoverAction;
int install_discover_parse_answer(const char *data, size_t size, DiscoverAction *ret_action, char **ret_state,
                                  char **ret_error);

typedef struct Plan Plan;
typedef struct Profile Profile;
typedef struct ProfileErrors ProfileErrors;

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
int install_fetch_keys(const Plan *plan, InstallKeys *ret_keys, ProfileErrors *errors);
/* Overwrite and free the keys. */
void install_keys_done(InstallKeys *k);

/* The profile's tls.ca (tls.c, docs/tls.md): each CA fetched (relative
 * URLs against the document that names them: doc_names[i] was fetched from
 * doc_urls[i]) over what is trusted so far, checked against its pinned
 * sha256, and, once all are good, trusted for every later https request.
 * Returns EXIT_OK, EXIT_FETCH_FAILED (cannot fetch) or EXIT_CHECKSUM (not
 * the pinned certificate, or not a CA certificate) with the reason appended
 * to errors at the tls.ca entry, EXIT_FAILURE_GENERIC (out of memory). */
int install_tls(const Profile *p, char *const *doc_names, char *const *doc_urls, ProfileErrors *errors);
/* The image's manifest (docs/manifest.md): from image.manifest, or, when
 * required (trusted keys in the boot image) and the profile names none, from
 * image.url + ".manifest". Fetched (trust_fetch: its signature checked first
 * when there are trusted keys; at most MANIFEST_DOCUMENT_MAX) and parsed as phase "fetch-manifest", which prints
 * "image: N bytes, K chunks of 4 MiB, manifest sha256 HEX"; the profile's
 * image.sha256, when given, must be the manifest's. Returns EXIT_OK with
 * *ret (NULL when there is no manifest and none is required),
 * EXIT_FETCH_FAILED (cannot fetch, malformed), EXIT_SIGNATURE (its
 * signature refused), EXIT_CHECKSUM (sha256 differs) or EXIT_FAILURE_GENERIC. Writes nothing. */
typedef struct Manifest Manifest;
int install_fetch_manifest(const Profile *profile, bool required, Manifest **ret);

/* Is the profile for this machine (its match: block), and the plan for it:
 * the one path of `installer plan` and `installer run`. With phases, each
 * step is a reported phase ("match", "plan") and the plan is printed on
 * stdout; without, nothing is printed (the caller prints errors and the
 * plan). Returns EXIT_OK with *ret_plan set, EXIT_PROFILE_MISMATCH or
 * EXIT_PLAN_FAILED with the reasons appended to errors, EXIT_FAILURE_GENERIC
 * (out of memory, or a failure without a reason). Writes nothing. */
int install_plan(const Inventory *inv, const Profile *profile, bool phases, Plan **ret_plan, ProfileErrors *errors);

/* The installed system's configuration from the profile, below root: the
 * one path of `installer run` (after the image) and `installer configure
 * --root`. Phases: configure (fstab when mounts are given, hostname, network,
 * users, first boot ...), files, then with chroot_steps packages, locale and
 * post-install, which run the target's own programs in a chroot. */
typedef struct TargetMount TargetMount;
typedef struct InstallTarget {
        const char *root;
        const Profile *profile;
        const TargetMount *mounts; /* fstab; none: no fstab written */
        size_t n_mounts;
        const char *boot_mac;      /* may be NULL */
        const char *instance_id;   /* cloud-init meta-data instance-id */
        bool chroot_steps;
} InstallTarget;
/* Returns EXIT_OK, EXIT_CHECKSUM (a file's sha256 differs) or
 * EXIT_INSTALL_FAILED; the failure is logged and its phase reported. */
int install_configure(const InstallTarget *t);

/* Carry out a validated plan: partition, make filesystems, stream the image,
 * configure the target, install the bootloader. keys: from
 * install_fetch_keys(); manifest: from install_fetch_manifest() (may be
 * NULL). Returns an InstallerExit. */
int install_apply(const Plan *plan, const BootParams *bp, const InstallKeys *keys, const Manifest *manifest);
