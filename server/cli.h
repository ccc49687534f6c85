/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The operator's command line (server/cli.c): site-server machines, show,
 * reinstall, release, forget, hold, assign, inventory, events, log. A client
 * of the HTTP API (libcurl); main.c hands every subcommand but "serve" here.
 * argv[0] is the subcommand. Returns the process exit code (SITE-SPEC.md):
 * 0 ok, 1 error, 2 usage, 3 not found, 4 refused, 5 server unreachable. */

int cli_main(int argc, char **argv);
