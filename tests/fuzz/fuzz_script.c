/* fuzz_script: scenario scripts and admin order bodies. Input: JSON; as an
 * array it is parsed as a script, as an object as a PUT /__admin/orders body. */
#include "fuzz.h"
#include "mock_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (!j)
        return 0;
    Wxm_step *steps = NULL;
    size_t n = 0;
    if (Wxm_script_parse(j, size % 2 ? WXM_SCRIPT_CERTIFICATES : WXM_SCRIPT_ORDER, &steps, &n,
                         NULL) == WXP_OK) {
        FUZZ_ASSERT(n <= WXM_MAX_SCRIPT);
        free(steps);
    }
    Wxm_order o;
    memset(&o, 0, sizeof(o));
    o.amount = 100;
    o.created_at = 1795849000;
    if (Wxm_order_from_json(j, &o, NULL) == WXP_OK) {
        FUZZ_ASSERT(o.nsteps <= WXM_MAX_SCRIPT && o.pos == 0);
        FUZZ_ASSERT(o.amount >= 1);
        cJSON *back = Wxm_order_admin_json(&o);
        FUZZ_ASSERT(back != NULL);
        cJSON_Delete(back);
    }
    cJSON_Delete(j);
    return 0;
}
