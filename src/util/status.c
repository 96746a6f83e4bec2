/* status.c -- act_strerror() and act_status_name(), generated from ACT_STATUS_LIST. */
#include "actlab/status.h"

const char *act_strerror(int status)
{
    switch (status) {
#define X(NAME, value, msg) case value: return msg;
    ACT_STATUS_LIST(X)
#undef X
    default: break;
    }
    return "unknown error";
}

const char *act_status_name(int status)
{
    switch (status) {
#define X(NAME, value, msg) case value: return #NAME;
    ACT_STATUS_LIST(X)
#undef X
    default: break;
    }
    return "UNKNOWN";
}
