/* reverse_example.c: libwxpay in one page, sync and async. docs/clients.md shows
 * this file; the CLI tests run it against wxpay-mock.
 *
 * Usage: wxpay-example BASE_URL FIXTURES_DIR */
#include <wxpay/wxpay.h>

#include <stdio.h>

#define APPID "wxd678efh567hg6787"

static void done(void *user, wxpay_result *r)
{
    int *ok = user;
    if (wxpay_result_code(r) == WXPAY_OK)
        ++*ok;
    printf("async: %s -> %s\n", wxpay_result_out_trade_no(r), wxpay_result_detail(r));
    wxpay_result_free(r); /* the callback owns the result */
}

int main(int argc, char **argv)
{
    char key[512], cert[512], pub[512];
    if (argc != 3) {
        fprintf(stderr, "usage: wxpay-example BASE_URL FIXTURES_DIR\n");
        return 2;
    }
    snprintf(key, sizeof(key), "%s/keys/merchant_key.pem", argv[2]);
    snprintf(cert, sizeof(cert), "%s/keys/merchant_cert.pem", argv[2]);
    snprintf(pub, sizeof(pub), "%s/keys/wechatpay_pub.pem", argv[2]);

    if (wxpay_global_init() != WXPAY_OK) { /* once, before threads */
        fprintf(stderr, "cannot initialise libcurl\n");
        return 1;
    }
    wxpay_client *c = wxpay_client_new(); /* one per thread */
    if (!c || wxpay_set_base_url(c, argv[1]) || wxpay_set_mchid(c, "1230000109") ||
        wxpay_set_merchant_key_file(c, key, NULL) || wxpay_set_merchant_cert_file(c, cert) ||
        wxpay_add_wechatpay_public_key_file(c, pub,
                                            "PUB_KEY_ID_01123000010920261128000000000001")) {
        fprintf(stderr, "setup: %s\n", wxpay_client_error(c));
        return 2;
    }

    /* Sync: one call, one result that says how it ended. */
    wxpay_result *r = NULL;
    int failures = 0;
    const char *orders[] = {"paid_example_1", "closed_example_1"};
    for (int i = 0; i < 2; i++) {
        switch (wxpay_reverse(c, orders[i], APPID, &r)) {
        case WXPAY_OK: printf("sync: reversed %s\n", wxpay_result_out_trade_no(r)); break;
        case WXPAY_E_BUSINESS:
            printf("sync: %s %s: %s\n", orders[i], wxpay_result_error_code(r),
                   wxpay_result_error_message(r));
            break;
        default:
            printf("sync: %s failed: %s\n", orders[i], wxpay_result_detail(r));
            failures++;
            break;
        }
        wxpay_result_free(r);
    }

    /* The seed's chain style goes through the generic call. */
    wxp_param p = {"out_trade_no", "chain_example_1"};
    if (wxpay_request(c, "POST", "v3/pay/transactions/outTradeNo/_out_trade_no_/reverse", &p, 1,
                      "{\"appid\":\"" APPID "\",\"mchid\":\"1230000109\"}", &r) != WXPAY_OK)
        failures++;
    printf("chain: %s\n", wxpay_result_detail(r));
    wxpay_result_free(r);

    /* Async: several at once on one client. */
    int ok = 0;
    wxpay_multi *m = wxpay_multi_new(c);
    if (!m || wxpay_multi_add_reverse(m, "async_example_1", APPID, done, &ok) ||
        wxpay_multi_add_reverse(m, "syserr_example_1", APPID, done, &ok) /* retried */) {
        fprintf(stderr, "async: %s\n", wxpay_client_error(c));
        failures++;
    }
    wxpay_multi_wait(m); /* or call wxpay_multi_poll(m, ms) from your own loop */
    wxpay_multi_free(m);

    wxpay_client_free(c);
    wxpay_global_cleanup();
    return failures == 0 && ok == 2 ? 0 : 1;
}
