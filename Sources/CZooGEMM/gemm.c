// Zoo's own SGEMM for convolutions (see include/zoo_gemm.h). Blocking in the usual way for a
// packed GEMM: K in blocks of KC so that a block of packed A stays in L2 while B's columns stream
// past it, and C in column chunks small enough to stay in L2 across the K blocks.
//
// Register tile: 8 rows of A (broadcast) × 48 columns of B (three 16-float vectors), 24
// accumulators; B's columns are packed 48 at a time into a thread-local buffer by the first panel
// of A that multiplies them: its tile loads B from the source and stores the packed copy as it
// goes (memory's latency hidden behind its FMAs; a separate packing pass waited for it: 0.82–0.93×
// the time on 64-row layers, 0.96× over a set of the networks' shapes), the other panels read
// the copy.
// Narrower tiles (16 or 32 columns) at the right edge; a 7 × 7 map's 49 columns are one tile of
// three vectors and a column whose 8 rows' products are one 8-float FMA (25 FMAs per k where 48
// + 1 columns took 32: 0.73× the time on ResNet-50's conv5_x 1×1 layers in the network). Measured
// against a 32 rows × 12 columns tiling (vectors along A's rows) for such maps: no faster.
#define _GNU_SOURCE
#include "zoo_gemm.h"

#ifdef __linux__
#include <sched.h>
#endif

#include <immintrin.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { MR = 8, NR = 48, KC = 256 };
// K block for A in place with B of at most 16 columns (fully-connected layers): long runs of each
// row of A, which is read from memory once, so that the prefetchers keep up (1024: 1.6×
// OpenBLAS at batch 8, 2048 and 4096: 1.85×).
enum { KC_ROWS = 2048 };
// Floats of C kept in L2 across the K blocks (256 KiB).
enum { CHUNK = 64 * 1024 };

#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

int zoo_gemm_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

int zoo_gemm_panel_rows(void) { return MR; }

int zoo_gemm_depth_block(void) { return KC; }

size_t zoo_gemm_packed_count(int m, int k) {
    return (((size_t)m + MR - 1) / MR) * MR * (size_t)k;
}

// For each K block (kc ≤ KC values of k), for each panel of mr rows: kc × mr floats, k-major;
// rows past m are zero.
void zoo_gemm_pack(int m, int k, const float *a, int lda, float *packed) {
    int panels = (m + MR - 1) / MR;
    float *p = packed;
    for (int pc = 0; pc < k; pc += KC) {
        int kc = k - pc < KC ? k - pc : KC;
        for (int ip = 0; ip < panels; ip++) {
            for (int kk = 0; kk < kc; kk++) {
                for (int i = 0; i < MR; i++) {
                    int row = ip * MR + i;
                    *p++ = row < m ? a[(size_t)row * lda + pc + kk] : 0.0f;
                }
            }
        }
    }
}

// An environment switch read once into `slot` (−1 until then): its integer value (negative ones
// as 0), `fallback` where it is unset.
static int env_setting(atomic_int *slot, const char *name, int fallback) {
    int v = atomic_load(slot);
    if (v < 0) {
        const char *text = getenv(name);
        v = text ? atoi(text) : fallback;
        if (v < 0) v = 0;
        atomic_store(slot, v);
    }
    return v;
}

AVX512 INLINE __mmask16 lanes(int count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

// B's columns jr ..< jr + nr for kc rows, as nv vectors per row (zero past nr). Row kk is at
// b + kk·ldb, or at b + offsets[kk] where `offsets` is given (a direct convolution's taps). Only
// where A is read in place (its tiles do not pack); elsewhere the first panel's tiles pack B.
AVX512 static void pack_b(int kc, int nr, int nv, const float *b, long ldb, const int *offsets, float *out, long ahead) {
    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16), m2 = lanes(nr - 32);
    for (int kk = 0; kk < kc; kk++) {
        const float *s = offsets ? b + offsets[kk] : b + kk * ldb;
        if (ahead) {
            // The same rows `ahead` floats on (the next tile, or the next chunk in panel order) on
            // their way to L2 while this tile is multiplied: B's rows are hundreds of streams, more
            // than the hardware prefetchers follow (ResNet-50 0.91–0.99×, AlexNet 0.95×, GoogLeNet
            // 0.95–0.99×, VGG-16 1.00× the time, interleaved pairs).
            _mm_prefetch((const char *)(s + ahead), _MM_HINT_T1);
            _mm_prefetch((const char *)(s + ahead + 16), _MM_HINT_T1);
            _mm_prefetch((const char *)(s + ahead + 32), _MM_HINT_T1);
        }
        _mm512_store_ps(out, _mm512_maskz_loadu_ps(m0, s));
        if (nv > 1) _mm512_store_ps(out + 16, _mm512_maskz_loadu_ps(m1, s + 16));
        if (nv > 2) _mm512_store_ps(out + 32, _mm512_maskz_loadu_ps(m2, s + 32));
        out += 16 * nv;
    }
}

// Where a tile's columns go when C is a map computed on a wider grid (a direct convolution):
// column j of the grid is output row j / wq, column j % wq, kept only when that is < ow. The
// earlier K blocks' sums, where there were any, wait in `prev` (grid columns, ldp apart).
typedef struct { int wq, ow, j0; const float *prev; long ldp; } column_map;

// Row i < mr of a tile held in `buf` (48 floats per row) to C through `map`: the grid's columns
// map->j0 ..< map->j0 + nr, in runs that stay on one output row.
AVX512 static void scatter_tile(const float *buf, int mr, int nr, const column_map *map, float *c, long ldc,
                                const float *scale, const float *bias, const float *addend, int relu) {
    __m512 zero = _mm512_setzero_ps();
    for (int i = 0; i < mr; i++) {
        // The scale and the bias as one FMA, as where C is stored in place.
        __m512 f = _mm512_set1_ps(scale ? scale[i] : 1.0f), t = _mm512_set1_ps(bias ? bias[i] : 0.0f);
        for (int l = 0, j = map->j0; l < nr;) {
            int oy = j / map->wq, ox = j - oy * map->wq;
            int run = map->wq - ox < nr - l ? map->wq - ox : nr - l;
            int valid = map->ow - ox < run ? map->ow - ox : run;
            long at = i * ldc + (long)oy * map->ow + ox;
            for (int v = 0; v < valid; v += 16) {
                __mmask16 m = lanes(valid - v);
                __m512 x = _mm512_maskz_loadu_ps(m, buf + i * NR + l + v);
                x = _mm512_fmadd_ps(x, f, t);
                if (addend) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, addend + at + v));
                if (relu) x = _mm512_max_ps(x, zero);
                _mm512_mask_storeu_ps(c + at + v, m, x);
            }
            l += run;
            j += run;
        }
    }
}

// Where a tile reads B from its source and packs it on the way (the first panel of a tile): row
// kk at src + offsets[kk] or src + kk·ldb. The same rows `ahead` floats on (the next tile, or the
// next chunk in panel order) are prefetched into L2, as in `pack_b`.
typedef struct { const float *src; long ldb; const int *offsets; long ahead; } b_source;

// An 8 × (16·nv) tile of C: `a` kc × 8 packed (lda = 0) or A's rows in place (leading dimension
// lda), `b` kc × 16·nv packed (nv = 4: kc × 48, then the 49th column's kc values) — or, with
// `from`, the buffer this tile packs B into as it reads it.
// `add` ≠ 0 adds to C (a later K block); `bias` (this tile's 8 rows), `addend` (a tile laid out as
// C's) and `relu` only on the last K block.
AVX512 INLINE void wide_tile(int nv, int kc, const float *a, long lda, const float *b, float *c, long ldc, int mr, int nr,
                             int add, const float *scale, const float *bias, const float *addend, int relu, const column_map *map,
                             const b_source *from) {
    // In place: row i of the tile (the last real row again for rows past mr, never stored).
    const float *r[MR];
    for (int i = 0; i < MR; i++) r[i] = a + (i < mr ? i : mr - 1) * lda;
    // nv = 4: three vectors and one more column (a 7 × 7 map's 49), the 49th column's products
    // for the 8 rows as one 8-float vector (A's packed values times B's column), not a fourth
    // 16-lane vector for one column: 25 FMAs per k instead of 24 + 8.
    int full = nv > 3 ? 3 : nv, extra = nv > 3;
    // The 49th column's kc values follow the tile's kc × 48 (rows stay 3 whole vectors).
    const float *bx = b + 48 * kc;
    __m512 s[MR][3];
    __m256 sx = _mm256_setzero_ps();
    for (int i = 0; i < MR; i++) for (int j = 0; j < 3; j++) s[i][j] = _mm512_setzero_ps();
    for (int i = 0; i < mr; i++) for (int j = 0; j < nv; j++) _mm_prefetch((const char *)(c + i * ldc + 16 * j), _MM_HINT_T0);
    for (int kk = 0; kk < kc; kk++) {
        // The next panel of A (packed: it follows this one) on its way from memory while this one
        // is multiplied: the first column tile of each K block finds A cold.
        if (!lda) _mm_prefetch((const char *)(a + MR * kc), _MM_HINT_T0);
        __m512 b0, b1, b2;
        if (from) {
            const float *src = from->offsets ? from->src + from->offsets[kk] : from->src + kk * from->ldb;
            if (from->ahead) {
                _mm_prefetch((const char *)(src + from->ahead), _MM_HINT_T1);
                if (full > 1) _mm_prefetch((const char *)(src + from->ahead + 16), _MM_HINT_T1);
                if (full > 2) _mm_prefetch((const char *)(src + from->ahead + 32), _MM_HINT_T1);
            }
            b0 = _mm512_maskz_loadu_ps(lanes(nr), src);
            b1 = full > 1 ? _mm512_maskz_loadu_ps(lanes(nr - 16), src + 16) : b0;
            b2 = full > 2 ? _mm512_maskz_loadu_ps(lanes(nr - 32), src + 32) : b0;
            _mm512_store_ps((float *)b, b0);
            if (full > 1) _mm512_store_ps((float *)b + 16, b1);
            if (full > 2) _mm512_store_ps((float *)b + 32, b2);
            if (extra) ((float *)bx)[kk] = src[48];
        } else {
            b0 = _mm512_load_ps(b);
            b1 = full > 1 ? _mm512_load_ps(b + 16) : b0;
            b2 = full > 2 ? _mm512_load_ps(b + 32) : b0;
        }
        if (extra) sx = _mm256_fmadd_ps(_mm256_loadu_ps(a), _mm256_set1_ps(bx[kk]), sx);
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(lda ? r[i][kk] : a[i]);
            s[i][0] = _mm512_fmadd_ps(ai, b0, s[i][0]);
            if (full > 1) s[i][1] = _mm512_fmadd_ps(ai, b1, s[i][1]);
            if (full > 2) s[i][2] = _mm512_fmadd_ps(ai, b2, s[i][2]);
        }
        if (!lda) a += MR;
        b += 16 * full;
    }
    if (map) {
        float buf[MR * NR] __attribute__((aligned(64)));
        __mmask16 keep[3] = {lanes(nr), lanes(nr - 16), lanes(nr - 32)};
        // Constant indices only (see the stores below).
#define KEEP(I, J)                                                                                        \
    if (mr > I && nv > J) {                                                                               \
        __m512 v = s[I][J];                                                                               \
        if (map->prev) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(keep[J], map->prev + I * map->ldp + 16 * J)); \
        _mm512_store_ps(buf + I * NR + 16 * J, v);                                                        \
    }
#define KEEP_ROW(I) KEEP(I, 0) KEEP(I, 1) KEEP(I, 2)
        KEEP_ROW(0) KEEP_ROW(1) KEEP_ROW(2) KEEP_ROW(3) KEEP_ROW(4) KEEP_ROW(5) KEEP_ROW(6) KEEP_ROW(7)
#undef KEEP_ROW
#undef KEEP
        scatter_tile(buf, mr, nr, map, c, ldc, scale, bias, addend, relu);
        return;
    }
    __mmask16 mask[3] = {lanes(nr), lanes(nr - 16), lanes(nr - 32)};
    __m512 zero = _mm512_setzero_ps();
    // Written out row by row and vector by vector (no loops), so that the accumulators are only
    // ever indexed by constants and stay registers (as loops, the scale's extra operation tipped
    // clang's unrolling and the accumulators went to memory through the k loop: 1.12x the time),
    // and once for each combination of the flags, so that each store is branch-free (1.06x on
    // K = 64 with the flags tested at each store). The scale and the bias as one FMA (v · 1 +
    // bias rounds as v + bias did).
#define STORE(I, J, ADD, ADDEND, RELU)                                                                    \
    if (full > J) {                                                                                       \
        __m512 v = s[I][J];                                                                               \
        if (ADD) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask[J], c + I * ldc + 16 * J));              \
        v = _mm512_fmadd_ps(v, f, t);                                                                     \
        if (ADDEND) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask[J], addend + I * ldc + 16 * J));      \
        if (RELU) v = _mm512_max_ps(v, zero);                                                             \
        _mm512_mask_storeu_ps(c + I * ldc + 16 * J, mask[J], v);                                          \
    }
#define ROW(I, ADD, ADDEND, RELU)                                                                         \
    if (mr > I) {                                                                                         \
        __m512 f = _mm512_set1_ps(scale ? scale[I] : 1.0f), t = _mm512_set1_ps(bias ? bias[I] : 0.0f);    \
        STORE(I, 0, ADD, ADDEND, RELU) STORE(I, 1, ADD, ADDEND, RELU) STORE(I, 2, ADD, ADDEND, RELU)      \
    }
#define ROWS(ADD, ADDEND, RELU)                                                                           \
    ROW(0, ADD, ADDEND, RELU) ROW(1, ADD, ADDEND, RELU) ROW(2, ADD, ADDEND, RELU) ROW(3, ADD, ADDEND, RELU) \
    ROW(4, ADD, ADDEND, RELU) ROW(5, ADD, ADDEND, RELU) ROW(6, ADD, ADDEND, RELU) ROW(7, ADD, ADDEND, RELU)
    switch ((add ? 4 : 0) | (addend ? 2 : 0) | (relu ? 1 : 0)) {
    case 0: ROWS(0, 0, 0) break;
    case 1: ROWS(0, 0, 1) break;
    case 2: ROWS(0, 1, 0) break;
    case 3: ROWS(0, 1, 1) break;
    case 4: ROWS(1, 0, 0) break;
    case 5: ROWS(1, 0, 1) break;
    case 6: ROWS(1, 1, 0) break;
    default: ROWS(1, 1, 1) break;
    }
#undef ROWS
#undef ROW
#undef STORE
    if (extra) {
        float x[MR];
        _mm256_storeu_ps(x, sx);
        for (int i = 0; i < mr; i++) {
            float v = x[i], *at = c + i * ldc + 48;
            if (add) v += *at;
            v = __builtin_fmaf(v, scale ? scale[i] : 1.0f, bias ? bias[i] : 0.0f);
            if (addend) v += addend[i * ldc + 48];
            *at = relu && v < 0 ? 0 : v;
        }
    }
}

#define TILE(NV, NAME, LDA, MAP, FROM) \
    AVX512 static void NAME(int kc, const float *a, long lda, const float *b, float *c, long ldc, int mr, int nr, int add, \
                            const float *scale, const float *bias, const float *addend, int relu, const column_map *map, \
                            const b_source *from) { \
        (void)lda; (void)map; (void)from; \
        wide_tile(NV, kc, a, LDA, b, c, ldc, mr, nr, add, scale, bias, addend, relu, MAP, FROM); \
    }
TILE(1, packed_tile_1, 0, 0, 0) TILE(2, packed_tile_2, 0, 0, 0) TILE(3, packed_tile_3, 0, 0, 0) TILE(4, packed_tile_4, 0, 0, 0)
TILE(1, rows_tile_1, lda, 0, 0) TILE(2, rows_tile_2, lda, 0, 0) TILE(3, rows_tile_3, lda, 0, 0)
TILE(1, mapped_tile_1, 0, map, 0) TILE(2, mapped_tile_2, 0, map, 0) TILE(3, mapped_tile_3, 0, map, 0)
TILE(1, packing_tile_1, 0, 0, from) TILE(2, packing_tile_2, 0, 0, from) TILE(3, packing_tile_3, 0, 0, from)
TILE(4, packing_tile_4, 0, 0, from)
TILE(1, packing_mapped_tile_1, 0, map, from) TILE(2, packing_mapped_tile_2, 0, map, from) TILE(3, packing_mapped_tile_3, 0, map, from)

typedef void (*tile_fn)(int, const float *, long, const float *, float *, long, int, int, int, const float *, const float *,
                        const float *, int, const column_map *, const b_source *);
// (nv = 4, 49 columns: packed A and C in place only — `tile_at` gives no such tile otherwise.)
static const tile_fn packed_tiles[5] = {0, packed_tile_1, packed_tile_2, packed_tile_3, packed_tile_4};
static const tile_fn rows_tiles[4] = {0, rows_tile_1, rows_tile_2, rows_tile_3};
static const tile_fn mapped_tiles[4] = {0, mapped_tile_1, mapped_tile_2, mapped_tile_3};
static const tile_fn packing_tiles[5] = {0, packing_tile_1, packing_tile_2, packing_tile_3, packing_tile_4};
static const tile_fn packing_mapped_tiles[4] = {0, packing_mapped_tile_1, packing_mapped_tile_2, packing_mapped_tile_3};

// The tile functions for A in place (`lda`), C through a column map (`mapped`), or B packed by
// the tile as it reads it (`packing`: the first panel of A), indexed by the tile's vectors.
static const tile_fn *tile_table(int lda, int mapped, int packing) {
    if (lda) return rows_tiles;
    if (packing) return mapped ? packing_mapped_tiles : packing_tiles;
    return mapped ? mapped_tiles : packed_tiles;
}

static _Thread_local float packed_b[KC * NR > KC_ROWS * 16 ? KC * NR : KC_ROWS * 16] __attribute__((aligned(64)));
// A direct convolution's sums over the K blocks before the last, on the grid (C chunk by chunk).
static _Thread_local float partial[2 * CHUNK] __attribute__((aligned(64)));

// Where B comes from and C goes: columns in `segments` segments (several images), of which
// columns begin ..< begin + width each. Segment s's B column j, row t is at
// b + s·bstride + j + (offsets ? offsets[t] : t·ldb); its C (and addend) column j at c + s·cstride
// + j, or through a column map where wq > 0 (a direct convolution's wider grid).
typedef struct {
    const float *b;
    long ldb, bstride;
    const int *offsets;
    int segments, begin, width;
    float *c;
    long ldc, cstride;
    const float *scale, *bias, *addend;
    int relu, wq, ow;
} gemm_layout;

// The tile of B and C starting at global column jr (< limit): at most 48 columns (49 in the case
// below), none past `limit` or its segment's end; its column j within the segment, and where its
// B and C start (C's column offset left to the column map where there is one).
typedef struct { int nr, nv, j; size_t b, c; } gemm_tile;

// How many 49-column tiles `tile_at` may give a segment: where A is packed; only one (a 7 × 7
// map) for K < 128, where the last column's scalar epilogue outweighs the lanes saved (196 × 96:
// 1.06× the time as four tiles).
static int wide_tiles(int packed_a, int k) { return !packed_a ? 0 : k >= 128 ? 4 : 1; }

static gemm_tile tile_at(const gemm_layout *g, long jr, long limit, int wide) {
    int seg = (int)(jr / g->width), off = (int)(jr - (long)seg * g->width);
    int nr = limit - jr < NR ? (int)(limit - jr) : NR;
    if (g->width - off < nr) nr = g->width - off;
    // A segment's last 49·j columns, j ≤ `wide` (a 7 × 7 map; a 14 × 14 map's 196 = 4 · 48 + 4
    // with j up to 4), as tiles of 3 vectors and a column (25 FMAs per k each, against 24 per 48
    // columns and 8 for the last 4: 196 columns 0.95–0.97× the time alone), where A is packed and
    // C stored in place (not through a column map).
    int left = g->width - off;
    if (g->wq <= 0 && left % (NR + 1) == 0 && left <= wide * (NR + 1) && limit - jr >= NR + 1) nr = NR + 1;
    gemm_tile t = {nr, (nr + 15) / 16, g->begin + off, 0, 0};
    t.b = (size_t)seg * g->bstride + t.j;
    t.c = (size_t)seg * g->cstride + (g->wq > 0 ? 0 : t.j);
    return t;
}

// FMAs per k for each panel of 8 rows of A (packed) over `n` columns of one segment: 8 per
// 16-float vector of a tile, 25 per 49-column tile. `mapped`: C through a column map (a direct
// convolution's wider grid), where tiles are at most 48 columns.
int zoo_gemm_fmas(int k, int n, int mapped) {
    if (n <= 0) return 0;
    gemm_layout g = {0};
    g.segments = 1;
    g.width = n;
    g.wq = mapped ? n + 1 : 0;
    int fmas = 0;
    for (long jr = 0; jr < n;) {
        gemm_tile t = tile_at(&g, jr, n, wide_tiles(1, k));
        fmas += t.nr == NR + 1 ? 3 * MR + 1 : t.nv * MR;
        jr += t.nr;
    }
    return fmas;
}

static _Thread_local float *chunk_b;
static _Thread_local size_t chunk_b_count;

// Panel order, for a single K block (K ≤ KC) and many columns: B's tiles of a chunk of up to
// PANEL_NC columns packed once, then each panel of A runs along them, so that C is written row
// panel by row panel (8 rows at a time) rather than 48 columns of all M rows at a time (which,
// with M = 256 and K = 64, left ResNet-50's conv2_1.proj at 1.75 ms in the network against
// 0.96 ms this way; layers with several K blocks or few columns were no faster). Returns 0 where
// the chunk buffer could not be allocated (the caller then takes the usual order).
enum { PANEL_NC = 384, MAX_TILES = 24 };
AVX512 static int gemm_panels(const float *a, int k, int first, int count, const gemm_layout *g) {
    int p0 = first / MR, end = first + count, p1 = (end + MR - 1) / MR;
    long n = (long)g->segments * g->width;
    size_t need = (size_t)KC * (PANEL_NC + 16 * MAX_TILES);
    if (chunk_b_count < need) {
        free(chunk_b);
        chunk_b = aligned_alloc(64, need * sizeof(float));
        chunk_b_count = chunk_b ? need : 0;
        if (!chunk_b) return 0;
    }
    gemm_tile tile[MAX_TILES];
    size_t packed[MAX_TILES];
    for (long jc = 0; jc < n;) {
        // This chunk's tiles, packed one after the other (K ≤ KC: one K block).
        int nt = 0, cols = 0;
        long jr = jc;
        while (jr < n && nt < MAX_TILES && cols < PANEL_NC) {
            tile[nt] = tile_at(g, jr, n, wide_tiles(1, k));
            cols += tile[nt].nr;
            jr += tile[nt].nr;
            nt++;
        }
        size_t at = 0;
        for (int t = 0; t < nt; t++) {
            packed[t] = at;
            at += (size_t)k * 16 * tile[t].nv;
        }
        // The first panel reads B from its source and packs it as it goes; the others read the
        // packed tiles.
        for (int ip = p0; ip < p1; ip++) {
            int mr = end - ip * MR < MR ? end - ip * MR : MR;
            const float *tb = g->bias ? g->bias + ip * MR : 0, *ts = g->scale ? g->scale + ip * MR : 0;
            for (int t = 0; t < nt; t++) {
                size_t row = tile[t].c + (size_t)ip * MR * g->ldc;
                column_map map = {g->wq, g->ow, tile[t].j, 0, 0};
                b_source from = {g->b + tile[t].b, g->ldb, g->offsets, cols};
                tile_table(0, g->wq > 0, ip == p0)[tile[t].nv](k, a + (size_t)ip * MR * k, 0, chunk_b + packed[t], g->c + row, g->ldc,
                                                               mr, tile[t].nr, 0, ts, tb, g->addend ? g->addend + row : 0, g->relu, &map,
                                                               &from);
            }
        }
        jc = jr;
    }
    return 1;
}

// ZOO_PANELS=0 turns the panel order off (to compare).
static atomic_int panel_order = -1;

// A packed (lda = 0) or in place (row-major, leading dimension lda).
AVX512 static void gemm_wide(const float *a0, long lda, int m, int k, int first, int count, const gemm_layout *g) {
    if (env_setting(&panel_order, "ZOO_PANELS", 1) && !lda && k <= KC && (long)g->segments * g->width >= 1024 && gemm_panels(a0, k, first, count, g)) return;
    int panels = (m + MR - 1) / MR;
    int p0 = first / MR, end = first + count, p1 = (end + MR - 1) / MR;
    int nc = CHUNK / (count > 0 ? count : 1) / NR * NR;
    if (nc < NR) nc = NR;
    long n = (long)g->segments * g->width;
    // Maps of 49·j columns (7 × 7, 14 × 14) go in tiles of 49 (`tile_at`): chunks of whole tiles.
    if (g->wq <= 0 && g->width % (NR + 1) == 0 && g->width <= wide_tiles(!lda, k) * (NR + 1))
        nc = nc < NR + 1 ? NR + 1 : nc / (NR + 1) * (NR + 1);
    // A tail of a few columns joins the chunk before it, where that is the only one.
    if (n > nc && n <= nc + 16) nc = (int)n;
    int mapped = g->wq > 0;
    // Mapped C with several K blocks: the sums wait in `partial` ((p1 − p0)·MR rows of nc).
    if (mapped && k > KC && (long)(p1 - p0) * MR * nc > 2 * CHUNK) nc = 2 * CHUNK / ((p1 - p0) * MR) / NR * NR;
    for (long jc = 0; jc < n; jc += nc) {
        long je = n - jc < nc ? n : jc + nc;
        int kb = lda && n <= 16 ? KC_ROWS : KC;
        for (int pc = 0; pc < k; pc += kb) {
            int kc = k - pc < kb ? k - pc : kb;
            int last = pc + kc >= k;
            const float *block = lda ? a0 + pc : a0 + (size_t)panels * MR * pc;
            // Tiles of up to 48 (or 49) columns, none across a segment's end.
            for (long jr = jc; jr < je;) {
                gemm_tile tile = tile_at(g, jr, je, wide_tiles(!lda, k));
                int nr = tile.nr, nv = tile.nv;
                const float *bs = g->b + tile.b;
                b_source from = {g->offsets ? bs : bs + (size_t)pc * g->ldb, g->ldb, g->offsets ? g->offsets + pc : 0, NR};
                if (lda) pack_b(kc, nr, nv, from.src, g->ldb, from.offsets, packed_b, NR);
                size_t at = tile.c;
                for (int ip = p0; ip < p1; ip++) {
                    int mr = end - ip * MR < MR ? end - ip * MR : MR;
                    const float *a = block + (size_t)ip * MR * (lda ? lda : kc);
                    size_t row = at + (size_t)ip * MR * g->ldc;
                    float *sums = partial + (size_t)(ip - p0) * MR * nc + (jr - jc);
                    // The first panel packs B as it reads it (not for A in place: its tiles stay plain).
                    int packing = !lda && ip == p0;
                    if (mapped && !last) {
                        tile_table(0, 0, packing)[nv](kc, a, 0, packed_b, sums, nc, mr, nr, pc > 0, 0, 0, 0, 0, 0, &from);
                        continue;
                    }
                    column_map map = {g->wq, g->ow, tile.j, mapped && pc > 0 ? sums : 0, nc};
                    const float *tb = last && g->bias ? g->bias + ip * MR : 0;
                    const float *ts = last && g->scale ? g->scale + ip * MR : 0;
                    const float *ta = last && g->addend ? g->addend + row : 0;
                    int r = last && g->relu;
                    tile_table(lda, mapped, packing)[nv](kc, a, lda, packed_b, g->c + row, g->ldc, mr, nr, pc > 0, ts, tb, ta, r, &map,
                                                         &from);
                }
                jr += nr;
            }
        }
    }
}

static void gemm(const float *a, long lda, int m, int k, int first, int count, int n, int segment, long stride,
                 const float *b, long ldb, float *c, long ldc, const float *scale, const float *bias, const float *addend, int relu) {
    if (count <= 0 || n <= 0) return;
    if (segment <= 0 || segment > n) segment = n;
    if (k <= 0) {
        // No products: C is the bias (through the ReLU); the scale multiplies 0.
        for (int i = first; i < first + count; i++)
            for (int j = 0; j < n; j++) {
                size_t at = (size_t)(j / segment) * stride + (size_t)i * ldc + j % segment;
                float v = (bias ? bias[i] : 0.0f) + (addend ? addend[at] : 0.0f);
                c[at] = relu && v < 0 ? 0 : v;
            }
        return;
    }
    // Segments side by side in B; the last may be shorter.
    for (int s0 = 0; s0 < n; ) {
        int whole = (n - s0) / segment;
        gemm_layout g = {b + s0, ldb, segment, 0, whole > 0 ? whole : 1, 0, whole > 0 ? segment : n - s0,
                         c + (size_t)(s0 / segment) * stride, ldc, stride, scale, bias,
                         addend ? addend + (size_t)(s0 / segment) * stride : 0, relu, 0, 0};
        gemm_wide(a, lda, m, k, first, count, &g);
        s0 += g.segments * g.width;
    }
}

void zoo_gemm(const float *packed, int m, int k, int first, int count, int n, int segment, long stride,
              const float *b, long ldb, float *c, long ldc, const float *bias, const float *addend, int relu) {
    gemm(packed, 0, m, k, first, count, n, segment, stride, b, ldb, c, ldc, 0, bias, addend, relu);
}

void zoo_gemm_scaled(const float *packed, int m, int k, int first, int count, int n, int segment, long stride,
                     const float *b, long ldb, float *c, long ldc, const float *scale, const float *bias, const float *addend,
                     int relu) {
    gemm(packed, 0, m, k, first, count, n, segment, stride, b, ldb, c, ldc, scale, bias, addend, relu);
}

void zoo_gemm_rows(const float *a, long lda, int m, int k, int first, int count, int n,
                   const float *b, long ldb, float *c, long ldc, const float *bias, int relu) {
    gemm(a, lda > 0 ? lda : 1, m, k, first, count, n, n, 0, b, ldb, c, ldc, 0, bias, 0, relu);
}

void zoo_conv_direct(const float *packed, int m, int k, int first, int count, const float *q, const int *offsets,
                     long qstride, int images, int begin, int end, int wq, int ow, float *c, long ldc, long cstride,
                     const float *scale, const float *bias, const float *addend, int relu) {
    if (count <= 0 || end <= begin || images <= 0 || k <= 0) return;
    // Whole output rows (begin and end on a row's start and end): tiles that stay within a row
    // store C in place — no garbage columns, no column map — where rows hold a whole tile and
    // their tiles' FMAs (`zoo_gemm_fmas`) cost little more than the grid's (conv1 7 × 7 / 2,
    // rows of 112: 0.88× the mapped time; rows of 14 or 28 were slower, their tiles mostly 16 or
    // 32 wide).
    int r0 = begin / wq, r1 = (end - ow) / wq + 1;
    if (wq > ow && ow >= NR && begin == r0 * wq && end == (r1 - 1) * wq + ow &&
        10L * (r1 - r0) * zoo_gemm_fmas(k, ow, 0) <= 11L * zoo_gemm_fmas(k, end - begin, 1)) {
        for (int i = 0; i < images; i++) {
            gemm_layout g = {q + i * qstride + (long)r0 * wq, 0, wq, offsets, r1 - r0, 0, ow, c + i * cstride + (long)r0 * ow,
                             ldc, ow, scale, bias, addend ? addend + i * cstride + (long)r0 * ow : 0, relu, 0, ow};
            gemm_wide(packed, 0, m, k, first, count, &g);
        }
        return;
    }
    gemm_layout g = {q, 0, qstride, offsets, images, begin, end - begin, c, ldc, cstride, scale, bias, addend, relu,
                     wq > ow ? wq : 0, ow};
    gemm_wide(packed, 0, m, k, first, count, &g);
}

// Winograd F(2×2, 3×3) transforms for 16 neighbouring tiles at a time (lane k = tile k), the part
// of Sources/ZooEngine/Winograd.swift that Swift compiles to 4-wide SSE only.

// Lanes l of a 16-float load at column `start` of a block whose columns lo ..< hi lie inside the
// input (the others read as zero).
AVX512 INLINE __mmask16 inside(int start, int lo, int hi) {
    int a = lo - start, b = hi - start;
    if (a < 0) a = 0;
    if (b > 16) b = 16;
    return b <= a ? (__mmask16)0 : (__mmask16)(lanes(b) & ~lanes(a));
}

// The even (0, 2, …, 30) or odd (1, 3, …, 31) values of the 32 in a and b (a first): a row read
// with stride 2, 16 values at a time (Winograd's input, im2col, max pooling).
AVX512 INLINE __m512 evens(__m512 a, __m512 b) {
    return _mm512_permutex2var_ps(a, _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0), b);
}
AVX512 INLINE __m512 odds(__m512 a, __m512 b) {
    return _mm512_permutex2var_ps(a, _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1), b);
}

// Tiles k = 0..15 of one tile row of one channel: `line` points at the input row y0 at column
// x0 = 2·tx − padLeft (row stride `width`); of its 4 × 34 block, rows i with bit i of `rows` and
// columns lo ..< hi lie inside the input, the rest reads as zero (the padding); V[ξ] for the 16
// tiles is stored at out + ξ·stride (the lanes of `keep` only). Masked-off lanes are not read.
AVX512 static void input16(const float *line, long width, float *out, long stride, __mmask16 keep, int rows, int lo, int hi) {
    __mmask16 ma = inside(0, lo, hi), mb = inside(16, lo, hi), ma2 = inside(2, lo, hi), mb2 = inside(18, lo, hi);
    __m512 d[4][4];
    for (int i = 0; i < 4; i++) {
        const float *p = line + i * width;
        int in = rows >> i & 1;
        __m512 a = _mm512_maskz_loadu_ps(in ? ma : 0, p), b = _mm512_maskz_loadu_ps(in ? mb : 0, p + 16);
        __m512 a2 = _mm512_maskz_loadu_ps(in ? ma2 : 0, p + 2), b2 = _mm512_maskz_loadu_ps(in ? mb2 : 0, p + 18);
        d[i][0] = evens(a, b);
        d[i][1] = odds(a, b);
        d[i][2] = evens(a2, b2);
        d[i][3] = odds(a2, b2);
    }
    // Bᵀ d: rows t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3; then each row times B.
    for (int j = 0; j < 4; j++) {
        __m512 t[4] = {
            _mm512_sub_ps(d[0][j], d[2][j]), _mm512_add_ps(d[1][j], d[2][j]),
            _mm512_sub_ps(d[2][j], d[1][j]), _mm512_sub_ps(d[1][j], d[3][j]),
        };
        for (int i = 0; i < 4; i++) d[i][j] = t[i];
    }
    for (int i = 0; i < 4; i++) {
        float *base = out + 4 * i * stride;
        _mm512_mask_storeu_ps(base, keep, _mm512_sub_ps(d[i][0], d[i][2]));
        _mm512_mask_storeu_ps(base + stride, keep, _mm512_add_ps(d[i][1], d[i][2]));
        _mm512_mask_storeu_ps(base + 2 * stride, keep, _mm512_sub_ps(d[i][2], d[i][1]));
        _mm512_mask_storeu_ps(base + 3 * stride, keep, _mm512_sub_ps(d[i][1], d[i][3]));
    }
}

AVX512 void zoo_winograd_input_row(const float *plane, long width, long height, long y0, long x0, int tiles, float *out,
                                   long stride) {
    int rows = 0;
    for (int i = 0; i < 4; i++) rows |= (y0 + i >= 0 && y0 + i < height) << i;
    for (int t = 0; t < tiles; t += 16, x0 += 32) {
        long lo = -x0 > 0 ? -x0 : 0, hi = width - x0 < 34 ? width - x0 : 34;
        input16(plane + y0 * width + x0, width, out + t, stride, lanes(tiles - t), rows, (int)lo, (int)(hi > lo ? hi : lo));
    }
}

// Aᵀ m A for `count` ≤ 16 tiles: `m` points at M[0][f][t] (M[ξ] at m + ξ·stride), `top` at output
// row 2·ty, column 2·tx (row stride `width`); of the outputs, the first `cols` columns of the first
// `rows` rows (1 or 2) are stored (a map's right and bottom edges); bias, then the ReLU.
AVX512 static void output16(const float *m, long stride, float *top, long width, float scale, float bias, int relu, int count,
                            int cols, int rows) {
    const __m512i low = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i high = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    __mmask16 in = lanes(count);
    __m512 s0[4], s1[4];
    for (int j = 0; j < 4; j++) {
        __m512 m0 = _mm512_maskz_loadu_ps(in, m + j * stride), m1 = _mm512_maskz_loadu_ps(in, m + (4 + j) * stride);
        __m512 m2 = _mm512_maskz_loadu_ps(in, m + (8 + j) * stride), m3 = _mm512_maskz_loadu_ps(in, m + (12 + j) * stride);
        s0[j] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
        s1[j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
    }
    __m512 b = _mm512_set1_ps(bias), f = _mm512_set1_ps(scale), zero = _mm512_setzero_ps();
    __m512 y[2][2] = {
        {_mm512_fmadd_ps(_mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]), f, b), _mm512_fmadd_ps(_mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]), f, b)},
        {_mm512_fmadd_ps(_mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]), f, b), _mm512_fmadd_ps(_mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]), f, b)},
    };
    __mmask16 first = lanes(cols), second = lanes(cols - 16);
    for (int r = 0; r < rows; r++) {
        __m512 left = y[r][0], right = y[r][1];
        if (relu) { left = _mm512_max_ps(left, zero); right = _mm512_max_ps(right, zero); }
        float *row = top + r * width;
        _mm512_mask_storeu_ps(row, first, _mm512_permutex2var_ps(left, low, right));
        _mm512_mask_storeu_ps(row + 16, second, _mm512_permutex2var_ps(left, high, right));
    }
}

AVX512 void zoo_winograd_output_row(const float *m, long stride, float *top, long width, int rows, int tiles, float scale,
                                    float bias, int relu) {
    for (int t = 0; t < tiles; t += 16)
        output16(m + t, stride, top + 2 * t, width, scale, bias, relu, tiles - t < 16 ? tiles - t : 16,
                 width - 2 * t < 32 ? (int)(width - 2 * t) : 32, rows);
}

// Winograd F(4×4, 3×3): Bᵀ (6 × 6) and Aᵀ (4 × 6) of the points 0, ±1, ±2, ∞ (Lavin & Gray), on
// six values, each a vector of 16 tiles.
AVX512 INLINE void bt6(const __m512 x[6], __m512 r[6]) {
    __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
    __m512 s12 = _mm512_add_ps(x[1], x[2]), d12 = _mm512_sub_ps(x[1], x[2]);
    __m512 s34 = _mm512_add_ps(x[3], x[4]), d43 = _mm512_sub_ps(x[4], x[3]);
    __m512 d42 = _mm512_sub_ps(x[4], x[2]), d31 = _mm512_sub_ps(x[3], x[1]);
    r[0] = _mm512_fmadd_ps(four, x[0], _mm512_fnmadd_ps(five, x[2], x[4]));  // 4x0 − 5x2 + x4
    r[1] = _mm512_fnmadd_ps(four, s12, s34);                                 // −4(x1 + x2) + x3 + x4
    r[2] = _mm512_fmadd_ps(four, d12, d43);                                  // 4(x1 − x2) − x3 + x4
    r[3] = _mm512_fmadd_ps(two, d31, d42);                                   // 2(x3 − x1) + x4 − x2
    r[4] = _mm512_fnmadd_ps(two, d31, d42);                                  // −2(x3 − x1) + x4 − x2
    r[5] = _mm512_fmadd_ps(four, x[1], _mm512_fnmadd_ps(five, x[3], x[5]));  // 4x1 − 5x3 + x5
}

AVX512 INLINE void at6(const __m512 x[6], __m512 r[4]) {
    __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f), eight = _mm512_set1_ps(8.0f);
    __m512 s12 = _mm512_add_ps(x[1], x[2]), d12 = _mm512_sub_ps(x[1], x[2]);
    __m512 s34 = _mm512_add_ps(x[3], x[4]), d34 = _mm512_sub_ps(x[3], x[4]);
    r[0] = _mm512_add_ps(_mm512_add_ps(x[0], s12), s34);                    // x0 + x1 + x2 + x3 + x4
    r[1] = _mm512_fmadd_ps(two, d34, d12);                                   // x1 − x2 + 2(x3 − x4)
    r[2] = _mm512_fmadd_ps(four, s34, s12);                                  // x1 + x2 + 4(x3 + x4)
    r[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), x[5]);            // x1 − x2 + 8(x3 − x4) + x5
}

// One input row of 16 tiles: c[j] (j < 6) holds column x0 + 4k + j for tile k (lane k) of the
// row at `line` (columns outside 0 ..< width read as zero, and are not read).
AVX512 INLINE void phases6(const float *line, long x0, long width, __m512 c[6]) {
    __m512 a[5];
    for (int v = 0; v < 5; v++) a[v] = _mm512_maskz_loadu_ps(inside((int)x0 + 16 * v, 0, (int)width), line + x0 + 16 * v);
    // Per pair of loads, columns j and j + 2 (j = 0, 1) of its 8 tiles: lanes 0–7 and 8–15.
    const __m512i p01 = _mm512_set_epi32(29, 25, 21, 17, 13, 9, 5, 1, 28, 24, 20, 16, 12, 8, 4, 0);
    const __m512i p23 = _mm512_set_epi32(31, 27, 23, 19, 15, 11, 7, 3, 30, 26, 22, 18, 14, 10, 6, 2);
    __m512 u0 = _mm512_permutex2var_ps(a[0], p01, a[1]), u1 = _mm512_permutex2var_ps(a[0], p23, a[1]);
    __m512 u2 = _mm512_permutex2var_ps(a[2], p01, a[3]), u3 = _mm512_permutex2var_ps(a[2], p23, a[3]);
    const __m512i lo = _mm512_set_epi32(23, 22, 21, 20, 19, 18, 17, 16, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i hi = _mm512_set_epi32(31, 30, 29, 28, 27, 26, 25, 24, 15, 14, 13, 12, 11, 10, 9, 8);
    c[0] = _mm512_permutex2var_ps(u0, lo, u2);
    c[1] = _mm512_permutex2var_ps(u0, hi, u2);
    c[2] = _mm512_permutex2var_ps(u1, lo, u3);
    c[3] = _mm512_permutex2var_ps(u1, hi, u3);
    // Columns 4k + 4 and 4k + 5 are the next tile's 0 and 1: one lane on, the last from the fifth load.
    const __m512i next0 = _mm512_set_epi32(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    const __m512i next1 = _mm512_set_epi32(17, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    c[4] = _mm512_permutex2var_ps(c[0], next0, a[4]);
    c[5] = _mm512_permutex2var_ps(c[1], next1, a[4]);
}

// Tiles k < count (≤ 16) of one tile row: V = Bᵀ d B of the n × n block (n ≤ 6) at rows
// y0 ..< y0 + n, columns x0 + 4k ..< + n of the plane (zero outside it), V[ξ] (ξ = n·i + j) at
// out + ξ·stride, `bt` applying Bᵀ to n values (inlined with n and bt known: F(4×4, 3×3)'s 6 and
// `bt6`, the stride-2 form's 5 and `bt5s2`, whose blocks both start 4 columns apart).
AVX512 INLINE void input16_blocks(const float *plane, long width, long height, long y0, long x0, float *out, long stride,
                                  int count, int n, void (*bt)(const __m512 *, __m512 *)) {
    __m512 h[6][6];
    for (int k = 0; k < n; k++) {
        __m512 c[6];
        if (y0 + k >= 0 && y0 + k < height) phases6(plane + (y0 + k) * width, x0, width, c);
        else for (int j = 0; j < 6; j++) c[j] = _mm512_setzero_ps();
        bt(c, h[k]);  // d B: row k's n values times B
    }
    __mmask16 keep = lanes(count);
    for (int j = 0; j < n; j++) {
        __m512 col[6], v[6];
        for (int k = 0; k < n; k++) col[k] = h[k][j];
        bt(col, v);  // Bᵀ (d B): column j
        for (int i = 0; i < n; i++) _mm512_mask_storeu_ps(out + (n * i + j) * stride, keep, v[i]);
    }
}

// One tile row of one channel, 16 tiles at a time (`input16_blocks`).
AVX512 INLINE void input_row_blocks(const float *plane, long width, long height, long y0, long x0, int tiles, float *out,
                                    long stride, int n, void (*bt)(const __m512 *, __m512 *)) {
    for (int t = 0; t < tiles; t += 16, x0 += 64)
        input16_blocks(plane, width, height, y0, x0, out + t, stride, tiles - t < 16 ? tiles - t : 16, n, bt);
}

AVX512 void zoo_winograd4_input_row(const float *plane, long width, long height, long y0, long x0, int tiles, float *out,
                                    long stride) {
    input_row_blocks(plane, width, height, y0, x0, tiles, out, stride, 6, bt6);
}

// y = Aᵀ m A for one tile row of one filter, 16 tiles at a time: n points per side (M[ξ], ξ = n·k + j,
// at m + ξ·stride), o outputs per tile side (2 or 4), `at` applying Aᵀ to n values (inlined with n,
// o and at known); times `scale`, plus `bias`, the ReLU; the o values of each tile interleaved into
// the output rows at `top` (row stride `width`), the first `rows` rows, no column past `width`.
AVX512 INLINE void output_row_blocks(const float *m, long stride, float *top, long width, int rows, int tiles, float scale,
                                     float bias, int relu, int n, int o, void (*at)(const __m512 *, __m512 *)) {
    // o values per tile, tiles side by side: the 2-way interleave of y[0], y[1] (o = 2), or the
    // 4-way one of y[0..3] in two rounds (o = 4).
    const __m512i pair_lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i pair_hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const __m512i quad_lo = _mm512_set_epi32(23, 22, 7, 6, 21, 20, 5, 4, 19, 18, 3, 2, 17, 16, 1, 0);
    const __m512i quad_hi = _mm512_set_epi32(31, 30, 15, 14, 29, 28, 13, 12, 27, 26, 11, 10, 25, 24, 9, 8);
    __m512 b = _mm512_set1_ps(bias), f = _mm512_set1_ps(scale), zero = _mm512_setzero_ps();
    for (int t = 0; t < tiles; t += 16, m += 16, top += 16 * o) {
        __mmask16 in = lanes(tiles - t);
        long cols = width - (long)o * t;
        __m512 s[4][6];
        for (int j = 0; j < n; j++) {
            __m512 x[6], r[4];
            for (int k = 0; k < n; k++) x[k] = _mm512_maskz_loadu_ps(in, m + (n * k + j) * stride);
            at(x, r);  // Aᵀ m: column j
            for (int i = 0; i < o; i++) s[i][j] = r[i];
        }
        for (int i = 0; i < rows; i++) {
            __m512 y[4], out[4];
            at(s[i], y);  // (Aᵀ m) A: row i
            for (int l = 0; l < o; l++) {
                y[l] = _mm512_fmadd_ps(y[l], f, b);
                if (relu) y[l] = _mm512_max_ps(y[l], zero);
            }
            if (o == 2) {
                out[0] = _mm512_permutex2var_ps(y[0], pair_lo, y[1]);
                out[1] = _mm512_permutex2var_ps(y[0], pair_hi, y[1]);
            } else {
                __m512 p0 = _mm512_permutex2var_ps(y[0], pair_lo, y[1]), p1 = _mm512_permutex2var_ps(y[0], pair_hi, y[1]);
                __m512 q0 = _mm512_permutex2var_ps(y[2], pair_lo, y[3]), q1 = _mm512_permutex2var_ps(y[2], pair_hi, y[3]);
                out[0] = _mm512_permutex2var_ps(p0, quad_lo, q0);
                out[1] = _mm512_permutex2var_ps(p0, quad_hi, q0);
                out[2] = _mm512_permutex2var_ps(p1, quad_lo, q1);
                out[3] = _mm512_permutex2var_ps(p1, quad_hi, q1);
            }
            float *row = top + i * width;
            for (int v = 0; v < o; v++) _mm512_mask_storeu_ps(row + 16 * v, lanes((int)(cols - 16 * v)), out[v]);
        }
    }
}

AVX512 void zoo_winograd4_output_row(const float *m, long stride, float *top, long width, int rows, int tiles, float scale,
                                     float bias, int relu) {
    output_row_blocks(m, stride, top, width, rows, tiles, scale, bias, relu, 6, 4, at6);
}

// Winograd for 3 × 3 convolutions with stride 2 ("s2"): along each dimension the kernel's even
// taps (g0, g2) run over the input's even columns by F(2, 2) — 3 points — and its odd tap g1 over
// the odd columns directly — 2 points: 5 points per 2 outputs against 6 products, 25 per 2 × 2
// outputs against 36. The 5 × 5 input blocks start 4 apart (as F(4×4, 3×3)'s 6 × 6 ones do), and
// every coefficient is 0 or ±1:
//     Bᵀ = [[1,0,−1,0,0],[0,0,1,0,0],[0,0,−1,0,1],[0,1,0,0,0],[0,0,0,1,0]], Aᵀ = [[1,1,0,1,0],[0,1,1,0,1]].
AVX512 INLINE void bt5s2(const __m512 x[5], __m512 r[5]) {
    r[0] = _mm512_sub_ps(x[0], x[2]);
    r[1] = x[2];
    r[2] = _mm512_sub_ps(x[4], x[2]);
    r[3] = x[1];
    r[4] = x[3];
}

AVX512 INLINE void at5s2(const __m512 x[5], __m512 r[2]) {
    r[0] = _mm512_add_ps(_mm512_add_ps(x[0], x[1]), x[3]);
    r[1] = _mm512_add_ps(_mm512_add_ps(x[1], x[2]), x[4]);
}

AVX512 void zoo_winograd_s2_input_row(const float *plane, long width, long height, long y0, long x0, int tiles, float *out,
                                      long stride) {
    input_row_blocks(plane, width, height, y0, x0, tiles, out, stride, 5, bt5s2);
}

AVX512 void zoo_winograd_s2_output_row(const float *m, long stride, float *top, long width, int rows, int tiles, float scale,
                                       float bias, int relu) {
    output_row_blocks(m, stride, top, width, rows, tiles, scale, bias, relu, 5, 2, at5s2);
}

// One row of im2col: out[ox] = line[ox·sw + x0] where that lies in 0 ..< width, else 0, for
// ox < outWidth; stride 1 or 2. Masked loads leave the padding at zero without a branch per value.
AVX512 static void im2col_row(const float *line, int width, int x0, int sw, int outWidth, float *out) {
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i zero = _mm512_setzero_si512(), limit = _mm512_set1_epi32(width);
    for (int ox = 0; ox < outWidth; ox += 16) {
        __mmask16 store = outWidth - ox >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (outWidth - ox)) - 1);
        if (sw == 1) {
            __m512i x = _mm512_add_epi32(lane, _mm512_set1_epi32(ox + x0));
            __mmask16 inside = _mm512_cmpge_epi32_mask(x, zero) & _mm512_cmplt_epi32_mask(x, limit) & store;
            _mm512_mask_storeu_ps(out + ox, store, _mm512_maskz_loadu_ps(inside, line + ox + x0));
        } else if (sw > 2) {
            // Wider strides (AlexNet's conv1, 4) gathered, 16 lanes at a time: its grid 0.11–0.12
            // ms in the network against 0.17 for the scalar loop in Swift this replaced.
            __m512i x = _mm512_add_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32(sw)), _mm512_set1_epi32(sw * ox + x0));
            __mmask16 inside = _mm512_cmpge_epi32_mask(x, zero) & _mm512_cmplt_epi32_mask(x, limit) & store;
            _mm512_mask_storeu_ps(out + ox, store, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside, x, line, 4));
        } else {
            int start = 2 * ox + x0;
            __m512i xa = _mm512_add_epi32(lane, _mm512_set1_epi32(start));
            __m512i xb = _mm512_add_epi32(lane, _mm512_set1_epi32(start + 16));
            __mmask16 ia = _mm512_cmpge_epi32_mask(xa, zero) & _mm512_cmplt_epi32_mask(xa, limit);
            __mmask16 ib = _mm512_cmpge_epi32_mask(xb, zero) & _mm512_cmplt_epi32_mask(xb, limit);
            __m512 a = _mm512_maskz_loadu_ps(ia, line + start), b = _mm512_maskz_loadu_ps(ib, line + start + 16);
            _mm512_mask_storeu_ps(out + ox, store, evens(a, b));
        }
    }
}

void zoo_im2col_row(const float *line, int width, int x0, int sw, int outWidth, float *out) {
    im2col_row(line, width, x0, sw, outWidth, out);
}

// Input rows ahead that the pooling prefetches: ZOO_POOL_PREFETCH (0 turns it off, to compare).
static atomic_int pool_ahead = -1;

// Max pooling, 3-wide windows with column stride 2, of one channel: output row oy takes the
// maximum over input rows oy·sh − pt ..< + kh (those inside the plane) of each window of columns
// 2·ox − pl ..< + 3; what lies outside the plane counts as −∞. 16 outputs at a time: each row's
// columns as the even and odd halves of two 16-float loads and the evens of two more, two columns
// on; the rows' maximum taken first (once per load), then the three columns'. The next output
// rows' input rows are prefetched `pool_ahead` rows on: in a network they come from memory.
AVX512 void zoo_max_pool3_stride2(const float *plane, int height, int width, int outHeight, int outWidth, int kh, int sh,
                                  int pt, int pl, float *out) {
    const __m512 none = _mm512_set1_ps(-__builtin_inff());
    const int ahead = env_setting(&pool_ahead, "ZOO_POOL_PREFETCH", 4);
    for (int oy = 0; oy < outHeight; oy++) {
        int y0 = oy * sh - pt, ya = y0 < 0 ? 0 : y0, yb = y0 + kh < height ? y0 + kh : height;
        float *o = out + (long)oy * outWidth;
        // The next output rows' input rows, `ahead` rows on (past the plane's end: the next
        // channel's, which follow it), on their way from memory while these are pooled.
        if (ahead)
            for (long i = 0; i < (long)sh * width; i += 16) _mm_prefetch((const char *)(plane + (long)(yb + ahead) * width + i), _MM_HINT_T0);
        for (int ox = 0; ox < outWidth; ox += 16) {
            int x0 = 2 * ox - pl, lo = -x0 > 0 ? -x0 : 0, hi = width - x0;
            __mmask16 m0 = inside(0, lo, hi), m1 = inside(16, lo, hi), m2 = inside(2, lo, hi), m3 = inside(18, lo, hi);
            __m512 a = none, b = none, a2 = none, b2 = none;
            for (int y = ya; y < yb; y++) {
                const float *p = plane + (long)y * width + x0;
                a = _mm512_max_ps(_mm512_mask_loadu_ps(none, m0, p), a);
                b = _mm512_max_ps(_mm512_mask_loadu_ps(none, m1, p + 16), b);
                a2 = _mm512_max_ps(_mm512_mask_loadu_ps(none, m2, p + 2), a2);
                b2 = _mm512_max_ps(_mm512_mask_loadu_ps(none, m3, p + 18), b2);
            }
            _mm512_mask_storeu_ps(o + ox, lanes(outWidth - ox), _mm512_max_ps(_mm512_max_ps(evens(a, b), odds(a, b)), evens(a2, b2)));
        }
    }
}

// Max pooling 3 × 3, stride 1, padding 1 (an inception block's pool branch) of one channel: the
// plane taken as one line of height · width values, 16 outputs at a time from nine masked loads
// (the rows above and below, the neighbours left and right), lanes whose neighbour would wrap to
// another row (columns 0 and width − 1) or leave the plane masked out (−∞).
AVX512 void zoo_max_pool3_same(const float *plane, int height, int width, float *out) {
    const __m512 none = _mm512_set1_ps(-__builtin_inff());
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i w = _mm512_set1_epi32(width), last = _mm512_set1_epi32(width - 1), zero = _mm512_setzero_si512();
    int count = height * width;
    // Each lane's column: (i0 + lane) mod width, kept up to date as i0 moves on by 16.
    __m512i col = lane;
    while (_mm512_cmpge_epi32_mask(col, w)) col = _mm512_mask_sub_epi32(col, _mm512_cmpge_epi32_mask(col, w), col, w);
    const __m512i step = _mm512_set1_epi32(16 % width);
    for (int i0 = 0; i0 < count; i0 += 16) {
        __mmask16 in = lanes(count - i0);
        __mmask16 notLeft = in & ~_mm512_cmpeq_epi32_mask(col, zero), notRight = in & ~_mm512_cmpeq_epi32_mask(col, last);
        const float *p = plane + i0;
        __m512 m = _mm512_mask_loadu_ps(none, in, p);
        m = _mm512_max_ps(m, _mm512_mask_loadu_ps(none, notLeft, p - 1));
        m = _mm512_max_ps(m, _mm512_mask_loadu_ps(none, notRight, p + 1));
        // The row above exists from i = width on, the row below up to count − width.
        __mmask16 up = in & (i0 >= width ? 0xFFFF : (__mmask16)~lanes(width - i0));
        __mmask16 down = in & lanes(count - width - i0);
        __m512 a = _mm512_mask_loadu_ps(none, up, p - width);
        a = _mm512_max_ps(a, _mm512_mask_loadu_ps(none, up & notLeft, p - width - 1));
        a = _mm512_max_ps(a, _mm512_mask_loadu_ps(none, up & notRight, p - width + 1));
        __m512 b = _mm512_mask_loadu_ps(none, down, p + width);
        b = _mm512_max_ps(b, _mm512_mask_loadu_ps(none, down & notLeft, p + width - 1));
        b = _mm512_max_ps(b, _mm512_mask_loadu_ps(none, down & notRight, p + width + 1));
        _mm512_mask_storeu_ps(out + i0, in, _mm512_max_ps(m, _mm512_max_ps(a, b)));
        col = _mm512_add_epi32(col, step);
        col = _mm512_mask_sub_epi32(col, _mm512_cmpge_epi32_mask(col, w), col, w);
    }
}

// Mean of each of `channels` runs of `area` values.
AVX512 static void channel_means(const float *x, int channels, int area, float *y) {
    for (int c = 0; c < channels; c++) {
        const float *p = x + (size_t)c * area;
        __m512 s = _mm512_setzero_ps();
        for (int i = 0; i < area; i += 16) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(lanes(area - i), p + i));
        y[c] = _mm512_reduce_add_ps(s) / (float)area;
    }
}

void zoo_channel_means(const float *x, int channels, int area, float *y) { channel_means(x, channels, area, y); }

// Fully-connected layers at small batches: y[j][i] = bias[i] + W[i]·x[j], as dot products with
// the vectors along k. W's row i and sample j's inputs are both contiguous, so no transposes and
// no packing: an FMA does 16 of the products (the broadcast tiles above, with B's few columns
// along the vector, did n), and W, read once from memory, is the only stream of any size.
// R rows of W × NJ samples, R·NJ accumulators, each reduced to one value at the end.
AVX512 INLINE void dots_tile(int r, int nj, int k, const float *w, long ldw, int rows, const float *x, long ldx, float *y,
                             long ldy, const float *bias) {
    __m512 s[8][8];
    const float *wr[8], *xj[8];
    for (int i = 0; i < r; i++) wr[i] = w + (i < rows ? i : rows - 1) * ldw;
    for (int j = 0; j < nj; j++) xj[j] = x + j * ldx;
    for (int i = 0; i < r; i++) for (int j = 0; j < nj; j++) s[i][j] = _mm512_setzero_ps();
    for (int kk = 0; kk < k; kk += 16) {
        __mmask16 m = lanes(k - kk);
        __m512 a[8];
        for (int i = 0; i < r; i++) {
            // W's rows ahead on their way from memory: R streams, each read once.
            _mm_prefetch((const char *)(wr[i] + kk + 128), _MM_HINT_T0);
            a[i] = _mm512_maskz_loadu_ps(m, wr[i] + kk);
        }
        for (int j = 0; j < nj; j++) {
            __m512 b = _mm512_maskz_loadu_ps(m, xj[j] + kk);
            for (int i = 0; i < r; i++) s[i][j] = _mm512_fmadd_ps(a[i], b, s[i][j]);
        }
    }
    for (int i = 0; i < r && i < rows; i++)
        for (int j = 0; j < nj; j++) y[j * ldy + i] = _mm512_reduce_add_ps(s[i][j]) + (bias ? bias[i] : 0.0f);
}

#define DOTS(R, NJ) \
    AVX512 static void dots_##R##_##NJ(int k, const float *w, long ldw, int rows, const float *x, long ldx, float *y, long ldy, \
                                       const float *bias) { \
        dots_tile(R, NJ, k, w, ldw, rows, x, ldx, y, ldy, bias); \
    }
DOTS(6, 1) DOTS(6, 2) DOTS(6, 3) DOTS(4, 4) DOTS(4, 5) DOTS(4, 6) DOTS(3, 7) DOTS(3, 8)
typedef void (*dots_fn)(int, const float *, long, int, const float *, long, float *, long, const float *);
static const dots_fn dots_tiles[9] = {0, dots_6_1, dots_6_2, dots_6_3, dots_4_4, dots_4_5, dots_4_6, dots_3_7, dots_3_8};
static const int dots_rows[9] = {0, 6, 6, 6, 4, 4, 4, 3, 3};

void zoo_dense_dots(const float *w, long ldw, int k, int first, int count, const float *x, long ldx, int n, float *y, long ldy,
                    const float *bias) {
    if (count <= 0 || n <= 0) return;
    // Samples in groups of up to 8; a group's rows of W are still in L2 for the next group.
    int groups = (n + 7) / 8;
    int nj = (n + groups - 1) / groups;
    int r = dots_rows[nj];
    for (int i = first; i < first + count; i += r) {
        int rows = first + count - i < r ? first + count - i : r;
        for (int j = 0; j < n; j += nj) {
            int cols = n - j < nj ? n - j : nj;
            dots_tiles[cols](k, w + (size_t)i * ldw, ldw, rows, x + (size_t)j * ldx, ldx, y + (size_t)j * ldy + i, ldy,
                             bias ? bias + i : 0);
        }
    }
}

// Where threads run (Linux; elsewhere -1 and 0: nothing known, nothing moved).
int zoo_current_cpu(void) {
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}

// How many CPUs the calling thread may run on (its affinity, as `nproc` counts; 0 where unknown).
int zoo_allowed_cpus(void) {
#ifdef __linux__
    cpu_set_t allowed;
    return sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : 0;
#else
    return 0;
#endif
}

// Moves the calling thread onto CPU `cpu` (`onto`) or off it to another it may run on: its
// affinity narrowed to those, which moves it at once, and then given back whole, which leaves it
// where it now is. 1 where it moved; 0 where it could not (no such CPU left, `cpu` not one it may
// run on, or not Linux).
static int move_thread(int cpu, int onto) {
#ifdef __linux__
    cpu_set_t allowed, to;
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(cpu, &allowed)) return 0;
    if (onto) {
        CPU_ZERO(&to);
        CPU_SET(cpu, &to);
    } else {
        to = allowed;
        CPU_CLR(cpu, &to);
    }
    if (CPU_COUNT(&to) == 0 || sched_setaffinity(0, sizeof to, &to) != 0) return 0;
    sched_setaffinity(0, sizeof allowed, &allowed);
    return 1;
#else
    (void)cpu;
    (void)onto;
    return 0;
#endif
}

// A worker on its caller's CPU moves off it (`WorkerPool`).
int zoo_leave_cpu(int cpu) { return move_thread(cpu, 0); }

// Tests: a worker and its caller put on one CPU.
int zoo_move_to_cpu(int cpu) { return move_thread(cpu, 1); }
