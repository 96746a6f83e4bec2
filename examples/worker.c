/* worker.c -- the body of a search worker: train one candidate activation, with a deadline,
 * through the public API (include/actlab/run.h). Built by `make` into build/examples/worker.
 * Usage: worker [EXPR [SECONDS [TRAIN_IMAGES]]]; prints status, epochs and accuracies. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <actlab/actlab.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int past_deadline(void *deadline, const act_train_progress *p)   /* non-zero: stop */
{
    (void)p;
    return now_s() > *(const double *)deadline;
}

int main(int argc, char **argv)
{
    char act[8192];
    snprintf(act, sizeof act, "expr:%s", argc > 1 ? argv[1] : "x*sigmoid(beta*x)");
    double deadline = now_s() + (argc > 2 ? atof(argv[2]) : 60.0);
    act_dataset train, test;
    act_diag d;
    if (act_data_open("fashion-mnist", NULL, &train, &test, &d) != ACT_OK) {
        fprintf(stderr, "worker: %s\n", d.msg);
        return 1;
    }
    act_run_config c = act_run_config_default();   /* mlp:256x2, SGD, the default lr */
    c.act = act;
    c.train.epochs = 2;
    c.train.train_limit = argc > 3 ? (size_t)atol(argv[3]) : 10000;
    c.train.test_limit = 2000;
    c.train.on_batch = past_deadline;
    c.train.user = &deadline;
    act_run_result r;
    int rc = act_run_train(&c, &train, &test, &r, &d);
    printf("%s epochs=%d val_acc=%.4f test_acc=%.4f %s\n", act_status_name(rc), r.epochs,
           r.last.val_acc, r.last.test_acc, d.msg);
    act_data_free(&train);
    act_data_free(&test);
    return rc == ACT_OK || rc == ACT_ECANCELED || rc == ACT_EDIVERGED || rc == ACT_ERANGE ? 0 : 1;
}
