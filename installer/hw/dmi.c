/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SMBIOS values that are not identities: the placeholders vendors leave in
 * the serial number and UUID fields. The one list (hw.h documents it). */
#include <ctype.h>
#include <strings.h>

#include "hw/hw.h"

static const char *const placeholder_serials[] = {
        "0123456789", "123456789", "1234567890", "12345678", "1234567",
        "To Be Filled By O.E.M.", "To Be Filled By O.E.M", "To Be Filled By OEM",
        "Default string", "Default",
        "System Serial Number", "Chassis Serial Number", "Base Board Serial Number",
        "Serial Number", "SerialNumber",
        "Not Specified", "Not Applicable", "Not Available", "Not Present",
        "None", "N/A", "NA", "OEM", "O.E.M.", "Unknown", "Invalid", "Empty",
};

/* Only characters of SET (case-insensitive), and at least one. */
static bool only_of(const char *s, size_t n, const char *set) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr(set, tolower((unsigned char) s[i])))
                        return false;
        return true;
}

bool hw_dmi_serial_is_placeholder(const char *serial) {
        const char *s = serial;
        size_t n;

        if (!s)
                return true;
        while (isspace((unsigned char) *s))
                s++;
        n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                n--;
        if (n == 0)
                return true;
        if (only_of(s, n, "0") || only_of(s, n, "f") || only_of(s, n, "x") || only_of(s, n, "-.*"))
                return true;
        for (size_t i = 0; i < sizeof placeholder_serials / sizeof placeholder_serials[0]; i++)
                if (strlen(placeholder_serials[i]) == n && strncasecmp(s, placeholder_serials[i], n) == 0)
                        return true;
        return false;
}

bool hw_dmi_uuid_is_placeholder(const char *uuid) {
        bool zeros = true, ones = true;

        if (!uuid || !*uuid)
                return true;
        /* The example UUID of AMI's firmware kit, left in by many boards
         * (systemd's and fwupd's lists of bogus identifiers know it too):
         * shared by thousands of machines, it names none of them. */
        if (strcasecmp(uuid, "03000200-0400-0500-0006-000700080009") == 0)
                return true;
        for (const char *c = uuid; *c; c++) {
                if (*c == '-')
                        continue;
                zeros = zeros && *c == '0';
                ones = ones && (*c == 'f' || *c == 'F');
        }
        return zeros || ones;
}
