// What a 1×1 convolution would gain if its input were already in the GEMM's packed-B layout
// (per 48 columns, the K rows' 48 values one after the other) instead of NCHW rows: zoo_gemm as
// the engine calls it (packing B from K strided rows as the first panel reads them) against the
// same panel order over pre-packed tiles, alternating, with and without a 64 MB flush between
// calls (B then comes from memory rather than L2/L3). One K block (K ≤ 256), N a multiple of 48.
//
//     cc -O3 -I Sources/CZooGEMM/include Benchmarks/prepacked_b.c -o /tmp/prepacked_b -lm
//     /tmp/prepacked_b M K N [cold]
#include "../Sources/CZooGEMM/gemm.c"
#include <stdio.h>
#include <math.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void flush(void) { static char *big; if (!big) big = malloc(64 << 20); for (size_t i = 0; i < (64u << 20); i += 64) big[i]++; }
// C = A·B for B pre-packed in tiles of 48 columns (n multiple of 48), panel order: chunks of 8 tiles.
AVX512 static void prepacked(const float *pa, int m, int k, int n, const float *bt, float *c, long ldc) {
    int panels = m / MR, tiles = n / NR;
    for (int t0 = 0; t0 < tiles; t0 += 8) {
        int t1 = t0 + 8 < tiles ? t0 + 8 : tiles;
        for (int ip = 0; ip < panels; ip++)
            for (int t = t0; t < t1; t++)
                packed_tile_3(k, pa + (size_t)ip * MR * k, 0, bt + (size_t)t * k * NR, c + (size_t)ip * MR * ldc + t * NR, ldc, MR, NR, 0, 0, 0, 0, 0, 0, 0);
    }
}
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: prepacked_b M K N [cold]\n"); return 2; }
    int m = atoi(argv[1]), k = atoi(argv[2]), n = atoi(argv[3]), cold = argc > 4 && atoi(argv[4]);
    if (m <= 0 || m % MR || k <= 0 || k > KC || n <= 0 || n % NR) {
        fprintf(stderr, "M a multiple of %d, 0 < K <= %d, N a multiple of %d\n", MR, KC, NR);
        return 2;
    }
    float *a = aligned_alloc(64, (size_t)m * k * 4), *b = aligned_alloc(64, (size_t)k * n * 4), *bt = aligned_alloc(64, (size_t)k * n * 4);
    float *c1 = aligned_alloc(64, (size_t)m * n * 4), *c2 = aligned_alloc(64, (size_t)m * n * 4);
    float *pa = aligned_alloc(64, zoo_gemm_packed_count(m, k) * 4);
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((i * 7) % 13) - 6;
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)((i * 5) % 11) - 5;
    zoo_gemm_pack(m, k, a, k, pa);
    for (int t = 0; t < n / NR; t++) for (int kk = 0; kk < k; kk++) for (int j = 0; j < NR; j++) bt[((size_t)t * k + kk) * NR + j] = b[(size_t)kk * n + t * NR + j];
    double best1 = 1e9, best2 = 1e9, sum1 = 0, sum2 = 0;
    int reps = 31;
    for (int r = 0; r < reps; r++) {
        if (cold) flush();
        double t = now(); zoo_gemm(pa, m, k, 0, m, n, n, 0, b, n, c1, n, 0, 0, 0); t = now() - t;
        if (t < best1) best1 = t; sum1 += t;
        if (cold) flush();
        t = now(); prepacked(pa, m, k, n, bt, c2, n); t = now() - t;
        if (t < best2) best2 = t; sum2 += t;
    }
    double err = 0; for (size_t i = 0; i < (size_t)m * n; i++) { double d = fabs(c1[i] - c2[i]); if (d > err) err = d; }
    printf("M %d K %d N %d cold %d: NCHW best %.3f ms mean %.3f | prepacked best %.3f ms mean %.3f | ratio(best) %.2f  maxdiff %g\n",
           m, k, n, cold, best1 * 1e3, sum1 / reps * 1e3, best2 * 1e3, sum2 / reps * 1e3, best2 / best1, err);
    return 0;
}
