/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Tokens. A machine token is handed out in a boot answer (32 random bytes
 * from getrandom, 64 hex characters); the operator token lives in a file
 * (created 0600 when missing). Only SHA-256 digests (hex) are stored;
 * presented tokens are hashed and compared in constant time. No token is
 * ever logged. */

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

#define AUTH_TOKEN_HEX 64
#define AUTH_SHA256_HEX 64

/* A new token and its digest. Returns 0 or -errno (getrandom). */
int auth_token_new(char token[static AUTH_TOKEN_HEX + 1], char sha256[static AUTH_SHA256_HEX + 1]);
/* Hex SHA-256 of data. Returns 0 or -EIO. */
int auth_sha256_hex(const void *data, size_t size, char ret[static AUTH_SHA256_HEX + 1]);
/* Constant-time comparison of two hex digests (false unless both are 64 chars). */
bool auth_digest_equal(const char *a, const char *b);
/* A presented token is acceptable to look up: 1..256 printable ASCII characters, no spaces. */
bool auth_token_wellformed(const char *token);

/* Read the operator token from path; when the file is missing, create it
 * (0600, its directory 0700 when missing) with a new token. Sets ret to the
 * token's digest. Returns 0 or -errno (logged). */
int auth_operator_token_load(const char *path, char ret_sha256[static AUTH_SHA256_HEX + 1]);
