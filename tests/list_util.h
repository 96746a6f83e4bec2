/* list_util.h -- tests of src/util (status codes, atomic files). */
#define TEST_LIST_UTIL(X)              \
    X(status_strings_are_complete)     \
    X(util_rng)                        \
    X(util_file_atomic)                \
    X(util_file_errors)
