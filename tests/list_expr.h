/* list_expr.h -- tests of the expr module, in the order they run. */
#define TEST_LIST_EXPR(X)
