/* Status names and descriptions, from the one table in core.h. */
#include "core/internal.h"

const char *nas_status_name(nas_status_t status)
{
    switch (status) {
#define NAS_X_NAME(e, v, n, d) case e: return n;
        NAS_STATUS_TABLE(NAS_X_NAME)
#undef NAS_X_NAME
    default:
        return "unknown";
    }
}

const char *nas_status_str(nas_status_t status)
{
    switch (status) {
#define NAS_X_STR(e, v, n, d) case e: return d;
        NAS_STATUS_TABLE(NAS_X_STR)
#undef NAS_X_STR
    default:
        return "unknown status";
    }
}

const char *nas_version_string(void)
{
    return NAS_VERSION_STRING;
}

uint32_t nas_version_number(void)
{
    return NAS_VERSION_NUMBER;
}
