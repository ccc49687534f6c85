/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status pages (server/page.c): hostile strings from the store are
 * escaped, the table carries state, phase, progress and the error without
 * any script, times are UTC <time> elements, and nothing refers to another
 * host. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "page.h"

#define T0 1796666400000000LL /* 2026-12-07T18:00:00Z */

static const char HOSTILE_HOST[] = "<script>alert(1)</script>\"'&x";
static const char HOSTILE_ERROR[] = "checksum\"><img src=x onerror=alert(2)> 'quoted' & more";
static const char HOSTILE_PHASE[] = "image\" onmouseover=\"alert(3)";

static Machine machine(int64_t id, MachineState state) {
        return (Machine) {
                .id = id,
                .mac = (char *) "52:54:00:12:34:56",
                .state = state,
                .created = T0,
                .state_since = T0 + 1500000,
                .last_seen = T0 + 2000000,
                .progress_eta = -1,
        };
}

static void assert_contains(const char *hay, const char *needle) {
        if (!strstr(hay, needle))
                fail_msg("missing: %s", needle);
}

static void assert_lacks(const char *hay, const char *needle) {
        const char *p = strstr(hay, needle);
        if (p)
                fail_msg("unexpected: %s (at ...%.60s)", needle, p);
}

/* Every hostile string shows up escaped, never as markup or as a way out
 * of an attribute. */
static void assert_no_hostile_markup(const char *html) {
        assert_lacks(html, "<script>alert");
        assert_lacks(html, "<img");
        assert_lacks(html, "\" onmouseover=");
        assert_lacks(html, "onerror=alert(2)>");
        assert_lacks(html, "'quoted'");
}

static void test_index_escapes_hostile_strings(void **state) {
        Machine m = machine(7, MACHINE_FAILED);
        char *html;

        (void) state;
        m.hostname = (char *) HOSTILE_HOST;
        m.last_error = (char *) HOSTILE_ERROR;
        m.phase = (char *) HOSTILE_PHASE;
        html = page_index_html(&m, 1, T0);
        assert_non_null(html);
        assert_no_hostile_markup(html);
        assert_contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;x");
        assert_contains(html, "checksum&quot;&gt;&lt;img src=x onerror=alert(2)&gt; &#39;quoted&#39; &amp; more");
        assert_contains(html, "data-phase=\"image&quot; onmouseover=&quot;alert(3)\"");
        /* The only script is the page's own, from this server. */
        assert_contains(html, "<script src=\"/site.js\" defer></script>");
        assert_null(strstr(strstr(html, "<script") + 1, "<script"));
        free(html);
}

static void test_machine_page_escapes_hostile_strings(void **state) {
        Machine m = machine(3, MACHINE_HELD);
        Attempt a = { .id = 11, .machine_id = 3, .number = 1, .profile = (char *) "<b>p</b>", .started = T0,
                      .finished = T0 + 95 * 1000000LL, .exit_status = 7, .events = 42, .has_log = true };
        static const char inv[] =
                "{\"firmware\":\"bios\",\"memory_bytes\":2147483648,\"cpu\":{\"count\":2,\"model\":\"<i>cpu</i>\"},"
                "\"dmi\":{\"sys_vendor\":\"QEMU\",\"product_name\":\"x\",\"product_serial\":\"SN'1\",\"product_uuid\":null},"
                "\"disks\":[{\"name\":\"vda\",\"size_bytes\":8589934592,\"serial\":\"<script>alert(4)</script>\","
                "\"transport\":\"virtio\"}],"
                "\"nics\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:12:34:56\",\"driver\":\"virtio_net\",\"carrier\":true}]}";
        char *html;

        (void) state;
        m.hostname = (char *) HOSTILE_HOST;
        m.last_error = (char *) HOSTILE_ERROR;
        m.phase = (char *) HOSTILE_PHASE;
        m.message = (char *) "</dd><script>alert(5)</script>";
        m.uuid = (char *) "\"><svg onload=alert(6)>";
        m.has_inventory = true;
        html = page_machine_html(&m, &a, 1, inv, T0);
        assert_non_null(html);
        assert_no_hostile_markup(html);
        assert_lacks(html, "<script>alert");
        assert_lacks(html, "<svg");
        assert_lacks(html, "<b>p</b>");
        assert_lacks(html, "<i>cpu</i>");
        assert_contains(html, "&lt;script&gt;alert(4)&lt;/script&gt;"); /* the disk's serial, in the table */
        assert_contains(html, "SN&#39;1");
        assert_contains(html, "<td class=\"mono\">52:54:00:12:34:56</td>");
        assert_contains(html, "2.0 GiB");
        assert_contains(html, "8.0 GiB");
        assert_contains(html, "id=\"inventory-json\"");
        assert_contains(html, "data-state=\"held\"");
        assert_contains(html, "<td>install</td>");
        assert_contains(html, "(1:35)");
        assert_contains(html, "<td>7</td>");
        free(html);

        /* Not JSON: shown as text, escaped. */
        html = page_machine_html(&m, NULL, 0, "<script>alert(7)</script>", T0);
        assert_non_null(html);
        assert_lacks(html, "<script>alert");
        assert_contains(html, "not a JSON object");
        free(html);
}

static void test_index_without_script_shows_everything(void **state) {
        Machine l[3] = { machine(1, MACHINE_INSTALLING), machine(2, MACHINE_FAILED), machine(3, MACHINE_INSTALLED) };
        char *html;

        (void) state;
        l[0].hostname = (char *) "web1";
        l[0].phase = (char *) "image";
        l[0].progress_done = 90000000;
        l[0].progress_total = 200000000;
        l[0].progress_rate = 12100000;
        l[0].progress_eta = 31;
        l[0].progress_time = T0;
        l[1].phase = (char *) "image";
        l[1].last_error = (char *) "debian12.tar.zst: checksum mismatch";
        l[2].phase = (char *) "install";
        html = page_index_html(l, 3, T0);
        assert_non_null(html);

        assert_contains(html, "<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>");
        assert_contains(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'\">");
        assert_contains(html, "<tr id=\"machine-1\" class=\"state-installing\" data-machine=\"1\" "
                              "data-state=\"installing\" data-phase=\"image\">");
        assert_contains(html, "<progress class=\"bar\" id=\"progress-1\" data-done=\"90000000\" data-total=\"200000000\"");
        assert_contains(html, "max=\"200000000\" value=\"90000000\"");
        assert_contains(html, "45% 12.1 MB/s ETA 0:31");
        assert_contains(html, "<span class=\"badge state-installing\">installing</span>");
        assert_contains(html, "data-machine=\"2\" data-state=\"failed\" data-phase=\"image\"");
        assert_contains(html, "<td class=\"error has-error\"><span class=\"error-text\">"
                              "debian12.tar.zst: checksum mismatch</span></td>");
        assert_contains(html, "data-machine=\"3\" data-state=\"installed\"");
        assert_contains(html, "<time datetime=\"2026-12-07T18:00:01.500000Z\">2026-12-07 18:00:01 UTC</time>");
        assert_contains(html, "<a href=\"/machines/2\">2</a>");
        /* An installed machine shows no progress bar. */
        assert_lacks(html, "id=\"progress-3\"");
        free(html);

        html = page_index_html(NULL, 0, T0);
        assert_non_null(html);
        assert_contains(html, "No machine has booted from this server yet.");
        free(html);
}

/* Progress without a known total: bytes done and rate, no percentage. */
static void test_progress_without_total(void **state) {
        Machine m = machine(4, MACHINE_INSTALLING);
        char *html;

        (void) state;
        m.progress_done = 120000000;
        m.progress_rate = 950000;
        html = page_index_html(&m, 1, T0);
        assert_non_null(html);
        assert_contains(html, "data-done=\"120000000\" data-total=\"0\"");
        assert_contains(html, ">120.0 MB 950.0 kB/s</span>");
        assert_lacks(html, "max=");
        free(html);
}

/* No URL to any other host in the pages, the script or the style sheet;
 * the script inserts data as text only. */
static void assert_self_contained(const char *text) {
        assert_lacks(text, "http://");
        assert_lacks(text, "https://");
        assert_lacks(text, "src=\"//");
        assert_lacks(text, "href=\"//");
        assert_lacks(text, "url(");
        assert_lacks(text, "@import");
}

static void test_self_contained(void **state) {
        Machine m = machine(1, MACHINE_INSTALLING);
        char *index, *one;

        (void) state;
        index = page_index_html(&m, 1, T0);
        one = page_machine_html(&m, NULL, 0, NULL, T0);
        assert_non_null(index);
        assert_non_null(one);
        assert_self_contained(index);
        assert_self_contained(one);
        assert_self_contained(page_site_js);
        assert_self_contained(page_site_css);
        assert_lacks(page_site_js, "innerHTML");
        assert_lacks(page_site_js, "outerHTML");
        assert_lacks(page_site_js, "insertAdjacentHTML");
        assert_lacks(page_site_js, "document.write");
        assert_lacks(page_site_js, "eval(");
        assert_contains(page_site_js, "'/api/v1/machines'");
        assert_contains(page_site_js, "textContent");
        assert_contains(one, "<link rel=\"stylesheet\" href=\"/site.css\">");
        free(index);
        free(one);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_index_escapes_hostile_strings),
                cmocka_unit_test(test_machine_page_escapes_hostile_strings),
                cmocka_unit_test(test_index_without_script_shows_everything),
                cmocka_unit_test(test_progress_without_total),
                cmocka_unit_test(test_self_contained),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
