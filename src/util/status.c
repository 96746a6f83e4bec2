/* status.c -- act_strerror() and act_status_name(), generated from ACT_STATUS_LIST; the number
 * format of messages (act_fmt_float). */
#include <stdio.h>
#include <stdlib.h>

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

const char *act_fmt_float(float v, char *buf, size_t len)
{
    for (int prec = 6; prec < 9; prec++) {
        snprintf(buf, len, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            return buf;
    }
    snprintf(buf, len, "%.9g", (double)v);
    return buf;
}
