/* test_util.c -- tests of src/util: the status list. */
#include <string.h>

#include "actlab/status.h"
#include "test.h"

void test_status_strings_are_complete(void)
{
#define X(NAME, value, msg)                                                   \
    CHECK(strcmp(act_strerror(ACT_##NAME), msg) == 0);                        \
    CHECK(strcmp(act_status_name(ACT_##NAME), #NAME) == 0);
    ACT_STATUS_LIST(X)
#undef X
    CHECK(strcmp(act_strerror(12345), "unknown error") == 0);
}
