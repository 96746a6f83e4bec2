/* commands.h -- every `actlab` subcommand: X(name, function, one-line help). main.c builds the
 * dispatch table and the usage text from this list; each command lives in its own cmd_*.c. */
#ifndef ACTLAB_COMMANDS_H
#define ACTLAB_COMMANDS_H

#define CLI_COMMAND_LIST(X)                                                                 \
    X(list,    cmd_list,    "list built-in activations, parameters, defaults and formulas")  \
    X(eval,    cmd_eval,    "print x, f(x), f'(x) and parameter gradients at given points")   \
    X(plot,    cmd_plot,    "plot activations and derivatives (SVG or PNG)")                   \
    X(bench,   cmd_bench,   "time forward/backward kernels against the memory bound")         \
    X(expr,    cmd_expr,    "parse, print, evaluate, plot an activation expression")          \
    X(space,   cmd_space,   "enumerate, filter and deduplicate the search space")             \
    X(search,  cmd_search,  "search the space for activation functions (journal, workers)") \
    X(train,   cmd_train,   "train a network with any activation on real data")               \
    X(compare, cmd_compare, "compare activations over seeds: table and plots")                \
    X(study,   cmd_study,   "run a study of activations from studies/*.conf; HTML report")   \
    X(demo,    cmd_demo,    "the main job: plots, benchmark summary, quick comparison")

#define X(name, fn, help) int fn(int argc, char **argv);
CLI_COMMAND_LIST(X)
#undef X

#endif
