/* report.c: wxpay-conform's reports: JUnit XML for CI and JSON. */
#include "conform.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void xml_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '&')
            fputs("&amp;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c < 0x20 && c != '\n' && c != '\t')
            fprintf(f, "&#x%X;", c == 0x0d ? 0x0d : 0x3f);
        else
            fputc(c, f);
    }
}

int cf_write_junit(const char *path, const kase *ks, const verdict *vs, const size_t *sel, size_t n)
{
    FILE *f = fopen(path, "w");
    size_t failures = 0;
    double total = 0;
    if (!f) {
        fprintf(stderr, "wxpay-conform: --junit %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        failures += !vs[i].pass;
        total += vs[i].seconds;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<testsuites><testsuite name=\"wxpay-conform\" tests=\"%zu\" failures=\"%zu\" "
            "errors=\"0\" time=\"%.3f\">\n",
            n, failures, total);
    for (size_t i = 0; i < n; i++) {
        const kase *k = &ks[sel[i]];
        fprintf(f, "  <testcase classname=\"wxpay-conform\" name=\"");
        xml_escape(f, k->name);
        fprintf(f, "\" time=\"%.3f\">\n", vs[i].seconds);
        if (!vs[i].pass) {
            fprintf(f, "    <failure message=\"");
            xml_escape(f, vs[i].why);
            fprintf(f, "\">");
            xml_escape(f, vs[i].why);
            fprintf(f, "\nout_trade_no: %s, requests: %d, exit status: %d\n", vs[i].out_trade_no,
                    vs[i].requests, vs[i].exit_status);
            if (vs[i].diag) {
                fprintf(f, "mock journal entry: ");
                xml_escape(f, vs[i].diag);
                fputc('\n', f);
            }
            fprintf(f, "</failure>\n");
        }
        fprintf(f, "    <system-out>");
        xml_escape(f, vs[i].output);
        fprintf(f, "</system-out>\n  </testcase>\n");
    }
    fprintf(f, "</testsuite></testsuites>\n");
    return fclose(f) == 0 ? 0 : -1;
}

int cf_write_json(const char *path, const kase *ks, const verdict *vs, const size_t *sel, size_t n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "cases");
    size_t passed = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", ks[sel[i]].name);
        cJSON_AddBoolToObject(c, "pass", vs[i].pass);
        cJSON_AddStringToObject(c, "why", vs[i].why);
        cJSON_AddStringToObject(c, "out_trade_no", vs[i].out_trade_no);
        cJSON_AddNumberToObject(c, "requests", vs[i].requests);
        cJSON_AddNumberToObject(c, "exit_status", vs[i].exit_status);
        cJSON_AddNumberToObject(c, "seconds", vs[i].seconds);
        if (vs[i].diag)
            cJSON_AddItemToObject(c, "mock_entry", cJSON_Parse(vs[i].diag));
        cJSON_AddItemToArray(arr, c);
        passed += vs[i].pass;
    }
    cJSON_AddNumberToObject(root, "passed", (double)passed);
    cJSON_AddNumberToObject(root, "failed", (double)(n - passed));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = fopen(path, "w");
    if (!f || !text) {
        fprintf(stderr, "wxpay-conform: --json %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        cJSON_free(text);
        return -1;
    }
    fprintf(f, "%s\n", text);
    cJSON_free(text);
    return fclose(f) == 0 ? 0 : -1;
}
