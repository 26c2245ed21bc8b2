// Kernels bound by memory, in the cache states a network leaves them (Benchmarks/memory_bound.sh):
//
// - dense: a fully-connected layer at batch 1 (W 4096 × 9216, AlexNet's fc6), W streamed from
//   memory (four copies used in turn, 600 MB, more than any cache here): Zoo's dot products
//   (`zoo_dense_dots`) against OpenBLAS's SGEMV, alternating, one thread.
// - pool: 3 × 3 / 2 max pooling with ceil rounding (`zoo_max_pool3_stride2`) on GoogLeNet's pool1–3
//   inputs, with the input in cache (the same call again), after an 8 MB read (L2 flushed) and after
//   a 512 MB read (the input from memory, as in the network). ZOO_POOL_PREFETCH=0 in the
//   environment turns the kernel's prefetch off, to compare.
//
// Prints the fastest and the mean of each.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zoo_gemm.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void dense(void) {
    enum { M = 4096, K = 9216, COPIES = 4, ROUNDS = 16 };
    float *w[COPIES], *x = aligned_alloc(64, K * sizeof(float)), *y = aligned_alloc(64, M * sizeof(float));
    if (!x || !y) exit(1);
    for (int i = 0; i < COPIES; i++) {
        w[i] = aligned_alloc(64, (size_t)M * K * sizeof(float));
        if (!w[i]) exit(1);
        for (size_t j = 0; j < (size_t)M * K; j++) w[i][j] = (float)((j * 7 + i) % 13) * 0.01f;
    }
    for (int j = 0; j < K; j++) x[j] = 0.5f;
    openblas_set_num_threads(1);
    double best[2] = {1e9, 1e9}, total[2] = {0, 0};
    int turn = 0;
    for (int r = 0; r < ROUNDS; r++)
        for (int side = 0; side < 2; side++) {
            const float *a = w[turn++ % COPIES];
            double t = now();
            if (side == 0) cblas_sgemv(CblasRowMajor, CblasNoTrans, M, K, 1, a, K, x, 1, 0, y, 1);
            else zoo_dense_dots(a, K, K, 0, M, x, K, 1, y, M, 0);
            t = now() - t;
            if (t < best[side]) best[side] = t;
            total[side] += t;
        }
    double bytes = (double)M * K * sizeof(float);
    printf("dense 4096 × 9216, batch 1, W from memory: SGEMV %.2f ms (%.1f GB/s), mean %.2f; Zoo's dots %.2f ms (%.1f GB/s), mean %.2f\n",
           best[0] * 1e3, bytes / best[0] * 1e-9, total[0] / ROUNDS * 1e3, best[1] * 1e3, bytes / best[1] * 1e-9,
           total[1] / ROUNDS * 1e3);
    for (int i = 0; i < COPIES; i++) free(w[i]);
    free(x);
    free(y);
}

static void pool(int channels, int size, const float *junk, size_t junk_bytes) {
    int out = (size - 3 + 1) / 2 + 1;  // ceil rounding: the last window reads one row of padding
    float *x = aligned_alloc(64, (size_t)channels * size * size * sizeof(float));
    float *y = aligned_alloc(64, (size_t)channels * out * out * sizeof(float));
    if (!x || !y) exit(1);
    for (long i = 0; i < (long)channels * size * size; i++) x[i] = (float)(i * 37 % 101) * 0.1f;
    printf("pool %4d × %3d × %3d:", channels, size, size);
    size_t evict[3] = {0, (size_t)8 << 20, junk_bytes};
    const char *name[3] = {"in cache", "L2 flushed", "from memory"};
    for (int e = 0; e < 3; e++) {
        enum { ROUNDS = 40 };
        double best = 1e9, total = 0;
        for (int r = 0; r < ROUNDS; r++) {
            volatile float sink = 0;
            for (size_t i = 0; i < evict[e] / sizeof(float); i += 16) sink += junk[i];
            double t = now();
            for (int c = 0; c < channels; c++)
                zoo_max_pool3_stride2(x + (size_t)c * size * size, size, size, out, out, 3, 2, 0, 0, y + (size_t)c * out * out);
            t = now() - t;
            if (t < best) best = t;
            total += t;
        }
        printf("   %s %.3f ms (mean %.3f)", name[e], best * 1e3, total / ROUNDS * 1e3);
    }
    printf("\n");
    free(x);
    free(y);
}

int main(void) {
    if (!zoo_gemm_available()) {
        printf("Zoo's kernels need AVX-512F; this CPU has none\n");
        return 0;
    }
    dense();
    size_t junk_bytes = (size_t)512 << 20;
    float *junk = malloc(junk_bytes);
    if (!junk) return 1;
    memset(junk, 0, junk_bytes);
    pool(64, 112, junk, junk_bytes);
    pool(192, 56, junk, junk_bytes);
    pool(480, 28, junk, junk_bytes);
    free(junk);
    return 0;
}
