/* list_util.h -- tests of src/util (status codes, atomic files, statistics). */
#define TEST_LIST_UTIL(X)              \
    X(status_strings_are_complete)     \
    X(fmt_float_shortest_round_trip)   \
    X(util_rng)                        \
    X(util_file_atomic)                \
    X(util_file_errors)                \
    X(util_stats_t_quantile)           \
    X(util_stats_ci)                   \
    X(util_stats_p_zero)               \
    X(util_stats_holm)
