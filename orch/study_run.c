/* study_run.c -- the study runner (study.h): trains the units of a study that have no summary
 * yet, N at once (one thread each, pulling the next unit), through the library (act_run_train,
 * checkpoint-resume), and writes each unit's summary atomically. Progress and results go to the
 * caller's callbacks; nothing here prints. The configuration and unit names are study.c. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actlab/file.h"
#include "actlab/nn.h"
#include "actlab/run.h"
#include "study.h"

struct run_state;

/* One of the units trained at once. */
typedef struct run_job {
    struct run_state *st;
    int               index;                     /* 0..n_jobs-1 */
} run_job;

/* What the jobs share; every field below mu is read and written under it, and every callback is
 * called under it. */
typedef struct run_state {
    const study_config   *c;
    const char           *dir;
    const study_unit     *units;
    const char           *is_done;
    const act_dataset    *train, *test;
    orch_study_callbacks  cb;
    int                   n_jobs;
    pthread_mutex_t       mu;
    int                   total, done, trained;   /* units: all, finished, trained this time */
    int                   next, n_div, stop, st;  /* next unit to look at; first failure: st */
    run_job               job[ORCH_STUDY_MAX_JOBS];
} run_state;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int on_batch(void *user, const act_train_progress *p)
{
    run_job *j = user;
    run_state *st = j->st;
    pthread_mutex_lock(&st->mu);
    st->cb.on_batch(st->cb.user, j->index, p);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

static const char *status_word(int rc)
{
    return rc == ACT_OK ? "ok" : rc == ACT_EDIVERGED ? "diverged" : "invalid";
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

/* net's learnable activation parameters, read from the parameter block p (laid out as net's),
 * grouped by name ("beta", "p1") over every layer, as "act_paramSUFFIX.NAME": [...] lines. */
static void write_param_arrays(FILE *f, const act_net *net, const float *p, const char *suffix)
{
    char names[8][32];
    int n_names = 0;
    for (int i = 0; i < act_net_n_segments(net); i++) {
        const act_param_seg *s = act_net_segment(net, i);
        if (!(s->flags & ACT_SEG_ACT) || !(s->flags & ACT_SEG_LEARN))
            continue;
        const char *nm = strrchr(s->name, '.');
        nm = nm ? nm + 1 : s->name;
        int k;
        for (k = 0; k < n_names && strcmp(names[k], nm); k++)
            ;
        if (k == n_names && n_names < 8)
            snprintf(names[n_names++], sizeof names[0], "%s", nm);
    }
    for (int k = 0; k < n_names; k++) {
        fprintf(f, ",\n  \"act_param%s.%s\": [", suffix, names[k]);
        int first = 1;
        for (int i = 0; i < act_net_n_segments(net); i++) {
            const act_param_seg *s = act_net_segment(net, i);
            const char *nm = strrchr(s->name, '.');
            nm = nm ? nm + 1 : s->name;
            if (!(s->flags & ACT_SEG_ACT) || !(s->flags & ACT_SEG_LEARN) ||
                strcmp(nm, names[k]))
                continue;
            for (size_t j = 0; j < s->size; j++) {
                fputs(first ? "" : ", ", f);
                json_num(f, (double)p[s->offset + j]);
                first = 0;
            }
        }
        fputc(']', f);
    }
}

/* The unit's learnable activation parameters: the trained ones of the checkpoint at ckpt
 * ("act_param.NAME"), then the initial ones ("act_param_init.NAME"), which act_run_net_new
 * draws from rc's seed exactly as the training did: one net, its initial block kept before the
 * checkpoint is loaded over it. */
static int dump_params(FILE *f, const act_run_config *rc, const act_dataset *like,
                       const char *ckpt, act_diag *d)
{
    act_run_act *a = NULL;
    act_net *net = NULL;
    float *init = NULL;
    int st = act_run_act_new(rc, &a, d);
    if (st == ACT_OK)
        st = act_run_net_new(rc, like, a, &net, d);
    if (st == ACT_OK) {
        size_t n = act_net_n_params(net);
        init = malloc((n ? n : 1) * sizeof *init);
        if (init)
            memcpy(init, act_net_params(net), n * sizeof *init);
        else
            st = ACT_ENOMEM;
    }
    if (st == ACT_OK)
        st = act_ckpt_load(ckpt, net, NULL, NULL, d);
    if (st == ACT_OK) {
        write_param_arrays(f, net, act_net_params(net), "");
        write_param_arrays(f, net, init, "_init");
    }
    free(init);
    act_net_free(net);
    act_run_act_free(a);
    return st;
}

/* Trains unit u into DIR/units/FILE: epochs 1..E-1 without the test set, checkpointed in
 * DIR/work/, then epoch E (resumed from that checkpoint) with it, so the test set is evaluated
 * once; an interrupted unit continues from its checkpoint. Returns an act_status: ACT_OK also
 * for a run that diverged (recorded as such; *diverged set), with the result line in result;
 * else an error, its message in result. Called without the lock. */
static int run_unit(run_job *j, const study_unit *u, char *result, size_t result_len,
                    int *diverged)
{
    run_state *st = j->st;
    const study_config *c = st->c;
    const act_dataset *train = st->train, *test = st->test;
    char spec[256], file[512], ckpt[4096], path[4096];
    study_unit_spec(c, u, spec, sizeof spec);
    study_unit_file(c, u, file, sizeof file);
    snprintf(path, sizeof path, "%s/units/%s", st->dir, file);
    snprintf(ckpt, sizeof ckpt, "%s/work/%.*s.ckpt", st->dir, (int)(strlen(file) - 5), file);
    act_run_config rc = act_run_config_default();
    rc.data = c->data;
    rc.model = spec;
    rc.act = study_unit_act(c, u);
    rc.act_stem = !c->keep_stem;
    ACT_IGNORE(act_nn_init_lookup(c->init.v[u->init], &rc.init));   /* checked on reading */
    rc.threads = c->threads;
    act_train_config *t = &rc.train;
    act_opt_kind ok = ACT_OPT_SGD;
    if (act_opt_lookup(c->opt, &ok) != ACT_OK)
        return ACT_EINVAL;
    t->opt = act_optim_config_default(ok);
    if (ok == ACT_OPT_SGD)
        t->opt.momentum = (float)c->momentum;
    if (c->wd >= 0)
        t->opt.weight_decay = (float)c->wd;
    if (act_sched_lookup(c->sched, &t->sched.kind) != ACT_OK)
        return ACT_EINVAL;
    t->sched.lr = c->lrs[u->lr] > 0 ? (float)c->lrs[u->lr] : act_run_default_lr(ok);
    t->epochs = c->epochs;
    t->batch = (size_t)c->batch;
    t->val_size = (size_t)c->val_images;
    t->train_limit = (size_t)c->train_images;
    t->test_limit = (size_t)c->test_images;
    t->seed = (uint64_t)u->seed;
    t->checkpoint = ckpt;
    t->on_batch = st->cb.on_batch ? on_batch : NULL;
    t->user = j;

    act_diag d;
    act_ckpt_meta m = { 0 };
    int start = act_ckpt_read_meta(ckpt, &m, &d) == ACT_OK ? m.epoch : 0;
    act_ckpt_meta_free(&m);
    act_run_result r;
    int rc_train = ACT_OK;
    const int E = c->epochs;
    if (start < E - 1) {   /* epochs 1..E-1, no test set */
        t->epochs = E - 1;
        t->resume = start > 0 ? ckpt : NULL;
        rc_train = act_run_train(&rc, train, NULL, &r, &d);
        start = r.epochs;
    }
    if (rc_train == ACT_OK && start < E) {   /* the last epoch, with the test set */
        t->epochs = E;
        t->resume = start > 0 ? ckpt : NULL;
        rc_train = act_run_train(&rc, train, test, &r, &d);
    }
    if (rc_train != ACT_OK && rc_train != ACT_EDIVERGED && rc_train != ACT_ERANGE) {
        snprintf(result, result_len, "unit %s: %s%s%s", file, act_strerror(rc_train),
                 d.msg[0] ? ": " : "", d.msg);
        return rc_train;
    }
    // the record of every epoch, from the checkpoint (none if the first epoch diverged)
    memset(&m, 0, sizeof m);
    int have = act_ckpt_read_meta(ckpt, &m, &d) == ACT_OK;
    int epochs = have ? m.epoch : 0;
    const act_epoch_stats *last = epochs ? &m.hist[epochs - 1] : NULL;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) {
        act_ckpt_meta_free(&m);
        snprintf(result, result_len, "out of memory");
        return ACT_ENOMEM;
    }
    char lrbuf[32];
    fprintf(f, "{\n  \"unit\": \"%s\",\n  \"act\": \"", file);
    for (const char *p = rc.act; *p; p++)
        fprintf(f, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    fprintf(f, "\",\n  \"model\": \"%s\",\n  \"bn\": \"%s\",\n  \"init\": \"%s\",\n"
               "  \"lr\": %s,\n  \"seed\": %d,\n  \"status\": \"%s\",\n  \"epochs\": %d,\n"
               "  \"val_acc\": ", spec, c->bn.v[u->bn], c->init.v[u->init],
            act_fmt_float(t->sched.lr, lrbuf, sizeof lrbuf), u->seed, status_word(rc_train),
            epochs);
    int ok_run = rc_train == ACT_OK && epochs == E;
    *diverged = !ok_run;
    json_num(f, ok_run ? last->val_acc : NAN);
    fputs(",\n  \"test_acc\": ", f);
    json_num(f, ok_run ? last->test_acc : NAN);
    fputs(",\n  \"train_loss\": ", f);
    json_num(f, ok_run ? last->train_loss : NAN);
    double secs = 0.0;
    for (int e = 0; e < epochs; e++)
        secs += m.hist[e].wall_s;
    fputs(",\n  \"seconds\": ", f);
    json_num(f, secs);
    fprintf(f, ",\n  \"n_params\": %zu", r.n_params);
    uint64_t hash = 0;
    if (act_run_config_hash(&rc, &hash) == ACT_OK)
        fprintf(f, ",\n  \"config_hash\": \"%016llx\"", (unsigned long long)hash);
    const char *curve_key[2] = { "val_curve", "train_loss_curve" };
    for (int k = 0; k < 2; k++) {
        fprintf(f, ",\n  \"%s\": [", curve_key[k]);
        for (int e = 0; e < epochs; e++) {
            fputs(e ? ", " : "", f);
            json_num(f, k ? m.hist[e].train_loss : m.hist[e].val_acc);
        }
        fputc(']', f);
    }
    int st_dump = ACT_OK;
    if (c->dump_params && ok_run)
        st_dump = dump_params(f, &rc, train, ckpt, &d);
    fputs("\n}\n", f);
    int bad = fclose(f) != 0;
    if (ok_run)
        snprintf(result, result_len, "ok, val %.4f, test %.4f, %.1f s", last->val_acc,
                 last->test_acc, secs);
    else
        snprintf(result, result_len, "%s in epoch %d of %d", status_word(rc_train),
                 epochs < E ? epochs + 1 : E, E);   /* epochs: the ones completed before it */
    act_ckpt_meta_free(&m);
    if (st_dump != ACT_OK) {
        snprintf(result, result_len, "unit %s: the trained parameters cannot be read back: %s",
                 file, d.msg[0] ? d.msg : act_strerror(st_dump));
        free(buf);
        return st_dump;
    }
    int st_write = bad ? ACT_ENOMEM : act_file_write_atomic(path, buf, n, 0, &d);
    free(buf);
    if (st_write != ACT_OK) {
        snprintf(result, result_len, "%s",
                 bad ? "out of memory" : d.msg[0] ? d.msg : act_strerror(st_write));
        return ACT_EIO;
    }
    if (unlink(ckpt) != 0 && errno != ENOENT) {
        char w[4400];
        snprintf(w, sizeof w, "warning: cannot remove '%s': %s", ckpt, strerror(errno));
        pthread_mutex_lock(&st->mu);
        if (st->cb.on_warning)
            st->cb.on_warning(st->cb.user, w);
        pthread_mutex_unlock(&st->mu);
    }
    return ACT_OK;
}


/* One job: takes the next unit not done, trains it, reports it; until none is left or a job
 * failed (an I/O error: the others finish their unit and stop). Units are independent runs
 * with their own seeds, so the summaries do not depend on how many jobs train them. */
static void *job_main(void *arg)
{
    run_job *j = arg;
    run_state *st = j->st;
    char label[512], result[4608];
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (st->next < st->total && st->is_done[st->next])
            st->next++;
        if (st->stop || st->next >= st->total)
            break;
        int i = st->next++;
        study_unit_label(st->c, &st->units[i], label, sizeof label);
        orch_study_event ev = { .job = j->index, .unit = i, .label = label };
        if (st->cb.on_unit)
            st->cb.on_unit(st->cb.user, &ev);
        pthread_mutex_unlock(&st->mu);

        double t0 = now_s();
        int diverged = 0;
        result[0] = '\0';
        int rc = run_unit(j, &st->units[i], result, sizeof result, &diverged);
        double secs = now_s() - t0;

        pthread_mutex_lock(&st->mu);
        ev.status = rc;
        ev.diverged = rc == ACT_OK && diverged;
        ev.text = result;
        ev.seconds = secs;
        if (rc != ACT_OK) {
            if (!st->stop)
                st->st = rc;
            st->stop = 1;
            if (st->cb.on_unit_done)
                (void)st->cb.on_unit_done(st->cb.user, &ev);
            break;
        }
        st->n_div += ev.diverged;
        st->trained++;
        st->done++;
        if (st->cb.on_unit_done && st->cb.on_unit_done(st->cb.user, &ev) != 0) {
            if (!st->stop)
                st->st = ACT_ECANCELED;
            st->stop = 1;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

int orch_study_run(const study_config *c, const char *dir, int jobs, const act_dataset *train,
                   const act_dataset *test, const orch_study_callbacks *cb,
                   orch_study_stats *stats)
{
    if (stats)
        *stats = (orch_study_stats){ 0 };
    if (!c || !dir || !train || !test || jobs < 1)
        return ACT_EINVAL;
    study_unit *units = NULL;
    int n_units = study_units(c, &units);
    if (n_units < 0)
        return ACT_ENOMEM;
    char *is_done = calloc((size_t)n_units + 1, 1);
    run_state *rs = calloc(1, sizeof *rs);
    if (!is_done || !rs) {
        free(is_done);
        free(rs);
        free(units);
        return ACT_ENOMEM;
    }
    *rs = (run_state){ .c = c, .dir = dir, .units = units, .is_done = is_done, .train = train,
                       .test = test, .total = n_units };
    if (cb)
        rs->cb = *cb;
    // resume: a unit whose summary is complete is done
    for (int i = 0; i < n_units; i++) {
        char file[512], path[4700];
        study_unit_file(c, &units[i], file, sizeof file);
        snprintf(path, sizeof path, "%s/units/%s", dir, file);
        char *j = NULL;
        ACT_IGNORE(act_file_read(path, &j, NULL, NULL));   /* none: not done */
        if (j && strstr(j, "\"status\":") && strstr(j, "\n}\n"))
            is_done[i] = 1;
        rs->done += is_done[i];
        free(j);
    }
    if (jobs > n_units - rs->done)
        jobs = n_units - rs->done > 0 ? n_units - rs->done : 1;
    rs->n_jobs = jobs < ORCH_STUDY_MAX_JOBS ? jobs : ORCH_STUDY_MAX_JOBS;
    if (rs->cb.on_start)
        rs->cb.on_start(rs->cb.user, rs->done, n_units, rs->n_jobs);
    pthread_mutex_init(&rs->mu, NULL);
    pthread_t tid[ORCH_STUDY_MAX_JOBS];
    int started = 1;
    for (int j = 0; j < rs->n_jobs; j++)
        rs->job[j] = (run_job){ rs, j };
    for (int j = 1; j < rs->n_jobs; j++, started++)
        if (pthread_create(&tid[j], NULL, job_main, &rs->job[j]) != 0)
            break;   /* fewer jobs: the ones started share the units */
    job_main(&rs->job[0]);
    for (int j = 1; j < started; j++)
        pthread_join(tid[j], NULL);
    pthread_mutex_destroy(&rs->mu);
    int st = rs->st;
    if (stats)
        *stats = (orch_study_stats){ .total = n_units, .done = rs->done,
                                     .trained = rs->trained, .diverged = rs->n_div };
    free(rs);
    free(is_done);
    free(units);
    return st;
}
