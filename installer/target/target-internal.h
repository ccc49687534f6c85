/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to installer/target. The root-confined file operations every
 * module of target/ uses are in target/target-fs.h (boot/ uses them too). */

#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "basic/macro.h"
#include "basic/strutil.h"
#include "target/target-fs.h"
#include "target/target.h"

/* Copy the contents of directory from_fd into to_fd (files, directories,
 * symlinks; modes kept; everything owned by uid:gid). Existing entries in
 * to_fd are left alone. */
int target_copy_tree(int from_fd, int to_fd, uid_t uid, gid_t gid);

/* Build file contents with stdio: open_memstream wrapper. target_buf_done()
 * returns -ENOMEM if any write failed. */
typedef struct TargetBuf {
        FILE *f;
        char *data;
        size_t size;
} TargetBuf;
int target_buf_open(TargetBuf *b);
int target_buf_done(TargetBuf *b); /* closes f; data/size valid on success */
void target_buf_free(TargetBuf *b);

/* The profile checks the hostname; this only makes sure that nothing in it
 * can break the files it goes into (letters, digits, '-' and '.'). */
bool target_hostname_is_safe(const char *s);

/* Days since the epoch for /etc/shadow: $SOURCE_DATE_EPOCH if set, else now. */
long target_days_since_epoch(void);
