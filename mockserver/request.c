/* request.c: reading a request as received: headers by name, query
 * parameters by name (percent-decoded). */
#include "mock_int.h"
#include "wxp_int.h"

#include <string.h>
#include <strings.h>

const wxm_header *Wxm_find_header(const wxm_request *r, const char *name, size_t *count)
{
    const wxm_header *first = NULL;
    size_t n = 0, len = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++) {
        const wxm_header *h = &r->headers[i];
        if (h->name.len == len && strncasecmp(h->name.ptr, name, len) == 0) {
            if (!first)
                first = h;
            n++;
        }
    }
    if (count)
        *count = n;
    return first;
}

Wxm_param Wxm_query_param(wxp_span q, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name), i = 0;
    while (q.ptr && i < q.len) {
        size_t s = i;
        while (i < q.len && q.ptr[i] != '&')
            i++;
        if (i - s > nl && memcmp(q.ptr + s, name, nl) == 0 && q.ptr[s + nl] == '=') {
            size_t n = Wxp_percent_decode(q.ptr + s + nl + 1, i - s - nl - 1, out, cap);
            if (n >= cap)
                return WXM_PARAM_TOO_LONG;
            return strlen(out) == n ? WXM_PARAM_OK : WXM_PARAM_NUL;
        }
        i++;
    }
    return WXM_PARAM_ABSENT;
}
