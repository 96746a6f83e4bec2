/* test_orch_study.c -- a study (orch/study.h): its file resolves to the expected values, [quick]
 * over the main section, acts[MODEL], the canonical text reads back to itself; bad files refused
 * with FILE:LINE and the valid keys; the units in run order with their names; and a tiny real
 * study (Fashion-MNIST, mlp:16x1, 500 images) through the runner: 2 jobs write the same summaries
 * as 1, and a second run trains only the units without a complete summary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../orch/study.h"
#include "actlab/file.h"
#include "test.h"

/* The whole file at path (malloc'ed, NUL-terminated), or NULL. */
static char *read_all(const char *path)
{
    char *t = NULL;
    return act_file_read(path, &t, NULL, NULL) == ACT_OK ? t : NULL;
}

// ----------------------------------------------------------------------------
// helpers

/* Writes text to dir/name; the path into path (4096 bytes). */
static void put(const char *dir, const char *name, const char *text, char *path)
{
    snprintf(path, 4096, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        CHECK(fclose(f) == 0);
    }
}

static const char conf_text[] =
    "# a study\n"
    "title = a test\n"
    "claim = none\n"
    "budget = seconds   # a comment\n"
    "acts = relu swish\n"
    "models = mlp:16x1 mlp:16x2\n"
    "acts[mlp:16x2] = relu silu\n"
    "seeds = 2\n"
    "lr = 0.05\n"
    "lr_sweep = 0.1 0.05 0.2\n"
    "epochs = 4\n"
    "train_images = 1000\n"
    "opt = adam\n"
    "dump_params = on\n"
    "\n"
    "[quick]\n"
    "seeds = 1\n"
    "epochs = 1\n"
    "models = mlp:16x1\n";

// ----------------------------------------------------------------------------
// the configuration

void test_orch_study_config_values(void)
{
    char dir[64], path[4096], err[1024];
    if (!test_tmpdir(dir, "study"))
        return;
    put(dir, "a.conf", conf_text, path);
    study_config c;
    int st = study_config_read(path, 0, &c, err, sizeof err);
    CHECKF(st == ACT_OK, "%s", err);
    if (st == ACT_OK) {
        CHECK(!strcmp(c.title, "a test") && !strcmp(c.budget, "seconds") &&
              !strcmp(c.variant, "full") && !strcmp(c.data, "fashion-mnist") &&
              !strcmp(c.baseline, "relu") && !strcmp(c.opt, "adam") &&
              !strcmp(c.sched, "constant"));
        CHECK(c.acts.n == 2 && !strcmp(c.acts.v[0], "relu") && !strcmp(c.acts.v[1], "swish"));
        CHECK(c.models.n == 2 && !strcmp(c.models.v[1], "mlp:16x2"));
        CHECK(c.bn.n == 1 && !strcmp(c.bn.v[0], "off") && c.init.n == 1 &&
              !strcmp(c.init.v[0], "he"));
        CHECK(c.seeds == 2 && c.epochs == 4 && c.train_images == 1000 &&
              c.val_images == 5000 && c.test_images == 0 && c.batch == 128 && c.threads == 1);
        CHECK(c.momentum == 0.9 && c.wd == -1.0 && c.keep_stem == 0 && c.dump_params == 1);
        /* the shared lr first and once, then the sweep's others in their order */
        CHECK(c.lr == 0.05 && c.n_lrs == 3 && c.lrs[0] == 0.05 && c.lrs[1] == 0.1 &&
              c.lrs[2] == 0.2);
        /* acts[MODEL] */
        const study_list *a0 = study_acts_of(&c, 0), *a1 = study_acts_of(&c, 1);
        CHECK(a0 == &c.acts);
        CHECK(a1->n == 2 && !strcmp(a1->v[0], "relu") && !strcmp(a1->v[1], "silu"));
        CHECK(c.acts_line == 5 && c.models_line == 6 && c.model_acts_line[1] == 7);

        /* the canonical text reads back to itself */
        char *t = study_config_text(&c);
        CHECK(t && strstr(t, "\nvariant = full\n") && strstr(t, "\nacts[mlp:16x2] = relu silu\n")
              && strstr(t, "\nlr_sweep = 0.1 0.2\n") && !strstr(t, "[quick]"));
        if (t) {
            char p2[4096];
            put(dir, "b.conf", t, p2);
            study_config r;
            st = study_config_read(p2, 0, &r, err, sizeof err);
            CHECKF(st == ACT_OK, "%s", err);
            char *t2 = st == ACT_OK ? study_config_text(&r) : NULL;
            CHECKF(t2 && !strcmp(t, t2), "read back:\n%s\nvs\n%s", t2 ? t2 : "", t);
            free(t2);
            study_config_free(&r);
        }
        free(t);
    }
    study_config_free(&c);

    /* [quick] over the main section: its models, so acts[MODEL] of the main one is dropped */
    st = study_config_read(path, 1, &c, err, sizeof err);
    CHECKF(st == ACT_OK, "%s", err);
    if (st == ACT_OK) {
        CHECK(!strcmp(c.variant, "quick") && c.seeds == 1 && c.epochs == 1 &&
              c.train_images == 1000 && c.models.n == 1 && !strcmp(c.models.v[0], "mlp:16x1"));
        study_unit *u = NULL;
        CHECK(study_units(&c, &u) == 2 * 3);   /* 2 acts x 3 lrs x 1 seed */
        free(u);
    }
    study_config_free(&c);
    study_config_free(&c);   /* twice is harmless */
    test_rmdir_all(dir);
}

/* Reads "title = x\nbudget = y\nLINE\nacts = relu swish\nmodels = mlp:16x1\n"; the status, the
 * message in err. */
static int read_bad(const char *dir, const char *line, char *err, size_t len)
{
    char text[512], path[4096];
    snprintf(text, sizeof text, "title = x\nbudget = y\n%s\nacts = relu swish\n"
             "models = mlp:16x1\n", line);
    put(dir, "bad.conf", text, path);
    study_config c;
    int st = study_config_read(path, 0, &c, err, len);
    study_config_free(&c);
    return st;
}

void test_orch_study_config_errors(void)
{
    char dir[64], err[1024], want[4200];
    if (!test_tmpdir(dir, "study"))
        return;
    static const struct { const char *line, *msg; } bad[] = {
        { "epoch = 3",        "bad.conf:3: unknown key 'epoch'\n  valid keys: title claim "
                              "budget variant data acts baseline models bn init seeds lr " },
        { "seeds = 0",        "bad.conf:3: seeds wants a number in [1, 100], got '0'" },
        { "seeds = 1.5",      "bad.conf:3: seeds wants an integer, got '1.5'" },
        { "bn = maybe",       "bad.conf:3: bn wants off and/or on, got 'maybe'" },
        { "init = xavier",    "bad.conf:3: init wants he, torch, gain and/or lsuv" },
        { "opt = lbfgs",      "bad.conf:3: opt wants sgd, adam or adamw, got 'lbfgs'" },
        { "keep_stem = yes",  "bad.conf:3: keep_stem wants on or off, got 'yes'" },
        { "[slow]",           "bad.conf:3: unknown section '[slow]' (valid: [quick])" },
        { "acts[cnn] = relu", "bad.conf:3: acts[cnn]: not one of the models" },
        { "no equals sign",   "bad.conf:3: expected KEY = VALUE, got 'no equals sign'\n"
                              "  valid keys: title" },
        { "title = again",    "bad.conf:3: title given twice in one section (first on line 1)" },
        { "baseline = elu",   "bad.conf:3: the baseline 'elu' is not among the activations of "
                              "mlp:16x1" },
        { "init = he,lsuv",   "bad.conf:3: init: 'he,lsuv': separate items with spaces" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = read_bad(dir, bad[i].line, err, sizeof err);
        snprintf(want, sizeof want, "%s/%s", dir, bad[i].msg);
        CHECKF(st == ACT_EFORMAT && !strncmp(err, want, strlen(want)),
               "'%s': status %d, message '%s'", bad[i].line, st, err);
    }
    /* the valid-keys line is the second line, complete */
    read_bad(dir, "epoch = 3", err, sizeof err);
    const char *nl = strchr(err, '\n');
    CHECKF(nl && !strchr(nl + 1, '\n') && strstr(nl, " dump_params, acts[MODEL]; sections: "
           "[quick]") && nl[strlen(nl) - 1] == ']', "'%s'", err);
    /* a required key missing; a missing file (not a format error) */
    char path[4096];
    put(dir, "t.conf", "budget = y\nacts = relu\nmodels = mlp:16x1\n", path);
    study_config c;
    int st = study_config_read(path, 0, &c, err, sizeof err);
    snprintf(want, sizeof want, "%s: the key 'title' is required", path);
    CHECKF(st == ACT_EFORMAT && !strcmp(err, want), "'%s'", err);
    study_config_free(&c);
    snprintf(path, sizeof path, "%s/none.conf", dir);
    st = study_config_read(path, 0, &c, err, sizeof err);
    CHECKF(st == ACT_EIO && strstr(err, "the study file: cannot read '") &&
           strstr(err, "No such file"), "%d '%s'", st, err);
    study_config_free(&c);
    /* a short buffer is cut, terminated */
    char small[16];
    CHECK(read_bad(dir, "epoch = 3", small, sizeof small) == ACT_EFORMAT &&
          strlen(small) == sizeof small - 1);
    test_rmdir_all(dir);
}

// ----------------------------------------------------------------------------
// units

/* A study directory's configuration may differ only in threads, budget and seeds on resume. */
void test_orch_study_same_runs(void)
{
    const char *a = "# c\ntitle = t\nbudget = 1 h\nseeds = 3\nthreads = 1\ndump_params = off\n";
    CHECK(study_config_same_runs(a, a));
    CHECK(study_config_same_runs(a, "# c\ntitle = t\nbudget = 2 h, revised\nseeds = 3\n"
                                    "threads = 4\ndump_params = off\n"));
    CHECK(study_config_same_runs(a, "# c\ntitle = t\nseeds = 3\ndump_params = off\n"));
    CHECK(study_config_same_runs(a, "# c\ntitle = t\nbudget = 1 h\nseeds = 5\n"
                                    "threads = 1\ndump_params = off\n"));
    CHECK(!study_config_same_runs(a, "# c\ntitle = u\nbudget = 1 h\nseeds = 3\n"
                                     "threads = 1\ndump_params = off\n"));
    CHECK(!study_config_same_runs(a, "# c\ntitle = t\nbudget = 1 h\nseeds = 3\n"
                                     "threads = 1\n"));
    CHECK(!study_config_same_runs(a, "# c\ntitle = t\nbudget = 1 h\nseeds = 3\n"
                                     "threads = 1\ndump_params = off\nlr = 1\n"));
    CHECK(!study_config_same_runs(a, "# c\ntitle = t\nbudget = 1 h\nseeds = 3\n"
                                     "threads = 1\ndump_params = offf\n"));
    CHECK(!study_config_same_runs(a, "# c\ntitle = t\nbudget = 1 h\nseeds = 3\n"
                                     "threads = 1\ndump_params = of\n"));
    CHECK(study_config_same_runs("seeds = 3\n", "seeds = 3"));   /* a last newline is no run */
    CHECK(study_config_same_runs("", "threads = 2\nbudget = x\n"));
}

void test_orch_study_units(void)
{
    char dir[64], path[4096], err[1024];
    if (!test_tmpdir(dir, "study"))
        return;
    put(dir, "u.conf", "title = u\nbudget = b\nacts = relu swish\nmodels = mlp:16x1 mlp:16x2\n"
        "acts[mlp:16x2] = relu\nbn = off on\ninit = he lsuv\nseeds = 2\nlr = 0.05\n"
        "lr_sweep = 0.1\n", path);
    study_config c;
    int st = study_config_read(path, 0, &c, err, sizeof err);
    CHECKF(st == ACT_OK, "%s", err);
    study_unit *u = NULL;
    int n = st == ACT_OK ? study_units(&c, &u) : -1;
    /* (2 + 1 acts) x 2 bn x 2 init x 2 seeds x 2 lrs */
    CHECKF(n == 3 * 2 * 2 * 2 * 2, "%d units", n);
    if (n == 48) {
        /* run order: lr, then seed, then model, bn, init, act (innermost) */
        int k = 0, ok = 1;
        for (int l = 0; l < 2; l++)
            for (int s = 1; s <= 2; s++)
                for (int m = 0; m < 2; m++)
                    for (int b = 0; b < 2; b++)
                        for (int i = 0; i < 2; i++)
                            for (int a = 0; a < (m ? 1 : 2); a++, k++)
                                ok &= u[k].lr == l && u[k].seed == s && u[k].model == m &&
                                      u[k].bn == b && u[k].init == i && u[k].act == a;
        CHECK(ok);
        char buf[512];
        study_unit_file(&c, &u[0], buf, sizeof buf);
        CHECKF(!strcmp(buf, "relu__mlp-16x1__bnoff__he__lr0.05__s1.json"), "%s", buf);
        study_unit_file(&c, &u[1], buf, sizeof buf);
        CHECKF(!strcmp(buf, "swish__mlp-16x1__bnoff__he__lr0.05__s1.json"), "%s", buf);
        /* u[7]: model 0, bn on, init lsuv, swish; u[8]: model 1 (acts[MODEL]: relu) */
        study_unit_file(&c, &u[7], buf, sizeof buf);
        CHECKF(!strcmp(buf, "swish__mlp-16x1__bnon__lsuv__lr0.05__s1.json"), "%s", buf);
        study_unit_spec(&c, &u[7], buf, sizeof buf);
        CHECKF(!strcmp(buf, "mlp:16x1,bn") && study_bn_on(&c, &u[7]), "%s", buf);
        study_unit_label(&c, &u[7], buf, sizeof buf);
        CHECKF(!strcmp(buf, "swish mlp:16x1,bn lsuv lr 0.05 seed 1"), "%s", buf);
        CHECK(u[8].model == 1 && !strcmp(study_unit_act(&c, &u[8]), "relu"));
        study_unit_file(&c, &u[47], buf, sizeof buf);
        CHECKF(!strcmp(buf, "relu__mlp-16x2__bnon__lsuv__lr0.1__s2.json"), "%s", buf);
        /* every name differs */
        int dup = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) {
                char x[512], y[512];
                study_unit_file(&c, &u[i], x, sizeof x);
                study_unit_file(&c, &u[j], y, sizeof y);
                dup += !strcmp(x, y);
            }
        CHECK(dup == 0);
    }
    free(u);
    study_config_free(&c);
    /* names of models and activations with characters a file name should not have */
    put(dir, "v.conf", "title = v\nbudget = b\nacts = relu expr:x*sigmoid(x)\n"
        "models = resnet:3\nseeds = 1\n", path);
    st = study_config_read(path, 0, &c, err, sizeof err);
    CHECKF(st == ACT_OK, "%s", err);
    n = st == ACT_OK ? study_units(&c, &u) : -1;
    if (n == 2) {
        char buf[512];
        study_unit_file(&c, &u[1], buf, sizeof buf);
        CHECKF(!strcmp(buf, "expr-x-sigmoid-x-__resnet-3__bnoff__he__lr0__s1.json"), "%s", buf);
        free(u);
    }
    CHECK(study_mlp_depth("mlp:128x10,bn", NULL) == 10 && study_mlp_depth("resnet:3", NULL) < 0);
    study_config_free(&c);
    test_rmdir_all(dir);
}

// ----------------------------------------------------------------------------
// the runner

typedef struct seen {
    int start_done, start_total, start_jobs, n_start;
    int units, done_ok, diverged, errors, batches, bad_job;
    int unit_seen[16];
} seen;

static void cb_start(void *user, int done, int total, int jobs)
{
    seen *s = user;
    s->start_done = done;
    s->start_total = total;
    s->start_jobs = jobs;
    s->n_start++;
}

static void cb_unit(void *user, const orch_study_event *ev)
{
    seen *s = user;
    s->units++;
    s->bad_job += ev->job < 0 || ev->job >= s->start_jobs || !ev->label[0];
    if (ev->unit >= 0 && ev->unit < 16)
        s->unit_seen[ev->unit]++;
}

static void cb_batch(void *user, int job, const act_train_progress *p)
{
    seen *s = user;
    s->batches++;
    s->bad_job += job < 0 || job >= s->start_jobs || p->batch > p->n_batches;
}

static int cb_done(void *user, const orch_study_event *ev)
{
    seen *s = user;
    if (ev->status != ACT_OK) {
        fprintf(stderr, "  unit %d: %s\n", ev->unit, ev->text);
        s->errors++;
    } else {
        s->done_ok += !strncmp(ev->text, "ok, val 0.", 10) && !ev->diverged;
        s->diverged += ev->diverged;
    }
    return 0;
}

/* Runs the study c into dir with jobs jobs; what the callbacks saw into *s. */
static int run(const study_config *c, const char *dir, int jobs, const act_dataset *tr,
               const act_dataset *te, seen *s, orch_study_stats *stats)
{
    memset(s, 0, sizeof *s);
    orch_study_callbacks cb = { .user = s, .on_start = cb_start, .on_unit = cb_unit,
                                .on_batch = cb_batch, .on_unit_done = cb_done };
    return orch_study_run(c, dir, jobs, tr, te, &cb, stats);
}

/* The summary dir/units/file without its "seconds" line (caller frees); NULL if missing. */
static char *summary(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/units/%s", dir, file);
    char *t = read_all(path);
    char *s = t ? strstr(t, "  \"seconds\":") : NULL;
    if (s) {
        char *e = strchr(s, '\n');
        memmove(s, e + 1, strlen(e + 1) + 1);
    }
    return t;
}

static int make_dirs(const char *base, const char *name, char *dir)
{
    char p[4096];
    snprintf(dir, 4096, "%s/%s", base, name);
    int ok = mkdir(dir, 0755) == 0;
    snprintf(p, sizeof p, "%s/units", dir);
    ok &= mkdir(p, 0755) == 0;
    snprintf(p, sizeof p, "%s/work", dir);
    ok &= mkdir(p, 0755) == 0;
    CHECK(ok);
    return ok;
}

void test_orch_study_run(void)
{
    act_dataset tr, te;
    if (!test_fashion(&tr, &te))
        return;
    int rc;
    char base[64], path[4096], err[1024], d1[4096], d2[4096];
    if (!test_tmpdir(base, "study")) {
        act_data_free(&tr);
        act_data_free(&te);
        return;
    }
    put(base, "tiny.conf", "title = tiny\nbudget = seconds\nacts = relu swish silu\n"
        "models = mlp:16x1\nseeds = 1\nlr = 0.05\nepochs = 2\ntrain_images = 500\n"
        "val_images = 200\ntest_images = 200\ndump_params = on\n", path);
    study_config c;
    rc = study_config_read(path, 0, &c, err, sizeof err);
    CHECKF(rc == ACT_OK, "%s", err);
    rc = rc == ACT_OK ? study_config_check_build(&c, &tr, err, sizeof err) : rc;
    CHECKF(rc == ACT_OK, "%s", err);
    study_unit *u = NULL;
    int n = rc == ACT_OK ? study_units(&c, &u) : -1;
    CHECK(n == 3);
    if (n == 3 && make_dirs(base, "j2", d2) && make_dirs(base, "j1", d1)) {
        seen s;
        orch_study_stats st;
        /* 2 jobs, then 1: the same summaries (all but the wall time) */
        rc = run(&c, d2, 2, &tr, &te, &s, &st);
        CHECK(rc == ACT_OK && s.n_start == 1 && s.start_done == 0 && s.start_total == 3 &&
              s.start_jobs == 2 && s.units == 3 && s.done_ok == 3 && s.errors == 0 &&
              s.batches > 0 && s.bad_job == 0);
        CHECK(st.total == 3 && st.done == 3 && st.trained == 3 && st.diverged == 0);
        rc = run(&c, d1, 1, &tr, &te, &s, &st);
        CHECK(rc == ACT_OK && s.start_jobs == 1 && s.done_ok == 3 && st.trained == 3);
        char file[3][512];
        for (int i = 0; i < 3; i++) {
            study_unit_file(&c, &u[i], file[i], sizeof file[i]);
            char *a = summary(d2, file[i]), *b = summary(d1, file[i]);
            CHECKF(a && b && !strcmp(a, b), "%s:\n%s\nvs\n%s", file[i], a ? a : "",
                   b ? b : "");
            CHECK(a && strstr(a, "\"status\": \"ok\"") && strstr(a, "\"epochs\": 2,") &&
                  strstr(a, "\"val_curve\": [") && strstr(a, "\"test_acc\": 0.") &&
                  strstr(a, "\n}\n"));
            free(a);
            free(b);
        }
        /* the checkpoints are gone */
        char ck[4700];
        snprintf(ck, sizeof ck, "%s/work/relu__mlp-16x1__bnoff__he__lr0.05__s1.ckpt", d1);
        CHECK(access(ck, F_OK) != 0);

        /* resume: unit 0 untouched; unit 1 removed; unit 2 cut short (no closing brace) */
        char p0[4700], p1[4700], p2[4700];
        snprintf(p0, sizeof p0, "%s/units/%s", d1, file[0]);
        snprintf(p1, sizeof p1, "%s/units/%s", d1, file[1]);
        snprintf(p2, sizeof p2, "%s/units/%s", d1, file[2]);
        struct stat s0, s0b;
        CHECK(stat(p0, &s0) == 0);
        char *u0 = read_all(p0);
        CHECK(unlink(p1) == 0);
        char cut[4096];
        put(d1, "units/cut", "{\n  \"unit\": \"x\",\n  \"status\": \"ok\",\n", cut);
        CHECK(rename(cut, p2) == 0);
        rc = run(&c, d1, 2, &tr, &te, &s, &st);
        CHECK(rc == ACT_OK && s.start_done == 1 && s.start_jobs == 2 && s.units == 2 &&
              s.unit_seen[0] == 0 && s.unit_seen[1] == 1 && s.unit_seen[2] == 1 &&
              s.done_ok == 2 && st.done == 3 && st.trained == 2);
        char *u0b = read_all(p0);
        CHECK(stat(p0, &s0b) == 0 && s0.st_mtim.tv_sec == s0b.st_mtim.tv_sec &&
              s0.st_mtim.tv_nsec == s0b.st_mtim.tv_nsec && u0 && u0b && !strcmp(u0, u0b));
        free(u0);
        free(u0b);
        for (int i = 1; i < 3; i++) {
            char *a = summary(d2, file[i]), *b = summary(d1, file[i]);
            CHECKF(a && b && !strcmp(a, b), "%s retrained differs", file[i]);
            free(a);
            free(b);
        }
        /* a third run trains nothing */
        rc = run(&c, d1, 4, &tr, &te, &s, &st);
        CHECK(rc == ACT_OK && s.start_done == 3 && s.start_jobs == 1 && s.units == 0 &&
              st.trained == 0 && st.done == 3);
        /* bad arguments */
        CHECK(orch_study_run(&c, d1, 0, &tr, &te, NULL, NULL) == ACT_EINVAL);
    }
    free(u);
    study_config_free(&c);
    act_data_free(&tr);
    act_data_free(&te);
    test_rmdir_all(base);
}
