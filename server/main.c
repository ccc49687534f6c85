/* SPDX-License-Identifier: GPL-2.0-or-later */
/* site-server: the site server (docs/site.md). Skeleton: "serve" comes with
 * server/http.c; every other subcommand is the operator client (cli.h). */

#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: site-server serve|COMMAND ... (site-server --help)\n");
                return 2;
        }
        return 2;
}
