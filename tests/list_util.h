/* list_util.h -- tests of src/util (status codes, rng). */
#define TEST_LIST_UTIL(X) \
    X(status_strings_are_complete)
