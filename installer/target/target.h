/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Writing the installed system's configuration into a target root: the
 * mounted target in the installer (/mnt/target), a plain directory in tests.
 * The installed system is Debian 12 (systemd, systemd-networkd, no netplan,
 * OpenSSH, sudo, cloud-init with the NoCloud datasource).
 *
 * Every path is resolved inside root as if root were "/": a symlink in the
 * image (absolute or relative, "..") can never lead a write out of root, and
 * the file a path names is replaced (rename), never written through a
 * symlink. Output is deterministic for the same inputs; the only time stamp
 * is the "last password change" day in /etc/shadow, taken from
 * $SOURCE_DATE_EPOCH when set.
 *
 * All functions return 0 or -errno. Problems a profile can cause (a group
 * that does not exist in the image, a user name taken by a group) are
 * logged at error level, naming the culprit; everything else at debug
 * level only, for the caller to report. Password hashes are never logged. */

#include <stddef.h>

#include "profile/profile.h"

typedef struct TargetMount {
        const char *mount;   /* "/", "/boot", ...; NULL for swap */
        FsType fs;           /* FS_EXT4, FS_XFS, FS_VFAT or FS_SWAP */
        const char *fs_uuid; /* as blkid reports it */
        const char *options; /* NULL: "errors=remount-ro" for an ext4 "/", "sw" for swap, else "defaults" */
} TargetMount;

typedef struct TargetConfig {
        const Profile *profile;
        const TargetMount *mounts; /* from the plan + mkfs results */
        size_t n_mounts;
        const char *boot_mac;      /* MAC of the NIC that booted (inst.mac), may be NULL */
        const char *instance_id;   /* cloud-init meta-data instance-id, e.g. "iid-<hostname>-<random>" */
} TargetConfig;

/* /etc/fstab: one line per mount by UUID=, parents before children ("/"
 * first), swap last. Refuses duplicate mount points, relative mount points
 * and mounts without a filesystem (-EINVAL). */
int target_write_fstab(const char *root, const TargetMount *m, size_t n);

/* /etc/hostname (the short name) and /etc/hosts (localhost, "127.0.1.1 FQDN
 * SHORT" and Debian's IPv6 lines). */
int target_write_hostname(const char *root, const char *hostname);

/* The profile's network section (netplan version 2). With /usr/sbin/netplan
 * in the target: /etc/netplan/50-installer.yaml (0600), the section as
 * written. Otherwise the systemd-networkd files netplan would generate:
 * /etc/systemd/network/10-installer-<id>.network per interface, .netdev per
 * bond, bridge and VLAN, .link for set-name/wakeonlan/mtu/offloads of an
 * ethernet. Without a network section: DHCP on boot_mac (on en* and eth*
 * without it). Our files of an earlier run not written again are removed.
 * Enables systemd-networkd when its unit is in the image; without
 * systemd-resolved in the image, writes the static name servers to
 * /etc/resolv.conf (left alone when there are none). */
int target_write_network(const char *root, const Profile *p, const char *boot_mac);

/* Accounts: edits /etc/passwd, /etc/shadow, /etc/group and /etc/gshadow of
 * the target (keeping their modes and owners). Existing users (root) get the
 * password hash, the SSH keys, the supplementary groups and the sudo rule of
 * the profile, if given; new users also a UID/GID >= 1000, a private group, a
 * home with /etc/skel. Supplementary groups must exist in the image
 * (-ENOENT, logged). sudo rules go to /etc/sudoers.d/90-installer-NAME. */
int target_write_users(const char *root, const Profile *p);

/* Empties /etc/machine-id (so the first boot makes one), points
 * /var/lib/dbus/machine-id at it, removes SSH host keys. */
int target_reset_machine_id(const char *root);

/* cloud-init NoCloud seed in /var/lib/cloud/seed/nocloud/ (meta-data and
 * user-data = the profile's firstboot: mapping), and
 * /etc/cloud/cloud.cfg.d/99-installer.cfg (NoCloud, no network config, no
 * distro default user). */
int target_write_seed(const char *root, const Profile *p, const char *instance_id);

/* Run argv (argv[0] an absolute path inside root) chrooted into root with
 * /proc, /sys, /dev (and /dev/pts, /run as tmpfs) mounted for the duration;
 * unmounts what it mounted, also on failure. The environment is a clean
 * one (PATH, HOME=/root, LANG=C.UTF-8, DEBIAN_FRONTEND=noninteractive).
 * Returns and output as process_run(). */
int target_chroot_run(const char *root, char *const argv[], char **ret_output);
/* The same, with on_line (may be NULL) called for every line of output as
 * it arrives. */
int target_chroot_run_full(const char *root, char *const argv[], void (*on_line)(const char *line, void *userdata),
                           void *userdata, char **ret_output);
/* The same with a timeout in seconds (0: process_default_timeout_ms()):
 * past it the command and its process group are killed and -ETIME is
 * returned; the mounts are undone in every case, also after a signal
 * (-ECANCELED). */
int target_chroot_run_timeout(const char *root, char *const argv[], unsigned timeout_s,
                              void (*on_line)(const char *line, void *userdata), void *userdata, char **ret_output);
/* The mounts alone, for a series of commands: *ret_mounted (n host paths)
 * goes to target_chroot_umount(), which unmounts in reverse order and frees. */
int target_chroot_mount(const char *root, char ***ret_mounted, size_t *ret_n);
void target_chroot_umount(char **mounted, size_t n);

/* Groups are part of target_write_users(): groups: are created (or
 * checked) before the users. */

/* Time zone (/etc/localtime, /etc/timezone; the zone must exist in the
 * target's /usr/share/zoneinfo: -ENOENT, logged), locale (/etc/default/locale,
 * enabled in /etc/locale.gen), keyboard (/etc/default/keyboard), NTP servers
 * (/etc/systemd/timesyncd.conf.d/50-installer.conf) and the sshd policy
 * (/etc/ssh/sshd_config.d/50-installer.conf), each only when the profile
 * has it. */
int target_write_system(const char *root, const Profile *p);

/* Without /usr/bin/cloud-init in the target: installer-firstboot.service
 * and its script for firstboot.runcmd (and first-boot packages), with the
 * marker /var/lib/installer/firstboot.pending. Nothing otherwise. */
int target_write_firstboot_unit(const char *root, const Profile *p);

/* The profile's files: (fetching URLs, verifying their sha256: -EBADMSG;
 * with trusted keys their signature, trust_fetch(): -EKEYREJECTED).
 * Not part of target_configure(): it may need the network. */
int target_write_files(const char *root, const Profile *p);

/* In a chroot of the target, output logged line by line: */
/* packages: with apt-get from apt.mirror (nothing without a mirror: the
 * first boot installs them). */
int target_install_packages(const char *root, const Profile *p);
/* locale-gen when the profile's locale needs it. */
int target_generate_locale(const char *root, const Profile *p);
/* post_install: in order, by /bin/sh -c. A failing command that is not
 * optional stops there (-EPROTO, -ENOENT or -EINTR, logged);
 * *ret_failed_optional (may be NULL) counts the optional ones that failed. */
int target_run_post_install(const char *root, const Profile *p, size_t *ret_failed_optional);

/* All of the above that only write files (fstab ... seed, system,
 * first-boot unit), in this order. The hostname is skipped when the profile
 * has none. */
int target_configure(const char *root, const TargetConfig *cfg);

/* ---- storage (target-storage.c) ---------------------------------------------- */

/* /etc/mdadm/mdadm.conf with the given ARRAY lines (mdadm --detail --brief). */
int target_write_mdadm_conf(const char *root, char *const arrays[], size_t n);

/* The installed system's initramfs for KERNEL_VERSION rebuilt in the target
 * (target_chroot_run(), every output line logged), so that it assembles RAID
 * (and activates LVM, unlocks LUKS) with the configuration just written. One
 * kernel: the one the bootloader is set up for. Built for this machine
 * (mkinitramfs with MODULES=dep for this one build; the target's
 * configuration is unchanged), falling back to update-initramfs -u. */
int target_update_initramfs(const char *root, const char *kernel_version, char **ret_output);

/* ---- LUKS2 (target-crypt.c) ---------------------------------------------------- */

typedef struct TargetCrypt {
        const char *name;       /* /dev/mapper/NAME */
        const char *luks_uuid;  /* of the LUKS2 header */
        const char *key;        /* SECRET: the key file's bytes */
        size_t key_size;
} TargetCrypt;

/* /etc/cryptsetup-keys.d/NAME.key (0400 root, the directory 0700) and
 * /etc/crypttab: "NAME UUID=<luks uuid> /etc/cryptsetup-keys.d/NAME.key luks"
 * per volume, unlocked at boot by systemd-cryptsetup without a prompt. */
int target_write_crypttab(const char *root, const TargetCrypt *v, size_t n);
