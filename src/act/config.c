/* config.c -- run-time configuration: the instruction set in use (CPU detection, ACTLAB_ISA)
 * and the thread count (ACTLAB_THREADS). Process-wide, read from the environment once. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"

static const char *const isa_names[] = {
#define X(ID, name) [ACT_ISA_##ID] = #name,
    ACT_ISA_LIST(X)
#undef X
};

const char *act_isa_name(act_isa isa)
{
    return (unsigned)isa < ACT_ISA_COUNT ? isa_names[isa] : "unknown";
}

int act_isa_lookup(const char *name, act_isa *out)
{
    for (int i = 0; name && i < ACT_ISA_COUNT; i++) {
        if (strcmp(isa_names[i], name) == 0) {
            *out = (act_isa)i;
            return ACT_OK;
        }
    }
    return ACT_ENOTFOUND;
}

int act_isa_supported(act_isa isa)
{
    switch (isa) {
    case ACT_ISA_SCALAR:
        return 1;
    case ACT_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case ACT_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    case ACT_ISA_COUNT:
        break;
    }
    return 0;
}

act_isa act_isa_best(void)
{
    for (int i = ACT_ISA_COUNT - 1; i > 0; i--)
        if (act_isa_supported((act_isa)i))
            return (act_isa)i;
    return ACT_ISA_SCALAR;
}

static atomic_int isa_now = -1;        /* -1: not decided yet */
static atomic_int threads_now = 0;     /* 0: not decided yet */

act_isa act_isa_get(void)
{
    int v = atomic_load(&isa_now);
    if (v >= 0)
        return (act_isa)v;
    act_isa isa = act_isa_best();
    const char *env = getenv("ACTLAB_ISA");
    act_isa want;
    if (env && *env && act_isa_lookup(env, &want) == ACT_OK && act_isa_supported(want))
        isa = want;   /* an unknown or unsupported value keeps the best; the CLI reports it */
    atomic_store(&isa_now, (int)isa);
    return isa;
}

int act_isa_set(act_isa isa)
{
    if ((unsigned)isa >= ACT_ISA_COUNT)
        return ACT_EINVAL;
    if (!act_isa_supported(isa))
        return ACT_EUNSUPPORTED;
    atomic_store(&isa_now, (int)isa);
    return ACT_OK;
}

int act_threads_get(void)
{
    int v = atomic_load(&threads_now);
    if (v > 0)
        return v;
    v = 1;
    const char *env = getenv("ACTLAB_THREADS");
    if (env && *env) {
        char *end;
        long t = strtol(env, &end, 10);
        if (*end == '\0' && t >= 1 && t <= 1024)
            v = (int)t;
    }
    atomic_store(&threads_now, v);
    return v;
}

int act_threads_set(int n)
{
    if (n < 1 || n > 1024)
        return ACT_EINVAL;
    atomic_store(&threads_now, n);
    return ACT_OK;
}
