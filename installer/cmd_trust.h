/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "trust/trust.h"

/* The command-line layer of signing (cmd_trust.c); each returns an exit
 * status (install.h). */
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* Load --keys FILE for a command: EXIT_OK with *ret (at least one key), or
 * EXIT_SIGNATURE after logging why (unreadable, malformed, no keys). */
int cmd_trust_keyring(const char *path, TrustKeyring **ret);
