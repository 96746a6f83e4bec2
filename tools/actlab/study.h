/* study.h -- `actlab study`: a study configuration (studies/NAME.conf, docs/study.md), its units
 * (one training run each: activation x model x batch-norm variant x init x lr x seed) and their
 * summary files, shared by `study run` (cmd_study.c) and `study report` (cmd_study_report.c). */
#ifndef ACTLAB_STUDY_H
#define ACTLAB_STUDY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STUDY_MAX_ITEMS  32     /* entries of one list (acts, models, lr_sweep, ...) */
#define STUDY_MAX_LRS    (STUDY_MAX_ITEMS + 1)

/* A list value: items point into the owning study_config's strings. */
typedef struct study_list {
    int         n;
    const char *v[STUDY_MAX_ITEMS];
} study_list;

typedef struct study_config {
    const char *path;                /* the file read (borrowed) */
    const char *title, *claim, *budget, *variant, *data, *baseline, *opt, *sched;
    study_list  acts, models, bn, init;
    study_list  model_acts[STUDY_MAX_ITEMS];   /* acts[MODEL]: n == 0 means `acts` */
    int         seeds, epochs, threads, keep_stem, dump_params;
    long        batch, train_images, val_images, test_images;
    double      lr;                  /* the shared learning rate */
    int         n_lrs;               /* lrs[0] is lr; then lr_sweep's other values */
    double      lrs[STUDY_MAX_LRS];
    double      momentum, wd;        /* wd < 0: the optimiser's default */
    int         acts_line, models_line;          /* where they were set, for messages */
    int         model_acts_line[STUDY_MAX_ITEMS];
    char       *strings;             /* owned: every string above points in here */
    size_t      n_strings, cap_strings;
} study_config;

/* Reads path; quick applies the file's [quick] section over the main one. On an error prints
 * "actlab CMD: PATH:LINE: what (valid: ...)" and returns CLI_EXIT_USAGE (a missing or unreadable
 * file: CLI_EXIT_FAILURE); returns -1 on success. Release with study_config_free. */
int study_config_read(const char *cmd, const char *path, int quick, study_config *c);
void study_config_free(study_config *c);

/* The effective configuration as a study file (no [quick] section: its values applied), the copy
 * `study run` keeps as DIR/study.conf. Returns a malloc'ed string, or NULL when out of memory. */
char *study_config_text(const study_config *c);

/* The activations of model m (acts[MODEL] or acts). */
const study_list *study_acts_of(const study_config *c, int m);

/* One unit: indices into the configuration's lists. */
typedef struct study_unit {
    int    act;       /* index into study_acts_of(c, model) */
    int    model, bn, init, lr, seed;   /* seed: 1..seeds */
} study_unit;

/* Every unit of c in run order (seed outermost, so an interrupted study has complete seeds across
 * activations), into *out (malloc'ed, caller frees). Returns the count, or -1 when out of
 * memory. */
int study_units(const study_config *c, study_unit **out);

/* Names of a unit's parts. */
const char *study_unit_act(const study_config *c, const study_unit *u);
int study_bn_on(const study_config *c, const study_unit *u);
/* "mlp:128x10,bn" for model mlp:128x10 with bn on. */
void study_unit_spec(const study_config *c, const study_unit *u, char *buf, size_t len);
/* The unit's file name without directory: "relu__mlp-128x10__bn__he__lr0.02__s1.json". */
void study_unit_file(const study_config *c, const study_unit *u, char *buf, size_t len);
/* "relu  mlp:128x10,bn  he  lr 0.02  seed 1" for progress lines. */
void study_unit_label(const study_config *c, const study_unit *u, char *buf, size_t len);

/* Depth D of "mlp:WxD" (also with options), or -1 for other models. */
int study_mlp_depth(const char *model, int *width);

/* ---------------------------------------------------------------------------------------------
 * Reading a unit's summary (the JSON study run writes: flat keys, arrays of numbers). */

/* The number after "key": (null is NaN); NAN when missing. */
double study_json_num(const char *json, const char *key);
/* The string after "key": into buf ("" when missing). */
void study_json_str(const char *json, const char *key, char *buf, size_t len);
/* The numbers of the array after "key": (null is NaN), at most cap into v; returns how many. */
int study_json_array(const char *json, const char *key, double *v, int cap);

#endif
