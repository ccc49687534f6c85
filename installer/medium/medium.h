/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The boot medium (a USB stick or DVD written from `make usb`): found by its
 * filesystem label or UUID (inst.medium=LABEL=NAME | UUID=UUID), mounted
 * read-only at MEDIUM_MOUNT_POINT, where the profiles and the OS image are
 * read from (file:// URLs). Once mounted, the hardware inventory marks its disk
 * as the boot medium, which is never a target. See docs/boot.md. */

#include "basic/macro.h"

#define MEDIUM_MOUNT_POINT "/run/install/medium"
/* The profile tree on the medium (as inst.profiles=). */
/* How long `installer run` waits for the medium to appear. */
#define MEDIUM_WAIT_SEC 30
#define MEDIUM_PROFILES_URL "file://" MEDIUM_MOUNT_POINT "/profiles/"

typedef enum MediumTag {
        MEDIUM_LABEL,
        MEDIUM_UUID,
} MediumTag;

/* "LABEL=NAME" or "UUID=UUID" -> tag and a pointer to the value within spec.
 * Returns 0 or -EINVAL (no such tag, empty value, blanks or control
 * characters in it). */
int medium_spec_parse(const char *spec, MediumTag *ret_tag, const char **ret_value);

/* One look at every block device in sysroot's /sys/class/block (sysroot NULL:
 * "/"), probed read-only through dev_dir/NAME (NULL: "/dev"). The device whose
 * filesystem has that label or UUID: *ret_devnode ("/dev/sdb") and
 * *ret_fstype. A disk and its partition that both show it (an isohybrid
 * image: the ISO 9660 at the start of the disk is also its first partition)
 * count once, as the disk. Returns 0, -ENOENT when none has it, -ENOTUNIQ when
 * several do (*ret_devnode then lists them, ", "-separated), -ENOMEM. */
int medium_find(const char *sysroot, const char *dev_dir, const char *spec, char **ret_devnode,
                char **ret_fstype);

/* Wait up to timeout_sec for the medium (USB disks appear a while after their
 * controller), then mount it read-only at where (created). Already mounted
 * there: 0. *ret_devnode (may be NULL) names the device. Returns 0, -ENOENT
 * (not found in time), -ENOTUNIQ (several media with that label), or the
 * mount error. Logs what it did and why it failed. */
int medium_mount(const char *spec, const char *where, unsigned timeout_sec, char **ret_devnode);
