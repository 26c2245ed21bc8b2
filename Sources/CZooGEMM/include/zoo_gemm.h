// Zoo's own single-precision GEMM for convolutions: C = A·B (+ bias per row, ReLU), with A (the
// filters) packed once when a model is prepared, B row-major (im2col columns or, for 1×1
// convolutions, the input itself). AVX-512 only: `zoo_gemm_available()` says whether this CPU can
// run it; the engine uses OpenBLAS's SGEMM otherwise. Single-threaded: the engine shares the work
// among its threads (by rows of A with `first`/`count`, or by columns of B and C).
#ifndef ZOO_GEMM_H
#define ZOO_GEMM_H

#include <stddef.h>

/// 1 when this CPU has AVX-512F, else 0.
int zoo_gemm_available(void);

/// Rows of A per packed panel (8): a share of rows given to `zoo_gemm` must start on a multiple.
int zoo_gemm_panel_rows(void);

/// The K block (256): where k is at most this, `zoo_gemm` and `zoo_conv_direct` compute each
/// element of C in one pass, reading its addend just before writing it — C may be the addend.
int zoo_gemm_depth_block(void);

/// Floats `zoo_gemm_pack` writes for an m × k matrix.
size_t zoo_gemm_packed_count(int m, int k);

/// Packs the m × k row-major matrix `a` (leading dimension lda) into `packed`
/// (`zoo_gemm_packed_count(m, k)` floats, 64-byte aligned).
void zoo_gemm_pack(int m, int k, const float *a, int lda, float *packed);

/// Rows first ..< first + count of C = A·B (+ bias, ReLU). A is m × k, packed by `zoo_gemm_pack`;
/// B is k × n, leading dimension ldb. C's columns come in segments of `segment` columns (n, or
/// ≤ 0, for one), segment s starting at c + s·stride: several images' im2col columns side by side
/// in B, each image's output a block of its own. C's leading dimension is ldc; `c` and `bias`
/// (NULL for none) point at row 0. `addend` (NULL for none) is added laid out as C (a residual
/// block's shortcut). `relu` ≠ 0 clamps at 0 after the bias and the addend. `first` must be a
/// multiple of `zoo_gemm_panel_rows()`. Only when `zoo_gemm_available()`.
void zoo_gemm(const float *packed, int m, int k, int first, int count, int n, int segment, long stride,
              const float *b, long ldb, float *c, long ldc, const float *bias, const float *addend, int relu);

/// As `zoo_gemm`, each row's sum multiplied by scale[row] (NULL for 1) before the bias and the
/// addend: a batch norm folded into the convolution without touching its filters (the same
/// packed filters then also give the unnormalised output).
void zoo_gemm_scaled(const float *packed, int m, int k, int first, int count, int n, int segment, long stride,
                     const float *b, long ldb, float *c, long ldc, const float *scale, const float *bias, const float *addend,
                     int relu);

/// As `zoo_gemm`, with A read in place (row-major, leading dimension lda) instead of packed, and C
/// in one block: for A used once or twice (fully-connected layers at batch > 1, where A is read
/// from memory in any case and a packed copy would double it).
void zoo_gemm_rows(const float *a, long lda, int m, int k, int first, int count, int n,
                   const float *b, long ldb, float *c, long ldc, const float *bias, int relu);

/// The FMAs per k that `zoo_gemm` spends on each panel of `zoo_gemm_panel_rows()` rows of A for
/// `n` columns of one segment (its tiles' 16-float vectors, a 7 × 7 map's 49 columns in one tile),
/// or, with `mapped` ≠ 0, that `zoo_conv_direct` spends on n columns of its wider grid: how the
/// engine compares the two forms of a convolution.
int zoo_gemm_fmas(int k, int n, int mapped);

/// A convolution without im2col ("direct"): rows first ..< first + count of C = A·B (+ bias,
/// addend, ReLU) where B's row t (tap t = (c, ky, kx), A's column order) is the contiguous run
/// q + offsets[t] + j of a padded, column-phase-split copy of the input, j on a grid `wq` columns
/// wide (wq ≥ ow; the grid's columns ≥ ow are computed and dropped). Grid columns begin ..< end
/// of each of `images` images (image i's q at q + i·qstride, its C at c + i·cstride); grid column
/// j is output row j / wq, column j % wq, stored at row·ow + column. ldc: floats per output
/// channel. `scale` as in `zoo_gemm_scaled`. Only when `zoo_gemm_available()`.
void zoo_conv_direct(const float *packed, int m, int k, int first, int count, const float *q, const int *offsets,
                     long qstride, int images, int begin, int end, int wq, int ow, float *c, long ldc, long cstride,
                     const float *scale, const float *bias, const float *addend, int relu);

/// Max pooling of one channel (`height` × `width`) with 3-wide windows, column stride 2: output
/// (oy, ox), of `outHeight` × `outWidth`, is the maximum of input rows oy·sh − pt ..< + kh and
/// columns 2·ox − pl ..< + 3 inside the plane (the padding counts as −∞; a window with nothing
/// inside gives −∞). Only when `zoo_gemm_available()`.
void zoo_max_pool3_stride2(const float *plane, int height, int width, int outHeight, int outWidth, int kh, int sh, int pt,
                           int pl, float *out);

/// Max pooling 3 × 3, stride 1, padding 1 of one channel (`height` × `width`, the output the same
/// size; the padding counts as −∞). Only when `zoo_gemm_available()`.
void zoo_max_pool3_same(const float *plane, int height, int width, float *out);

/// A fully-connected layer at a small batch: y[j·ldy + i] = bias[i] + Σₖ w[i·ldw + k]·x[j·ldx + k]
/// for rows first ..< first + count of W and samples j < n (bias NULL for none): dot products
/// with W and the samples read in place. Only when `zoo_gemm_available()`.
void zoo_dense_dots(const float *w, long ldw, int k, int first, int count, const float *x, long ldx, int n, float *y, long ldy,
                    const float *bias);

/// Winograd F(2×2, 3×3) input transform for one tile row of one channel: the `tiles` tiles whose
/// 4 × 4 blocks start at row y0, columns x0, x0 + 2, … of a `height` × `width` plane (row stride
/// `width`); what lies outside the plane (the padding) reads as zero and is not read. V[ξ] of the
/// tiles goes to out + ξ·stride (contiguous). 16 tiles at a time, the last group masked. Only when
/// `zoo_gemm_available()`.
void zoo_winograd_input_row(const float *plane, long width, long height, long y0, long x0, int tiles, float *out,
                            long stride);

/// Winograd F(2×2, 3×3) output transform for one tile row of one filter: `m` points at M[0] of the
/// first tile (M[ξ] at m + ξ·stride), `top` at output row 2·ty, column 0 (row stride `width`, the
/// map's width); `rows` (1 or 2) of the tiles' output rows lie inside the map, and the columns
/// past `width` are not written. Multiplies by `scale` (a folded batch norm's; 1 for none), adds
/// `bias`, then clamps at 0 when `relu`. Only when `zoo_gemm_available()`.
void zoo_winograd_output_row(const float *m, long stride, float *top, long width, int rows, int tiles, float scale, float bias,
                             int relu);

/// Winograd F(4×4, 3×3) input transform for one tile row of one channel: the `tiles` tiles whose
/// 6 × 6 blocks start at row y0, columns x0, x0 + 4, … of a `height` × `width` plane (row stride
/// `width`); what lies outside the plane reads as zero and is not read. V[ξ] (ξ = 6i + j, i the
/// row) of the tiles goes to out + ξ·stride (contiguous). 16 tiles at a time, the last group
/// masked. Only when `zoo_gemm_available()`.
void zoo_winograd4_input_row(const float *plane, long width, long height, long y0, long x0, int tiles, float *out,
                             long stride);

/// Winograd F(4×4, 3×3) output transform for one tile row of one filter: `m` points at M[0] of
/// the first tile (M[ξ] at m + ξ·stride), `top` at output row 4·ty, column 0 (row stride `width`,
/// the map's width); `rows` (1–4) of the tiles' output rows lie inside the map, and the columns
/// past `width` are not written. Multiplies by `scale`, adds `bias`, then clamps at 0 when `relu`.
/// Only when `zoo_gemm_available()`.
void zoo_winograd4_output_row(const float *m, long stride, float *top, long width, int rows, int tiles, float scale, float bias,
                              int relu);

/// Winograd for a 3 × 3 convolution with stride 2 (`WinogradKernel`, stride 2): the input
/// transform of one tile row of one channel, the `tiles` tiles whose 5 × 5 blocks start at row y0,
/// columns x0, x0 + 4, … of a `height` × `width` plane; what lies outside the plane reads as zero
/// and is not read. V[ξ] (ξ = 5i + j) of the tiles goes to out + ξ·stride. 16 tiles at a time.
/// Only when `zoo_gemm_available()`.
void zoo_winograd_s2_input_row(const float *plane, long width, long height, long y0, long x0, int tiles, float *out,
                               long stride);

/// Its output transform for one tile row of one filter (2 × 2 outputs per tile): as
/// `zoo_winograd_output_row`, from 25 points (M[ξ] at m + ξ·stride).
void zoo_winograd_s2_output_row(const float *m, long stride, float *top, long width, int rows, int tiles, float scale,
                                float bias, int relu);

/// One row of im2col: out[ox] = line[ox·sw + x0] where 0 ≤ ox·sw + x0 < width, else 0, for
/// ox < outWidth; any stride `sw` ≥ 1. Only when `zoo_gemm_available()`.
void zoo_im2col_row(const float *line, int width, int x0, int sw, int outWidth, float *out);

/// y[c] = the mean of x[c·area ..< (c + 1)·area], for c < channels (global average pooling).
/// Only when `zoo_gemm_available()`.
void zoo_channel_means(const float *x, int channels, int area, float *y);

/// A spin-wait hint (x86 `pause`), for threads waiting for work.
static inline void zoo_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// The CPU the calling thread runs on (-1 where unknown).
int zoo_current_cpu(void);
/// How many CPUs the calling thread may run on (0 where unknown).
int zoo_allowed_cpus(void);
/// Moves the calling thread to another of its allowed CPUs than `cpu`; 1 where it moved.
int zoo_leave_cpu(int cpu);
/// Moves the calling thread onto `cpu`, one of its allowed CPUs, leaving its affinity as it was.
int zoo_move_to_cpu(int cpu);

#endif
