/* list_act.h -- tests of the act module, in the order they run. */
#define TEST_LIST_ACT(X)
