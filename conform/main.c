/* main.c: wxpay-conform, the conformance runner (docs/conformance.md "Conformance").
 *
 * For each case of the catalogue (fixtures/conformance.json) it sets up an
 * order on the mock, runs the user's client command once with the case in
 * its environment, and judges the client by what the mock saw (journal, the
 * order afterwards) and by the client's exit status. The mock runs in this
 * process on a free port unless --mock-url names one already running. */
#include "conform.h"

#include <wxpay/mock.h>
#include <wxpay/version.h>
#include "wxp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* ------------------------------------------------------------- catalogue */

static const char *str_or(const cJSON *o, const char *name, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static int load_catalogue(const char *path, cJSON **root, kase **out, size_t *n, int *timeout)
{
    char *text = NULL;
    wxp_diag d = {"", ""};
    if (Wxp_read_file(path, 1 << 20, "catalogue", &text, NULL, &d) != WXP_OK) {
        fprintf(stderr, "wxpay-conform: %s\n", d.text[0] ? d.text : "out of memory");
        return -1;
    }
    *root = cJSON_Parse(text);
    free(text);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(*root, "cases");
    if (!cJSON_IsArray(cases) || cJSON_GetArraySize(cases) == 0) {
        fprintf(stderr, "wxpay-conform: %s: needs a non-empty \"cases\" array\n", path);
        return -1;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(*root, "client_timeout_seconds");
    if (cJSON_IsNumber(t) && t->valueint > 0)
        *timeout = t->valueint;
    *n = (size_t)cJSON_GetArraySize(cases);
    *out = calloc(*n, sizeof(kase));
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        kase *k = &(*out)[i++];
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "expect");
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
        const cJSON *order = cJSON_GetObjectItemCaseSensitive(c, "order");
        const cJSON *refund = cJSON_GetObjectItemCaseSensitive(e, "refund");
        const cJSON *wp = cJSON_GetObjectItemCaseSensitive(c, "wechatpay");
        const cJSON *dl = cJSON_GetObjectItemCaseSensitive(e, "certificate_downloads");
        k->name = str_or(c, "name", NULL);
        k->outcome = str_or(e, "outcome", NULL);
        if (!k->name || !k->outcome) {
            fprintf(stderr, "wxpay-conform: %s: case %zu needs \"name\" and \"expect.outcome\"\n",
                    path, i - 1);
            return -1;
        }
        k->about = str_or(c, "about", "");
        k->prefix = str_or(c, "out_trade_no_prefix", "");
        k->state = str_or(e, "state", NULL);
        k->order = cJSON_IsObject(order) ? cJSON_PrintUnformatted(order) : NULL;
        k->wechatpay = cJSON_IsObject(wp) ? cJSON_PrintUnformatted(wp) : NULL;
        k->auth_code = str_or(c, "auth_code", NULL);
        k->expect_paid = strcmp(k->outcome, "paid") == 0;
        const cJSON *qs = cJSON_GetObjectItemCaseSensitive(e, "queries");
        k->min_queries = cJSON_IsNumber(cJSON_GetObjectItem(qs, "min"))
                             ? cJSON_GetObjectItem(qs, "min")->valueint
                             : 0;
        k->reverse = str_or(e, "reverse", "any");
        k->reverse_at_window =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "reverse_after_pay_timeout"));
        k->group = str_or(c, "group", "reverse");
        k->apiv3_only = strcmp(str_or(c, "client_keys", "all"), "apiv3_key") == 0;
        k->min_downloads = cJSON_IsNumber(cJSON_GetObjectItem(dl, "min"))
                               ? cJSON_GetObjectItem(dl, "min")->valueint
                               : -1;
        k->max_downloads = cJSON_IsNumber(cJSON_GetObjectItem(dl, "max"))
                               ? cJSON_GetObjectItem(dl, "max")->valueint
                               : -1;
        k->min_requests = cJSON_IsNumber(cJSON_GetObjectItem(req, "min"))
                              ? cJSON_GetObjectItem(req, "min")->valueint
                              : 1;
        k->max_requests = cJSON_IsNumber(cJSON_GetObjectItem(req, "max"))
                              ? cJSON_GetObjectItem(req, "max")->valueint
                              : -1;
        k->refund = cJSON_IsNumber(refund) && refund->valuedouble >= 0 && refund->valuedouble < 1e15
                        ? (long)refund->valuedouble
                        : -1;
    }
    return 0;
}

/* ---------------------------------------------------------- the client */

static void key_env(const runner *r, const char *name, const char *file)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/keys/%s", r->fixtures, file);
    setenv(name, p, 1);
}

/* Runs the client with the case's environment; returns its exit status, or
 * -1 when it had to be killed after the case timeout. */
static int run_client(const runner *r, const kase *k, const char *otn, const char *outfile)
{
    /* SIGCHLD is blocked in every thread (main): it waits for sigtimedwait. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pid_t pid = fork();
    if (pid == 0) {
        char t[16];
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        setpgid(0, 0);
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("WXPAY_BASE_URL", r->base, 1);
        setenv("WXPAY_OUT_TRADE_NO", otn, 1);
        setenv("WXPAY_MCHID", "1230000109", 1);
        setenv("WXPAY_APPID", "wxd678efh567hg6787", 1);
        key_env(r, "WXPAY_PRIVATE_KEY", "merchant_key.pem");
        key_env(r, "WXPAY_MERCHANT_CERT", "merchant_cert.pem");
        setenv("WXPAY_SERIAL", "3775B6A45ACD588826D15E583A95F5DD00000001", 1);
        key_env(r, "WXPAY_WECHATPAY_PUBLIC_KEY", "wechatpay_pub.pem");
        setenv("WXPAY_WECHATPAY_SERIAL", "PUB_KEY_ID_01123000010920261128000000000001", 1);
        key_env(r, "WXPAY_PLATFORM_CERT", "wechatpay_cert.pem");
        setenv("WXPAY_APIV3_KEY", r->apiv3_key, 1);
        if (k->apiv3_only) { /* it must download the platform certificates */
            unsetenv("WXPAY_WECHATPAY_PUBLIC_KEY");
            unsetenv("WXPAY_WECHATPAY_SERIAL");
            unsetenv("WXPAY_PLATFORM_CERT");
        }
        snprintf(t, sizeof(t), "%d", r->client_timeout);
        setenv("WXPAY_TIMEOUT", t, 1);
        setenv("WXPAY_CASE", k->name, 1);
        if (k->auth_code) { /* a POS flow */
            char v[32];
            setenv("WXPAY_AUTH_CODE", k->auth_code, 1);
            setenv("WXPAY_AMOUNT", "100", 1);
            snprintf(v, sizeof(v), "%g", r->poll_interval);
            setenv("WXPAY_POLL_INTERVAL", v, 1);
            snprintf(v, sizeof(v), "%g", r->pay_timeout);
            setenv("WXPAY_PAY_TIMEOUT", v, 1);
        }
        execvp(r->argv[0], r->argv);
        fprintf(stderr, "wxpay-conform: cannot run %s: %s\n", r->argv[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        return -1;
    int64_t start = Wxp_mono_us();
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        double left = r->case_timeout - (double)(Wxp_mono_us() - start) / 1e6;
        if (left <= 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        /* Sleep until the child ends (SIGCHLD) or the case times out. */
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        sigtimedwait(&chld, NULL, &ts);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The last `cap` bytes of a file, for the report. */
static void tail_of(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    out[0] = '\0';
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)cap - 1 ? size - (long)cap + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

/* ------------------------------------------------------------- judging */

static int expected_exit(const char *outcome)
{
    if (strcmp(outcome, "reversed") == 0)
        return 0;
    if (strcmp(outcome, "business_error") == 0)
        return 3;
    if (strcmp(outcome, "verification_failed") == 0)
        return 4;
    if (strcmp(outcome, "malformed_answer") == 0)
        return 5;
    return 6;
}

#define fail_why cf_fail

static void judge(const runner *r, const kase *k, verdict *v)
{
    char path[256];
    cJSON *j = NULL, *order = NULL;
    snprintf(path, sizeof(path), "/__admin/journal?out_trade_no=%s", v->out_trade_no);
    cf_admin(r->base, "GET", path, NULL, &j);
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(j, "entries");
    v->requests = cJSON_GetArraySize(entries);
    v->pass = true;

    if (v->exit_status == -1 && !r->flow_pay)
        fail_why(v, "the client did not finish within %d s and was stopped", r->case_timeout);
    if (k->apiv3_only && v->downloads == 0 && k->min_downloads > 0)
        fail_why(v,
                 "the client never downloaded the platform certificates: in this case it gets "
                 "no WeChat Pay key, only WXPAY_APIV3_KEY, and must GET /v3/certificates and "
                 "open the list with it (exit status %d)",
                 v->exit_status);
    if (v->requests == 0 && k->min_requests > 0)
        fail_why(v,
                 "the client sent no request for %s (exit status %d): it must read WXPAY_BASE_URL "
                 "and WXPAY_OUT_TRADE_NO",
                 v->out_trade_no, v->exit_status);
    /* Every request must have passed every check of the mock. */
    int idx = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        idx++;
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(e, "checks"))
        {
            if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "ok"))) {
                fail_why(v, "request %d was rejected by the mock's %s check (%s): %s", idx,
                         str_or(c, "check", "?"), str_or(c, "code", "?"), str_or(c, "message", ""));
                if (!v->diag)
                    v->diag = cJSON_PrintUnformatted(e);
            }
        }
    }
    if (r->flow_pay) {
        if (v->exit_status == -1)
            fail_why(v, "the client did not finish within %d s and was stopped", r->case_timeout);
        snprintf(path, sizeof(path), "/__admin/orders/%s", v->out_trade_no);
        cf_admin(r->base, "GET", path, NULL, &order);
        cf_judge_flow(r, k, entries, order, v);
        if (v->pass)
            snprintf(v->why, sizeof(v->why), "%s", k->about);
        cJSON_Delete(j);
        cJSON_Delete(order);
        return;
    }
    if (v->requests > 0 && v->requests < k->min_requests)
        fail_why(v, "the client sent %d request%s but should have retried: %s", v->requests,
                 v->requests == 1 ? "" : "s", k->about);
    if (k->max_requests == 0 && v->requests > 0)
        fail_why(v, "the client sent %d request%s for the order but must not: %s", v->requests,
                 v->requests == 1 ? "" : "s", k->about);
    else if (k->max_requests >= 0 && v->requests > k->max_requests)
        fail_why(v, "the client sent %d requests but must not retry: %s", v->requests, k->about);
    if (k->min_downloads >= 0 && v->downloads < k->min_downloads)
        fail_why(v,
                 "the client downloaded the platform certificates %d time%s, expected at least "
                 "%d (GET /v3/certificates with the APIv3 key WXPAY_APIV3_KEY): %s",
                 v->downloads, v->downloads == 1 ? "" : "s", k->min_downloads, k->about);
    if (k->max_downloads >= 0 && v->downloads > k->max_downloads)
        fail_why(v, "the client downloaded the platform certificates %d times, at most %d: %s",
                 v->downloads, k->max_downloads, k->about);
    bool want_success = strcmp(k->outcome, "reversed") == 0;
    if (v->exit_status >= 0) {
        if (!want_success && v->exit_status == 0 &&
            (strcmp(k->outcome, "verification_failed") == 0 ||
             strcmp(k->outcome, "malformed_answer") == 0))
            fail_why(v, "the client reported success (exit 0) on an answer it must not trust: %s",
                     k->about);
        else if (want_success && v->exit_status != 0)
            fail_why(v, "the order was to end reversed but the client exited %d: %s",
                     v->exit_status, k->about);
        else if (!want_success && v->exit_status == 0)
            fail_why(v, "the client exited 0 but the reversal did not succeed (%s): %s", k->outcome,
                     k->about);
        else if (r->strict_exit && v->exit_status != expected_exit(k->outcome))
            fail_why(v, "exit status %d, expected %d (%s)", v->exit_status,
                     expected_exit(k->outcome), k->outcome);
    }
    if (k->state || k->refund >= 0) {
        snprintf(path, sizeof(path), "/__admin/orders/%s", v->out_trade_no);
        cf_admin(r->base, "GET", path, NULL, &order);
        const char *state = str_or(order, "trade_state", "?");
        const cJSON *refund = cJSON_GetObjectItemCaseSensitive(order, "refund");
        long amount =
            cJSON_IsObject(refund) ? (long)cJSON_GetObjectItem(refund, "amount")->valuedouble : 0;
        if (k->state && strcmp(state, k->state) != 0)
            fail_why(v, "the order ended %s, expected %s", state, k->state);
        if (k->refund >= 0 && amount != k->refund)
            fail_why(v, "the refund is %ld fen, expected %ld", amount, k->refund);
    }
    if (v->pass)
        snprintf(v->why, sizeof(v->why), "%s", k->about);
    cJSON_Delete(j);
    cJSON_Delete(order);
}

/* The journal's entries of GET /v3/certificates after `seq`; the last seq
 * seen in *last. */
static int downloads_since(const runner *r, long long seq, long long *last)
{
    cJSON *j = NULL;
    int n = 0;
    cf_admin(r->base, "GET", "/__admin/journal", NULL, &j);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "entries"))
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "seq");
        long long at = cJSON_IsNumber(s) ? (long long)s->valuedouble : 0;
        if (at > *last)
            *last = at;
        n += at > seq && strcmp(str_or(e, "endpoint", ""), "certificates") == 0;
    }
    cJSON_Delete(j);
    return n;
}

/* The mock's key state as a PUT /__admin/wechatpay body that restores it
 * (NULL when the mock gave none). */
static char *wechatpay_state(const runner *r)
{
    cJSON *j = NULL, *put = cJSON_CreateObject(), *listed = cJSON_CreateArray();
    char *text = NULL;
    if (cf_admin(r->base, "GET", "/__admin/wechatpay", NULL, &j) == 200) {
        const cJSON *c;
        cJSON_AddStringToObject(put, "mode", str_or(j, "mode", "public_key"));
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "certificates"))
        {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "listed")))
                cJSON_AddItemToArray(listed, cJSON_CreateString(str_or(c, "serial_no", "")));
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "signs_in_certificate_mode")))
                cJSON_AddStringToObject(put, "signing_serial", str_or(c, "serial_no", ""));
        }
        if (cJSON_GetArraySize(listed) > 0) {
            cJSON_AddItemToObject(put, "listed_serials", listed);
            listed = NULL;
        }
        cJSON_AddItemToObject(put, "certificates_script", cJSON_CreateArray());
        text = cJSON_PrintUnformatted(put);
    }
    cJSON_Delete(listed);
    cJSON_Delete(put);
    cJSON_Delete(j);
    return text;
}

static void run_case(const runner *r, const kase *k, size_t index, verdict *v)
{
    char rnd[WXP_NONCE_LEN + 1], path[256], out[128];
    char *restore = NULL;
    long long seq = 0;
    memset(v, 0, sizeof(*v));
    if (k->min_downloads >= 0 || k->max_downloads >= 0)
        downloads_since(r, 0, &seq);
    if (k->wechatpay) {
        cJSON *ans = NULL;
        restore = wechatpay_state(r);
        long st = cf_admin(r->base, "PUT", "/__admin/wechatpay", k->wechatpay, &ans);
        if (st != 200) {
            v->exit_status = -1;
            snprintf(v->why, sizeof(v->why),
                     "the mock refused the case's key set-up (HTTP %ld): %s", st,
                     str_or(ans, "error", "unreachable"));
            cJSON_Delete(ans);
            cJSON_free(restore);
            return;
        }
        cJSON_Delete(ans);
    }
    if (wxp_nonce(rnd) != WXP_OK)
        memcpy(rnd, "0000000000", 11);
    snprintf(v->out_trade_no, sizeof(v->out_trade_no), "%scf%02zu%.8s", k->prefix, index, rnd);
    if (k->order) {
        snprintf(path, sizeof(path), "/__admin/orders/%s", v->out_trade_no);
        cJSON *ans = NULL;
        long st = cf_admin(r->base, "PUT", path, k->order, &ans);
        if (st != 200) {
            v->exit_status = -1;
            snprintf(v->why, sizeof(v->why), "the mock refused the case's order (HTTP %ld): %s", st,
                     str_or(ans, "error", "unreachable"));
            cJSON_Delete(ans);
            return;
        }
        cJSON_Delete(ans);
    }
    snprintf(out, sizeof(out), "/tmp/wxpay-conform-%d-%zu.out", (int)getpid(), index);
    int64_t t0 = Wxp_mono_us();
    v->exit_status = run_client(r, k, v->out_trade_no, out);
    v->seconds = (double)(Wxp_mono_us() - t0) / 1e6;
    tail_of(out, v->output, sizeof(v->output));
    unlink(out);
    if (k->min_downloads >= 0 || k->max_downloads >= 0)
        v->downloads = downloads_since(r, seq, &seq);
    judge(r, k, v);
    if (restore) { /* the next case meets the mock as it was */
        cf_admin(r->base, "PUT", "/__admin/wechatpay", restore, NULL);
        cJSON_free(restore);
    }
}

/* ---------------------------------------------------------------- main */

static int run_all(runner *rp, const kase *ks, const size_t *sel, size_t nsel, const char *mock_url,
                   const char *config, const char *junit, const char *json);

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: wxpay-conform [options] -- CLIENT_COMMAND [ARGS...]\n"
            "Checks a WeChat Pay reversal client against wxpay-mock, case by case.\n"
            "\n"
            "For each case the client command runs once with WXPAY_BASE_URL,\n"
            "WXPAY_OUT_TRADE_NO, WXPAY_MCHID, WXPAY_APPID, WXPAY_PRIVATE_KEY, WXPAY_SERIAL,\n"
            "WXPAY_MERCHANT_CERT, WXPAY_WECHATPAY_PUBLIC_KEY, WXPAY_WECHATPAY_SERIAL,\n"
            "WXPAY_PLATFORM_CERT, WXPAY_APIV3_KEY, WXPAY_TIMEOUT and WXPAY_CASE in its\n"
            "environment, and must exit 0 exactly when the order ends reversed. In the\n"
            "cases of group \"certificates\" it gets no WeChat Pay key, only the APIv3\n"
            "key: it must download the platform certificates.\n"
            "\n"
            "Options:\n"
            "  --flow pay             check a POS client instead: it pays one order by code\n"
            "                         (WXPAY_AUTH_CODE, WXPAY_AMOUNT, WXPAY_POLL_INTERVAL,\n"
            "                         WXPAY_PAY_TIMEOUT besides the above) and must exit 0\n"
            "                         exactly when the user paid (cases: pay_flow.json)\n"
            "  --poll-interval S      WXPAY_POLL_INTERVAL for --flow pay (default 0.2)\n"
            "  --pay-timeout S        WXPAY_PAY_TIMEOUT for --flow pay (default 2)\n"
            "  --list                 list the cases and exit\n"
            "  --case NAME            run only this case (repeatable)\n"
            "  --skip-group GROUP     leave out a group of cases (repeatable): \"certificates\"\n"
            "                         for a client that only uses fixed WeChat Pay keys\n"
            "  --apiv3-key KEY        WXPAY_APIV3_KEY given to the client (default: the\n"
            "                         bundled config's test key)\n"
            "  --junit FILE           write a JUnit XML report\n"
            "  --json FILE            write a JSON report\n"
            "  --mock-url URL         use a running wxpay-mock (default: start one)\n"
            "  --config FILE          config for the mock started here (default: bundled)\n"
            "  --admin-token TOKEN    the --mock-url mock's admin token (or set\n"
            "                         WXPAY_MOCK_ADMIN_TOKEN)\n"
            "  --catalogue FILE       cases (default FIXTURES/conformance.json, or\n"
            "                         pay_flow.json)\n"
            "  --fixtures DIR         where keys/ is (default %s)\n"
            "  --client-timeout S     WXPAY_TIMEOUT given to the client (default: catalogue's)\n"
            "  --case-timeout S       stop a client that runs longer (default 60)\n"
            "  --strict-exit-codes    also require wxpay-reverse's exit statuses (3 business\n"
            "                         error, 4 verification, 5 malformed, 6 no answer)\n"
            "  --version              print the version\n"
            "  -h, --help             this text\n"
            "\n"
            "Exit status: 0 every selected case passed; 1 some failed; 2 usage error.\n",
            Wxp_fixtures_dir(NULL, 0) ? Wxp_fixtures_dir(NULL, 0)
                                      : "none found: $WXPAY_FIXTURES_DIR or --fixtures");
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "wxpay-conform: ");
    fprintf(stderr, "%s", fmt);
    fprintf(stderr, "%s\nTry 'wxpay-conform --help'.\n", arg ? arg : "");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    runner r;
    const char *mock_url = NULL, *config = NULL, *junit = NULL, *json = NULL;
    const char *catalogue = NULL;
    const char *only[64], *skip[16];
    size_t nonly = 0, nskip = 0;
    int list = 0, client_timeout = 0;
    memset(&r, 0, sizeof(r));
    r.fixtures = Wxp_fixtures_dir(NULL, 0); /* NULL: --fixtures needed */
    r.case_timeout = 60;
    r.apiv3_key = "TESTONLYwxpaymockAPIv3key0000001"; /* fixtures/mock.json */
    r.poll_interval = 0.2;
    r.pay_timeout = 2;

    int i;
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--list") == 0) {
            list = 1;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            printf("wxpay-conform %s\n", WXPAY_VERSION);
            return 0;
        }
        if (strcmp(a, "--strict-exit-codes") == 0) {
            r.strict_exit = true;
            continue;
        }
        if (!v || strcmp(v, "--") == 0)
            return bad("option needs a value: ", a);
        i++;
        if (strcmp(a, "--case") == 0 && nonly < 64)
            only[nonly++] = v;
        else if (strcmp(a, "--skip-group") == 0 && nskip < 16)
            skip[nskip++] = v;
        else if (strcmp(a, "--apiv3-key") == 0)
            r.apiv3_key = v;
        else if (strcmp(a, "--flow") == 0) {
            if (strcmp(v, "pay") != 0 && strcmp(v, "reverse") != 0)
                return bad("--flow must be \"reverse\" (the default) or \"pay\": ", v);
            r.flow_pay = strcmp(v, "pay") == 0;
        } else if (strcmp(a, "--poll-interval") == 0 || strcmp(a, "--pay-timeout") == 0) {
            char *end;
            double d = strtod(v, &end);
            if (*end || !(d >= 0.01 && d <= 600))
                return bad("must be seconds from 0.01 to 600: ", v);
            if (a[3] == 'o')
                r.poll_interval = d;
            else
                r.pay_timeout = d;
        } else if (strcmp(a, "--junit") == 0)
            junit = v;
        else if (strcmp(a, "--json") == 0)
            json = v;
        else if (strcmp(a, "--mock-url") == 0)
            mock_url = v;
        else if (strcmp(a, "--config") == 0)
            config = v;
        else if (strcmp(a, "--admin-token") == 0)
            setenv("WXPAY_MOCK_ADMIN_TOKEN", v, 1); /* read by every admin call */
        else if (strcmp(a, "--catalogue") == 0)
            catalogue = v;
        else if (strcmp(a, "--fixtures") == 0)
            r.fixtures = v;
        else if (strcmp(a, "--client-timeout") == 0 || strcmp(a, "--case-timeout") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 3600)
                return bad("must be whole seconds from 1 to 3600: ", v);
            if (a[2] == 'c' && a[3] == 'l')
                client_timeout = (int)n;
            else
                r.case_timeout = (int)n;
        } else {
            return bad("unknown option: ", a);
        }
    }

    cJSON *root = NULL;
    kase *ks = NULL;
    size_t nk = 0, nsel = 0, *sel = NULL;
    int status = EXIT_USAGE;
    r.client_timeout = 2;
    char default_catalogue[4400];
    if (!r.fixtures) {
        char tried[4300];
        Wxp_fixtures_dir(tried, sizeof(tried));
        fprintf(stderr,
                "wxpay-conform: no fixtures found (looked in %s, and $WXPAY_FIXTURES_DIR is not "
                "set): give --fixtures DIR, or set WXPAY_FIXTURES_DIR\n",
                tried[0] ? tried : "the folder beside the program");
        goto done;
    }
    if (!catalogue) {
        snprintf(default_catalogue, sizeof(default_catalogue), "%.4300s/%s", r.fixtures,
                 r.flow_pay ? "pay_flow.json" : "conformance.json");
        catalogue = default_catalogue;
    }
    if (load_catalogue(catalogue, &root, &ks, &nk, &r.client_timeout) != 0)
        goto done;
    if (client_timeout)
        r.client_timeout = client_timeout;
    if (list) {
        for (size_t k = 0; k < nk; k++)
            printf("%-40s %s\n", ks[k].name, ks[k].about);
        status = 0;
        goto done;
    }
    sel = calloc(nk, sizeof(size_t));
    for (size_t k = 0; sel && k < nk; k++) {
        bool want = nonly == 0;
        for (size_t o = 0; o < nonly; o++)
            want |= strcmp(only[o], ks[k].name) == 0;
        for (size_t o = 0; o < nskip; o++)
            want &= strcmp(skip[o], ks[k].group) != 0;
        if (want)
            sel[nsel++] = k;
    }
    for (size_t o = 0; o < nonly; o++) {
        bool known = false;
        for (size_t k = 0; k < nk; k++)
            known |= strcmp(only[o], ks[k].name) == 0;
        if (!known) {
            status = bad("no such case (see --list): ", only[o]);
            goto done;
        }
    }
    for (size_t o = 0; o < nskip; o++) {
        bool known = false;
        for (size_t k = 0; k < nk; k++)
            known |= strcmp(skip[o], ks[k].group) == 0;
        if (!known) {
            status = bad("no case is in that group (see the catalogue): ", skip[o]);
            goto done;
        }
    }
    if (i >= argc - 1) {
        status = bad("give the client command after --", NULL);
        goto done;
    }
    r.argv = argv + i + 1;
    status = run_all(&r, ks, sel, nsel, mock_url, config, junit, json);
done:
    for (size_t k = 0; k < nk; k++) {
        cJSON_free(ks[k].order);
        cJSON_free(ks[k].wechatpay);
    }
    free(sel);
    free(ks);
    cJSON_Delete(root);
    return status;
}

/* Starts the mock (unless given one), runs the selected cases, reports. */
static int run_all(runner *rp, const kase *ks, const size_t *sel, size_t nsel, const char *mock_url,
                   const char *config, const char *junit, const char *json)
{
    runner r = *rp;
    verdict *vs = NULL;
    int status = EXIT_FAILED;
    /* Before any thread starts, so that every thread blocks it. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    if (cf_http_init() != 0) {
        fprintf(stderr, "wxpay-conform: cannot initialise libcurl\n");
        return EXIT_FAILED;
    }
    wxm_mock *m = NULL;
    wxm_server *srv = NULL;
    if (mock_url) {
        snprintf(r.base, sizeof(r.base), "%s", mock_url);
    } else {
        wxm_config *cfg = NULL;
        wxp_diag d = {"", ""};
        char mock_json[4400];
        snprintf(mock_json, sizeof(mock_json), "%.4300s/mock.json", r.fixtures);
        if (wxm_config_load(config ? config : mock_json, &cfg, &d) != WXM_OK) {
            status = bad("bad mock config: ", d.text);
            goto out;
        }
        wxm_server_options so = {.host = "127.0.0.1"};
        if (wxm_mock_new(cfg, &m) != WXM_OK || wxm_server_start(m, &so, &srv, &d) != WXM_OK) {
            fprintf(stderr, "wxpay-conform: cannot start the mock: %s\n", d.text);
            goto out;
        }
        snprintf(r.base, sizeof(r.base), "http://127.0.0.1:%u", wxm_server_port(srv));
    }
    if (cf_admin(r.base, "GET", "/__admin/health", NULL, NULL) != 200) {
        status = bad("no wxpay-mock answers at ", r.base);
        goto out;
    }
    printf("wxpay-conform: mock at %s, %zu case%s, client: %s\n", r.base, nsel,
           nsel == 1 ? "" : "s", r.argv[0]);
    fflush(stdout);

    vs = calloc(nsel, sizeof(verdict));
    size_t failed = 0;
    for (size_t s = 0; s < nsel; s++) {
        const kase *k = &ks[sel[s]];
        printf("[%zu/%zu] %s ... ", s + 1, nsel, k->name);
        fflush(stdout);
        run_case(&r, k, sel[s], &vs[s]);
        failed += !vs[s].pass;
        printf("%s (%.1f s)\n", vs[s].pass ? "pass" : "FAIL", vs[s].seconds);
        fflush(stdout);
    }

    printf("\n%-38s %-5s %-9s %-5s %s\n", "CASE", "RESULT", "REQUESTS", "EXIT", "WHY");
    for (size_t s = 0; s < nsel; s++)
        printf("%-38s %-6s %-9d %-5d %s\n", ks[sel[s]].name, vs[s].pass ? "pass" : "FAIL",
               vs[s].requests, vs[s].exit_status, vs[s].why);
    printf("\n%zu passed, %zu failed\n", nsel - failed, failed);
    status = failed ? EXIT_FAILED : 0;
    if (junit && cf_write_junit(junit, ks, vs, sel, nsel) != 0)
        status = EXIT_FAILED;
    if (json && cf_write_json(json, ks, vs, sel, nsel) != 0)
        status = EXIT_FAILED;

out:
    for (size_t s = 0; vs && s < nsel; s++)
        cJSON_free(vs[s].diag);
    free(vs);
    wxm_server_stop(srv);
    wxm_mock_free(m);
    cf_http_cleanup();
    return status;
}
