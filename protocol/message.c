/* message.c: the exact strings that requests and responses sign
 * (docs/protocol.md sections 2 and 3). Every line ends with '\n', the last too. */
#include "wxp_int.h"

#include <inttypes.h>
#include <stdio.h>

static bool has_newline(wxp_span s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == '\n')
            return true;
    return false;
}

wxp_err wxp_request_message(wxp_span method, wxp_span target, int64_t timestamp, wxp_span nonce,
                            wxp_span body, char **out, size_t *out_len)
{
    char ts[24];
    const wxp_span nl = {"\n", 1};

    if (!out || (!method.ptr && method.len) || (!target.ptr && target.len) ||
        (!nonce.ptr && nonce.len) || (!body.ptr && body.len) || timestamp < 0)
        return WXP_ERR_ARG;
    /* A newline inside a single-line part would let one message pose as
     * another; the body may hold any bytes. */
    if (has_newline(method) || has_newline(target) || has_newline(nonce))
        return WXP_ERR_ARG;
    snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
    wxp_span parts[] = {method, nl, target, nl, wxp_span_of(ts), nl, nonce, nl, body, nl};
    return Wxp_concat(parts, sizeof(parts) / sizeof(parts[0]), out, out_len);
}

wxp_err wxp_response_message(wxp_span timestamp, wxp_span nonce, wxp_span body, char **out,
                             size_t *out_len)
{
    const wxp_span nl = {"\n", 1};

    if (!out || (!timestamp.ptr && timestamp.len) || (!nonce.ptr && nonce.len) ||
        (!body.ptr && body.len))
        return WXP_ERR_ARG;
    if (has_newline(timestamp) || has_newline(nonce))
        return WXP_ERR_ARG;
    wxp_span parts[] = {timestamp, nl, nonce, nl, body, nl};
    return Wxp_concat(parts, sizeof(parts) / sizeof(parts[0]), out, out_len);
}
