// Two versions of Zoo's GEMM (Sources/CZooGEMM/gemm.c) linked side by side — A_ and B_ prefixes,
// see gemm_ab.sh — and called alternately on the same shapes, so that this VM's drift, which moves
// whole-network runs by 10 % or more, touches both alike. Prints each shape's median time of
// `reps` calls for both and the ratio B/A; warns where the two outputs differ.
//
//     gemm_ab [cold] [reps] [MxKxN …]    cold = 1: 32 MB read between calls (filters and C from memory,
//                              B re-read as the previous layer's output would be); cold = 2: B from
//                              memory too (as the networks' larger activations are found to be)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DECLARE(P)                                                                                                   \
    size_t P##zoo_gemm_packed_count(int m, int k);                                                                  \
    void P##zoo_gemm_pack(int m, int k, const float *a, int lda, float *packed);                                    \
    void P##zoo_gemm(const float *packed, int m, int k, int first, int count, int n, int segment, long stride,      \
                     const float *b, long ldb, float *c, long ldc, const float *bias, const float *addend, int relu);
DECLARE(A_)
DECLARE(B_)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int by_value(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
    // (M, K, N): filters, filters' depth, output positions — 1×1 and Winograd layers of ResNet-50,
    // GoogLeNet and VGG-16, conv1 through the direct convolution's shapes, AlexNet's conv2.
    static const int shapes[][3] = {
        {64, 256, 3136}, {256, 64, 3136}, {64, 64, 3136}, {128, 512, 784}, {512, 256, 784}, {256, 528, 196},
        {256, 1024, 196}, {384, 832, 49}, {1024, 1024, 49}, {512, 2048, 49}, {2048, 512, 49}, {64, 147, 12544},
        {192, 1600, 729}, {256, 256, 49}, {128, 96, 784}, {512, 1024, 196}, {1024, 256, 196}, {208, 96, 196},
    };
    int count = sizeof shapes / sizeof shapes[0];
    int cold = argc > 1 && atoi(argv[1]);
    int reps = argc > 2 ? atoi(argv[2]) : 21;
    if (reps < 1 || reps > 1000) reps = 21;
    // Shapes given as MxKxN after the first two arguments replace the list above.
    int given[64][3], ngiven = 0;
    for (int i = 3; i < argc && ngiven < 64; i++)
        if (sscanf(argv[i], "%dx%dx%d", &given[ngiven][0], &given[ngiven][1], &given[ngiven][2]) == 3 && given[ngiven][0] > 0 &&
            given[ngiven][1] > 0 && given[ngiven][2] > 0)
            ngiven++;
    const int (*list)[3] = ngiven ? (const int (*)[3])given : shapes;
    if (ngiven) count = ngiven;
    long junk_count = 8L << 20;
    float *junk = malloc(sizeof(float) * junk_count);
    double *ta = malloc(sizeof(double) * reps), *tb = malloc(sizeof(double) * reps);
    if (!junk || !ta || !tb) return 1;
    for (long i = 0; i < junk_count; i++) junk[i] = (float)i;
    double total_a = 0, total_b = 0;
    for (int s = 0; s < count; s++) {
        int m = list[s][0], k = list[s][1], n = list[s][2];
        float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *bias = malloc(sizeof(float) * m);
        float *ca = malloc(sizeof(float) * m * n), *cb = malloc(sizeof(float) * m * n);
        float *pa = aligned_alloc(64, (sizeof(float) * A_zoo_gemm_packed_count(m, k) + 63) / 64 * 64);
        float *pb = aligned_alloc(64, (sizeof(float) * B_zoo_gemm_packed_count(m, k) + 63) / 64 * 64);
        if (!a || !b || !bias || !ca || !cb || !pa || !pb) return 1;
        for (long i = 0; i < (long)m * k; i++) a[i] = (float)((i * 7919) % 13 - 6) * 0.1f;
        for (long i = 0; i < (long)k * n; i++) b[i] = (float)((i * 31) % 11 - 5) * 0.1f;
        for (int i = 0; i < m; i++) bias[i] = 0.5f;
        A_zoo_gemm_pack(m, k, a, k, pa);
        B_zoo_gemm_pack(m, k, a, k, pb);
        for (int r = 0; r < reps; r++) {
            for (int v = 0; v < 2; v++) {
                if (cold) {
                    volatile float sink = 0;
                    for (long i = 0; i < junk_count; i += 16) sink += junk[i];
                    if (cold == 1) for (long i = 0; i < (long)k * n; i += 16) sink += b[i];
                }
                double t0 = now();
                if (v == 0) A_zoo_gemm(pa, m, k, 0, m, n, n, 0, b, n, ca, n, bias, 0, 1);
                else B_zoo_gemm(pb, m, k, 0, m, n, n, 0, b, n, cb, n, bias, 0, 1);
                (v == 0 ? ta : tb)[r] = now() - t0;
            }
        }
        if (memcmp(ca, cb, sizeof(float) * m * n)) {
            double worst = 0;
            for (long i = 0; i < (long)m * n; i++) {
                double d = ca[i] > cb[i] ? ca[i] - cb[i] : cb[i] - ca[i];
                if (d > worst) worst = d;
            }
            printf("  (outputs differ by up to %g)\n", worst);
        }
        qsort(ta, reps, sizeof(double), by_value);
        qsort(tb, reps, sizeof(double), by_value);
        double ma = ta[reps / 2], mb = tb[reps / 2], flops = 2.0 * m * n * k;
        total_a += ma;
        total_b += mb;
        printf("M %5d K %5d N %5d   A %7.3f ms %6.1f GFLOP/s   B %7.3f ms %6.1f GFLOP/s   B/A %.3f\n", m, k, n, ma * 1e3,
               flops / ma * 1e-9, mb * 1e3, flops / mb * 1e-9, mb / ma);
        free(a); free(b); free(bias); free(ca); free(cb); free(pa); free(pb);
    }
    printf("all shapes: A %.3f ms, B %.3f ms, B/A %.3f\n", total_a * 1e3, total_b * 1e3, total_b / total_a);
    return 0;
}
