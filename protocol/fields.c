/* fields.c: value rules for out_trade_no, appid and mchid (docs/protocol.md
 * sections 1 and 4). The diagnostic quotes the value and names the first
 * offending character. */
#include "wxp_int.h"

#include <string.h>

static wxp_err check(wxp_span v, const char *field, size_t min, size_t max,
                     const char *allowed_extra, bool digits_only, const char *allowed_text,
                     wxp_diag *diag)
{
    char q[80];

    if (!v.ptr && v.len)
        return WXP_ERR_ARG;
    wxp_quote(q, sizeof(q), v, 48);
    if (v.len < min || v.len > max)
        return wxp_fail(diag, WXP_ERR_FIELD_LENGTH, field,
                        "%s \"%s\" has %zu characters; it must have %zu to %zu", field, q, v.len,
                        min, max);
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        bool ok = (c >= '0' && c <= '9') ||
                  (!digits_only && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                    (c != '\0' && strchr(allowed_extra, c))));
        if (!ok)
            return wxp_fail(diag, WXP_ERR_FIELD_CHARSET, field,
                            "%s \"%s\" holds byte 0x%02X at offset %zu; allowed: %s", field, q,
                            (unsigned char)c, i, allowed_text);
    }
    return WXP_OK;
}

wxp_err wxp_check_out_trade_no(wxp_span v, wxp_diag *diag)
{
    return check(v, "out_trade_no", 6, 32, "_-|*", false, "[0-9A-Za-z_-|*]", diag);
}

wxp_err wxp_check_appid(wxp_span v, wxp_diag *diag)
{
    return check(v, "appid", 1, WXP_ID_MAX, "_-", false, "[0-9A-Za-z_-]", diag);
}

wxp_err wxp_check_mchid(wxp_span v, wxp_diag *diag)
{
    return check(v, "mchid", 1, WXP_ID_MAX, "", true, "digits", diag);
}
