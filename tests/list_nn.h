/* list_nn.h -- tests of the nn module, in the order they run. */
#define TEST_LIST_NN(X)                 \
    X(nn_conv_matches_reference)        \
    X(nn_conv3x3_matches_reference)     \
    X(nn_wino_matches_reference)        \
    X(nn_wino_net)                      \
    X(nn_grad_dense)                    \
    X(nn_grad_conv)                     \
    X(nn_grad_dwconv)                   \
    X(nn_grad_batchnorm)                \
    X(nn_grad_pool)                     \
    X(nn_bnpool_matches_reference)      \
    X(nn_grad_add_dropout)              \
    X(nn_grad_act_layers)               \
    X(nn_grad_meta_acon)                \
    X(nn_grad_frelu)                    \
    X(nn_grad_models)                   \
    X(nn_optim_step)                    \
    X(nn_optim_threads)                 \
    X(nn_schedules)                     \
    X(nn_idx_reader)                    \
    X(nn_data_gzip_crc)                 \
    X(nn_data_trailing)                 \
    X(nn_data_labels)                   \
    X(nn_bad_specs)                     \
    X(nn_learns_synthetic)              \
    X(nn_deterministic_and_resume)      \
    X(nn_act_params_refused)            \
    X(nn_act_params_leave_domain)       \
    X(nn_ckpt_validates_fields)         \
    X(nn_ckpt_resume_same_run)          \
    X(nn_run_config_text)               \
    X(nn_run_act_resolve)               \
    X(nn_run_train)                     \
    X(nn_backward_ignores_stale_grads)  \
    X(nn_init_torch)                    \
    X(nn_fashion_mnist_85)
