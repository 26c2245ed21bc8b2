/* Zoo's GEMM (Sources/CZooGEMM) against OpenBLAS's SGEMM on the GEMM shapes of the zoo's
   convolutions and fully-connected layers, one thread, in one run: best of repetitions, GFLOP/s,
   ratio (> 1: Zoo's is faster) and the largest difference relative to the largest value; first
   the core's FMA peak, for scale.
   Built and run by Benchmarks/gemm_vs_openblas.sh. */
#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "zoo_gemm.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* One core's single-precision FMA peak: 24 independent chains of AVX-512 FMAs. */
__attribute__((target("avx512f,fma"))) static double fma_peak(void) {
    __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2), a3 = _mm512_set1_ps(3),
           a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5), a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7),
           a8 = _mm512_set1_ps(8), a9 = _mm512_set1_ps(9), a10 = _mm512_set1_ps(10), a11 = _mm512_set1_ps(11),
           a12 = _mm512_set1_ps(12), a13 = _mm512_set1_ps(13), a14 = _mm512_set1_ps(14), a15 = _mm512_set1_ps(15),
           a16 = _mm512_set1_ps(16), a17 = _mm512_set1_ps(17), a18 = _mm512_set1_ps(18), a19 = _mm512_set1_ps(19),
           a20 = _mm512_set1_ps(20), a21 = _mm512_set1_ps(21), a22 = _mm512_set1_ps(22), a23 = _mm512_set1_ps(23);
    long n = 100000000;
    double t = now();
    for (long k = 0; k < n; k++) {
#define F(r) r = _mm512_fmadd_ps(r, x, y);
        F(a0) F(a1) F(a2) F(a3) F(a4) F(a5) F(a6) F(a7) F(a8) F(a9) F(a10) F(a11)
        F(a12) F(a13) F(a14) F(a15) F(a16) F(a17) F(a18) F(a19) F(a20) F(a21) F(a22) F(a23)
#undef F
    }
    t = now() - t;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)), _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a16, a17), _mm512_add_ps(a18, a19)), _mm512_add_ps(_mm512_add_ps(a20, a21), _mm512_add_ps(a22, a23))));
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    return n * 24.0 * 32 / t * 1e-9;
}

static float *randoms(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) p[i] = rand() / (float)RAND_MAX - 0.5f;
    return p;
}

int main(void) {
    if (!zoo_gemm_available()) {
        printf("this CPU has no AVX-512F: Zoo uses OpenBLAS's SGEMM\n");
        return 0;
    }
    openblas_set_num_threads(1);
    printf("one core's FMA peak: %.1f GFLOP/s\n", fma_peak());
    /* M (filters), N (output positions), K (filter size): VGG-16, ResNet-50, GoogLeNet. */
    static const int conv[][3] = {
        {64, 50176, 27}, {64, 50176, 576}, {128, 12544, 1152}, {256, 3136, 2304}, {512, 784, 4608},
        {512, 196, 4608}, {64, 3136, 64}, {64, 3136, 576}, {256, 3136, 64}, {128, 784, 1152},
        {1024, 196, 256}, {512, 49, 4608}, {2048, 49, 512}, {192, 784, 576},
    };
    printf("convolutions: C[M×N] = W[M×K] · columns[K×N], W packed once (not timed), bias and ReLU\n");
    printf("%5s %6s %5s %12s %12s %6s %9s\n", "M", "N", "K", "OpenBLAS", "Zoo", "ratio", "rel.diff");
    for (size_t s = 0; s < sizeof conv / sizeof conv[0]; s++) {
        int m = conv[s][0], n = conv[s][1], k = conv[s][2];
        float *a = randoms((size_t)m * k), *b = randoms((size_t)k * n), *bias = randoms(m);
        float *c = randoms((size_t)m * n), *z = randoms((size_t)m * n);
        float *packed = aligned_alloc(64, (zoo_gemm_packed_count(m, k) * sizeof(float) + 63) / 64 * 64);
        zoo_gemm_pack(m, k, a, k, packed);
        double flops = 2.0 * m * n * k, blas = 1e9, zoo = 1e9;
        int reps = (int)fmax(3, 1e10 / flops);
        for (int r = 0; r < reps; r++) {
            double t = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[(size_t)i * n + j] = fmaxf(c[(size_t)i * n + j] + bias[i], 0);
            t = now() - t;
            if (t < blas) blas = t;
            t = now();
            zoo_gemm(packed, m, k, 0, m, n, n, 0, b, n, z, n, bias, NULL, 1);
            t = now() - t;
            if (t < zoo) zoo = t;
        }
        double diff = 0, top = 0;
        for (size_t i = 0; i < (size_t)m * n; i++) { diff = fmax(diff, fabs(c[i] - z[i])); top = fmax(top, fabs(c[i])); }
        printf("%5d %6d %5d %7.1f GF/s %7.1f GF/s %6.2f %9.1e\n", m, n, k, flops / blas * 1e-9, flops / zoo * 1e-9, blas / zoo, diff / top);
        free(a); free(b); free(bias); free(c); free(z); free(packed);
    }
    /* Fully-connected layers at batch 8: Y[batch×out] = X · Wᵀ (OpenBLAS) or Yᵀ = W · Xᵀ (Zoo, W in place). */
    static const int dense[][3] = {{4096, 9216, 8}, {4096, 25088, 8}, {4096, 4096, 8}, {1000, 4096, 8}};
    printf("fully-connected, batch 8: W[out×in] read in place by both (Zoo's time includes transposing X and Y)\n");
    printf("%5s %6s %5s %12s %12s %6s %9s\n", "out", "in", "batch", "OpenBLAS", "Zoo", "ratio", "rel.diff");
    for (size_t s = 0; s < sizeof dense / sizeof dense[0]; s++) {
        int m = dense[s][0], k = dense[s][1], n = dense[s][2];
        float *w = randoms((size_t)m * k), *x = randoms((size_t)n * k), *xt = randoms((size_t)n * k);
        float *y = randoms((size_t)n * m), *yt = randoms((size_t)n * m), *back = randoms((size_t)n * m);
        double blas = 1e9, zoo = 1e9;
        for (int r = 0; r < 5; r++) {
            double t = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, k, 1, x, k, w, k, 0, y, m);
            t = now() - t;
            if (t < blas) blas = t;
            t = now();
            for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) xt[(size_t)j * n + i] = x[(size_t)i * k + j];
            zoo_gemm_rows(w, k, m, k, 0, m, n, xt, n, yt, n, NULL, 0);
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) back[(size_t)i * m + j] = yt[(size_t)j * n + i];
            t = now() - t;
            if (t < zoo) zoo = t;
        }
        double diff = 0, top = 0;
        for (size_t i = 0; i < (size_t)m * n; i++) { diff = fmax(diff, fabs(y[i] - back[i])); top = fmax(top, fabs(y[i])); }
        printf("%5d %6d %5d %7.2f ms    %7.2f ms    %6.2f %9.1e\n", m, k, n, blas * 1e3, zoo * 1e3, blas / zoo, diff / top);
        free(w); free(x); free(xt); free(y); free(yt); free(back);
    }
    return 0;
}
