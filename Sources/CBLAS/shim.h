#ifndef ZOO_CBLAS_SHIM_H
#define ZOO_CBLAS_SHIM_H
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS built with DYNAMIC_ARCH (Debian's is) picks its kernels for the CPU when it is loaded.
   OpenBLAS 0.3.21 does not know recent CPU models and falls back to its oldest x86-64 kernels
   ("Prescott", SSE3): on an AVX-512 Xeon that made SGEMM 5x slower. These entry points of the
   DYNAMIC_ARCH build (weak: absent from other builds) let Zoo choose again. */
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));

/* If OPENBLAS_CORETYPE is unset and OpenBLAS chose kernels older than the CPU supports, choose
   SkylakeX (AVX-512 F/CD/BW/DQ/VL) or Haswell (AVX2 + FMA) instead. Call before any BLAS call.
   Returns 1 when it switched; 0 otherwise (already a good choice, an explicit OPENBLAS_CORETYPE,
   or an OpenBLAS without dynamic kernels). */
static inline int zoo_blas_choose_kernels(void) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit || !openblas_get_corename) return 0;
    if (getenv("OPENBLAS_CORETYPE") != NULL) return 0;
    const char *core = openblas_get_corename();
    if (core == NULL) return 0;
    /* The x86-64 cores OpenBLAS names when it knows nothing better (no AVX2 kernels). */
    static const char *const old[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom",
                                      "Barcelona", "Opteron", "Opteron(SSE3)", "Nano", "Sandybridge", "Unknown", "unknown"};
    int isOld = 0;
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) if (strcmp(core, old[i]) == 0) isOld = 1;
    if (!isOld) return 0;
    __builtin_cpu_init();
    const char *better = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) better = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) better = "Haswell";
    if (better == NULL) return 0;
    setenv("OPENBLAS_CORETYPE", better, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    /* Leave the variable as it was (unset) for child processes. */
    unsetenv("OPENBLAS_CORETYPE");
    return 1;
}

/* The name of the kernels OpenBLAS runs, or NULL when this OpenBLAS cannot tell. */
static inline const char *zoo_blas_kernels(void) {
    return openblas_get_corename ? openblas_get_corename() : NULL;
}
#endif
