/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/* The SHA-256 of DATA as 64 lower-case hex digits and a NUL in HEX.
 * Returns 0, or -EIO (HEX then "") if OpenSSL fails. */
int sha256_hex(const void *data, size_t size, char hex[static 65]);
