/* list_nn.h -- tests of the nn module, in the order they run. */
#define TEST_LIST_NN(X)
