import CBLAS
import CZooGEMM
import Foundation
import ZooCore

/// A 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", CVPR 2016): each 2×2 block of outputs ("tile")
/// from a 4×4 block of the input in 16 multiplications instead of 36 per channel pair, so the GEMMs
/// do 2.25× fewer operations than im2col's.
///
///     U = G g Gᵀ (each filter's 3×3 kernel of each channel, once, when prepared)
///     V = Bᵀ d B (each 4×4 input block of each channel)
///     M_ξ = U_ξ · V_ξ for ξ = 0..<16 (16 GEMMs: filters × channels times channels × tiles)
///     y = Aᵀ m A (each tile of each filter, then the bias and the ReLU)
///
/// with Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]], G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]],
/// Aᵀ = [[1,1,1,0],[0,1,−1,−1]]. Its rounding differs from direct convolution's by a few units in
/// the last place (the transforms add and subtract, with factors ½ and 1 only).
///
/// On larger maps, F(4×4, 3×3) (`tile` 4): each 4×4 block of outputs from a 6×6 block of the input
/// in 36 multiplications instead of 144 (4× fewer operations than im2col's, 36 GEMMs on a quarter
/// of the tiles), with the points 0, ±1, ±2, ∞:
///
///     Bᵀ = [[4,0,−5,0,1,0],[0,−4,−4,1,1,0],[0,4,−4,−1,1,0],[0,−2,−1,2,1,0],[0,2,−1,−2,1,0],[0,4,0,−5,0,1]]
///     G = [[¼,0,0],[−⅙,−⅙,−⅙],[−⅙,⅙,−⅙],[1/24,1/12,⅙],[1/24,−1/12,⅙],[0,0,1]]
///     Aᵀ = [[1,1,1,1,1,0],[0,1,−1,2,−2,0],[0,1,1,4,4,0],[0,1,−1,8,−8,1]]
///
/// Its factors up to 8 (64 in two dimensions) cost accuracy: 5–6e-6 of the largest output against
/// PyTorch's float64 reference on 64-channel layers (the `conv_winograd4*` fixtures), where F(2×2,
/// 3×3) is off by 2–3e-7; whole networks' logits 2–6e-7, VGG-16's 1.6e-6 (`tools/check_torchvision.py`).
///
/// Larger kernels (4 × 4 to 6 × 6, stride 1: AlexNet's 5 × 5 conv2, GoogLeNet's 5 × 5 branches — F(4×4) only) as
/// 3 × 3 pieces: the k × k kernel, zero-padded to 3s × 3s (s = ⌈k/3⌉), is s² kernels of 3 × 3, the
/// piece (p, q) reading the input 3p rows down and 3q columns right, and
///
///     y = Σ_(p,q) conv3×3(x shifted by (3p, 3q), g_pq)
///
/// is one F(4×4, 3×3) convolution over s²·C channels: V's rows (p, q, c) are the shifted input's
/// blocks, U's columns the pieces' transformed kernels, one GEMM per ξ of depth s²·C. A 5 × 5 layer
/// takes 4 · 36 / 16 = 9 multiplications per output and channel against 25 (2.8× fewer). Not 7 × 7
/// (nine pieces): 1.2e-5 of the largest output off im2col's on a 24-channel layer, past the 1e-5
/// every kernel is held to (5 × 5: within it, the `conv_winograd5x5*` fixtures against PyTorch).
///
/// 3 × 3 convolutions with stride 2 (ResNet v1.5's conv3_1, conv4_1 conv_b) by their two phases
/// along each dimension (`convolutionStride` 2, tile 2): output y[i] = g0·d[2i] + g1·d[2i+1] +
/// g2·d[2i+2] is the even taps (g0, g2) over the even inputs — F(2, 2), 3 points — plus the odd tap
/// over the odd inputs — 2 points, direct — so 5 points per 2 outputs, 25 per 2 × 2 outputs against
/// 36 products (1.44× fewer), from 5 × 5 blocks 4 apart:
///
///     Bᵀ = [[1,0,−1,0,0],[0,0,1,0,0],[0,0,−1,0,1],[0,1,0,0,0],[0,0,0,1,0]]
///     G = [[1,0,0],[1,0,1],[0,0,1],[0,1,0],[0,1,0]]
///     Aᵀ = [[1,1,0,1,0],[0,1,1,0,1]]
///
/// Every coefficient is 0 or ±1, so it rounds about as a direct convolution does. U is 25/9 of
/// the filters' size.
struct WinogradKernel: @unchecked Sendable {
    let channels: Int, filters: Int
    /// The kernel's side (3; 4 to 6 as 3 × 3 pieces) and the pieces along each side, s = ⌈k/3⌉.
    let kernel: Int
    var piecesAcross: Int { (kernel + 2) / 3 }
    /// V's rows and U's columns: each piece's channels, (p·s + q)·C + c.
    var depth: Int { piecesAcross * piecesAcross * channels }
    let height: Int, width: Int, padTop: Int, padLeft: Int
    let outHeight: Int, outWidth: Int
    /// U as `points` matrices [filters, depth] (empty where `packed` holds them).
    let transformed: [Float]
    /// U packed for Zoo's GEMM, where it runs (else OpenBLAS's SGEMM multiplies `transformed`).
    let packed: PackedMatrices?
    var bias: [Float]?
    /// Each filter's sums multiplied by this before the bias (a folded batch norm; nil for 1).
    var scale: [Float]?
    var relu = false
    /// Outputs per tile side: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3).
    let tile: Int
    /// The convolution's stride: 1, or 2 (3 × 3, tile 2: the phases' form above).
    let convolutionStride: Int
    /// The input block's side (tile + 2; 5 for stride 2) and its number of points, ξ = 0 ..< points.
    var alpha: Int { convolutionStride == 2 ? 5 : tile + 2 }
    var points: Int { alpha * alpha }

    var tilesAcross: Int { (outWidth + tile - 1) / tile }
    var tileRows: Int { (outHeight + tile - 1) / tile }

    /// Where Winograd is used: 3×3, stride 1, no dilation, one group, at least 16 filters, maps
    /// of at least 7×7, at least 64 channels — 16 where F(4×4) runs (measured faster than im2col
    /// on every such layer of VGG-16, ResNet-50 and GoogLeNet; with 16–48 channels, GoogLeNet's
    /// third branches, F(2×2)'s transforms cost more than the products they save: 1.03 ms for the
    /// nine against 0.84 direct; F(4×4) saves more: GoogLeNet's two 28 × 28 ones 0.05–0.08 and
    /// 0.25–0.31 ms against 0.06–0.09 and 0.33–0.38 direct) — and U at most 4M values (16 MiB:
    /// 512 × 512 filters). U replaces the layer's filters at inference (16/9 of their size:
    /// VGG-16's peak memory grows by 7/9 of its 3×3 filters). On VGG-16's 512-channel layers 0.66×
    /// (28 × 28) and 0.86× (14 × 14) the direct convolution's time, on AlexNet's 13 × 13 conv3 and
    /// conv4 0.8× im2col's.
    ///
    /// Kernels of 4 × 4 to 6 × 6 (as 3 × 3 pieces) only as F(4×4, 3×3) (AVX-512, Zoo's GEMM), on
    /// maps of at least 14 × 14 with at least 16 channels and U (36 · filters · s²·C) within 4M
    /// values. One thread: AlexNet's conv2 (27 × 27, 64 → 192) 1.9 ms against 4.65 by the direct
    /// convolution; GoogLeNet's 5 × 5 layers at 28 × 28 and 14 × 14 0.46–0.83× the time (inception
    /// 3b's 0.66 against 1.44 ms); on 7 × 7 maps (4 tiles per image) 1.55–1.8× slower, so not there.
    ///
    /// Stride 2 (3 × 3, no dilation, one group): with Zoo's GEMM and the AVX-512 transforms, at least
    /// 32 filters and 64 channels, output maps of at least 14 × 14 and U (25 · filters · channels)
    /// within 4M values — ResNet-50 v1.5's conv3_1 and conv4_1 conv_b, not conv5_1's (512 × 512:
    /// U 26 MB against 9.4 of filters, 16 tiles per image).
    static func applies(to k: ConvolutionKernel, zooGEMM: Bool = PackedMatrices.enabled) -> Bool {
        guard !ConvolutionKernel.im2colOnly else { return false }
        if k.sh == 2 || k.sw == 2 {
            return k.kh == 3 && k.kw == 3 && k.sh == 2 && k.sw == 2 && k.dh == 1 && k.dw == 1 && k.groups == 1 && k.filters >= 32
                && k.inChannels >= 64 && k.outHeight >= 14 && k.outWidth >= 14 && zooGEMM && cpuHasAVX512 && !onlySmallTiles
                && !noStrided && 25 * k.filters * k.inChannels <= 1 << 22
        }
        if k.kh == k.kw && k.kh > 3 && k.kh <= 6 {
            let s = (k.kh + 2) / 3
            return k.sh == 1 && k.sw == 1 && k.dh == 1 && k.dw == 1 && k.groups == 1 && k.filters >= 16 && k.inChannels >= 16
                && k.outHeight >= 14 && k.outWidth >= 14 && zooGEMM && cpuHasAVX512 && !onlySmallTiles && 36 * k.filters * s * s * k.inChannels <= 1 << 22
        }
        guard k.kh == 3 && k.kw == 3 && k.sh == 1 && k.sw == 1 && k.dh == 1 && k.dw == 1 && k.groups == 1
            && k.filters >= 16 && k.outHeight * k.outWidth >= 49 && 16 * k.filters * k.inChannels <= 1 << 22 else { return false }
        return k.inChannels >= 64 || (k.inChannels >= 16 && tile(for: k, zooGEMM: zooGEMM) == 4)
    }

    /// The tile for a layer where Winograd applies: 4 (F(4×4, 3×3)) on maps of at least 28 × 28
    /// where Zoo's GEMM and transforms run (AVX-512) and U stays within 4M values (36 matrices:
    /// up to 256 × 256 filters), else 2. On ResNet-50's 28 × 28 layers 0.67× F(2×2)'s time on one
    /// thread (0.62 against 0.93 ms), GoogLeNet's conv2 (56 × 56) 0.61×; on 14 × 14 maps slower (16
    /// tiles per image, GEMMs of 16 columns: ResNet-50 1.045×, GoogLeNet 1.11× the network's time).
    /// `ZOO_WINOGRAD=2` keeps F(2×2, 3×3) everywhere (to compare).
    static func tile(for k: ConvolutionKernel, zooGEMM: Bool = PackedMatrices.enabled) -> Int {
        guard zooGEMM && cpuHasAVX512 && !onlySmallTiles && k.sh == 1 else { return 2 }
        if k.kh > 3 { return 4 }
        return k.outHeight >= 28 && k.outWidth >= 28 && 36 * k.filters * k.inChannels <= 1 << 22 ? 4 : 2
    }

    static let onlySmallTiles = ProcessInfo.processInfo.environment["ZOO_WINOGRAD"] == "2"
    /// `ZOO_WINOGRAD=unstrided` keeps stride-2 layers direct (to compare).
    static let noStrided = ProcessInfo.processInfo.environment["ZOO_WINOGRAD"] == "unstrided"

    /// This kernel's Bᵀ, G and Aᵀ.
    var transforms: (bt: [[Double]], g: [[Double]], at: [[Double]]) { WinogradKernel.matrices(tile: tile, stride: convolutionStride) }

    /// Bᵀ, G and Aᵀ of F(tile × tile, 3×3), rows of `alpha` (`G`: rows of 3); with stride 2 (tile
    /// 2) the phases' form.
    static func matrices(tile: Int, stride: Int = 1) -> (bt: [[Double]], g: [[Double]], at: [[Double]]) {
        if stride == 2 {
            return ([[1, 0, -1, 0, 0], [0, 0, 1, 0, 0], [0, 0, -1, 0, 1], [0, 1, 0, 0, 0], [0, 0, 0, 1, 0]],
                    [[1, 0, 0], [1, 0, 1], [0, 0, 1], [0, 1, 0], [0, 1, 0]],
                    [[1, 1, 0, 1, 0], [0, 1, 1, 0, 1]])
        }
        if tile == 2 {
            return ([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
                    [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
                    [[1, 1, 1, 0], [0, 1, -1, -1]])
        }
        return ([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0],
                 [0, 4, 0, -5, 0, 1]],
                [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6], [1.0 / 24, 1.0 / 12, 1.0 / 6],
                 [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]],
                [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]])
    }

    init(_ k: ConvolutionKernel, zooGEMM: Bool = PackedMatrices.enabled, tile: Int? = nil) {
        channels = k.inChannels; filters = k.filters
        height = k.height; width = k.width; padTop = k.padTop; padLeft = k.padLeft
        outHeight = k.outHeight; outWidth = k.outWidth
        bias = k.bias; scale = k.scale; relu = k.relu
        kernel = k.kh
        convolutionStride = k.sh
        self.tile = k.sh == 2 ? 2 : tile ?? WinogradKernel.tile(for: k, zooGEMM: zooGEMM)
        precondition(k.kh == k.kw && (k.kh == 3 || (k.kh <= 6 && self.tile == 4)), "Winograd: 3 × 3, or 4 × 4 to 6 × 6 as F(4×4) pieces")
        precondition(k.sh == k.sw && (k.sh == 1 || (k.sh == 2 && k.kh == 3)), "Winograd: stride 1, or 2 for 3 × 3")
        let C = channels, F = filters, n = convolutionStride == 2 ? 5 : self.tile + 2, K = kernel, s = (K + 2) / 3, D = s * s * C
        let G = WinogradKernel.matrices(tile: self.tile, stride: convolutionStride).g
        var u = [Float](repeating: 0, count: n * n * F * D)
        k.weights.withUnsafeBufferPointer { w in
            for f in 0..<F {
                for c in 0..<C {
                    let kernel = w.baseAddress! + (f * C + c) * K * K
                    for piece in 0..<(s * s) {
                        // The piece's 3 × 3 kernel: tap (a, b) is the k × k one's (3p + a, 3q + b),
                        // zero past its edge.
                        let y0 = 3 * (piece / s), x0 = 3 * (piece % s)
                        func g(_ a: Int, _ b: Int) -> Double { y0 + a < K && x0 + b < K ? Double(kernel[(y0 + a) * K + x0 + b]) : 0 }
                        // U = G g Gᵀ (in Double: U is computed once).
                        for i in 0..<n {
                            // Row i of G g, then its product with each row of G.
                            let r = G[i]
                            let g0 = r[0] * g(0, 0) + r[1] * g(1, 0) + r[2] * g(2, 0)
                            let g1 = r[0] * g(0, 1) + r[1] * g(1, 1) + r[2] * g(2, 1)
                            let g2 = r[0] * g(0, 2) + r[1] * g(1, 2) + r[2] * g(2, 2)
                            for j in 0..<n { u[((i * n + j) * F + f) * D + piece * C + c] = Float(G[j][0] * g0 + G[j][1] * g1 + G[j][2] * g2) }
                        }
                    }
                }
            }
        }
        if zooGEMM {
            packed = PackedMatrices(u, count: n * n, rows: F, depth: D)
            transformed = []
        } else {
            packed = nil
            transformed = u
        }
    }

    /// M_ξ = U_ξ · V_ξ for the filters `share` and `tiles` tiles (V_ξ: [depth, tiles], M_ξ:
    /// [filters, tiles]; `m` points at filter 0). Zoo's GEMM needs `share` to start on a panel.
    func multiply(_ xi: Int, filters share: Range<Int>, tiles: Int, _ v: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>) {
        if let packed {
            packed.multiply(xi, rows: share, columns: tiles, v, ldb: tiles, m, ldc: tiles)
            return
        }
        transformed.withUnsafeBufferPointer { u in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(share.count), Int32(tiles), Int32(depth),
                        1, u.baseAddress! + (xi * filters + share.lowerBound) * depth, Int32(depth),
                        v, Int32(tiles), 0, m + share.lowerBound * tiles, Int32(tiles))
        }
    }

    /// Tile rows per band so that a thread's V and M (points·(C + F)·tiles) stay within its share of
    /// the workspace limit.
    func tileRowsPerBand(threads: Int) -> Int {
        var limit = ConvolutionKernel.workspaceLimit / max(1, threads)
        // As for im2col (`ConvolutionKernel.cacheBand`): V and M in L2 where U is small.
        if packed != nil && points * filters * depth <= ConvolutionKernel.cacheBand { limit = min(limit, ConvolutionKernel.cacheBand) }
        // F(4×4, 3×3)'s bands at most an eighth of the limit (4 MiB): VGG-16's 112 × 112 layers would
        // otherwise take 29 MiB (peak RSS 1.30× its weights); 1–8M floats measured the same speed.
        if tile == 4 { limit = min(limit, ConvolutionKernel.workspaceLimit / 8) }
        return max(1, min(tileRows, limit / (points * (depth + filters) * tilesAcross)))
    }

    /// V and M for `tiles` tiles (+ 4: the output transform's last group of four tiles may read up
    /// to three values past M).
    func workspaceSize(tiles: Int) -> Int { points * (depth + filters) * tiles + 4 }

    func workspaceSize(threads: Int) -> Int { workspaceSize(tiles: tilesAcross * tileRowsPerBand(threads: threads)) }

    /// Images of a batch whose tiles go side by side in one band (`run(images:)`) when a batch runs
    /// layer by layer (image streams off, `Engine(imageStreams: false)` or `ZOO_STREAMS=0`), so
    /// that each U_ξ is read once for all of them: where an image has fewer tiles than one register
    /// tile of Zoo's GEMM (48 columns: 7 × 7 maps, 16 tiles) and is one band, up to 128 columns. A
    /// GEMM of 16 columns reads U (ResNet-50's conv5_x: 16.8 MB) from memory for 2 FLOPs per value
    /// and per column: 74 GFLOP/s with U cold against 142 for 128 columns (8 images), 129 for 32
    /// (the GEMM harness, M = K = 512, caches flushed); ResNet-50's conv5_2/conv5_3 3 × 3 layers
    /// at batch 8 on one thread 1.22–1.33 ms per image against 1.66–1.77 one image at a time.
    func imagesPerBand(batch: Int, threads: Int) -> Int {
        let tiles = tileRows * tilesAcross
        guard batch > 1, tiles < 48, tileRowsPerBand(threads: threads) >= tileRows else { return 1 }
        let perImage = points * (depth + filters) * tiles
        return max(1, min(batch, 128 / tiles, ConvolutionKernel.workspaceLimit / max(1, threads) / perImage))
    }

    /// The workspace `ConvolutionKernel.run(batch:)` needs for `batch` images on one thread with
    /// bands sized for `threads`.
    func workspaceSize(batch: Int, threads: Int) -> Int {
        let images = imagesPerBand(batch: batch, threads: threads)
        return images > 1 ? workspaceSize(tiles: tileRows * tilesAcross * images) : workspaceSize(threads: threads)
    }

    /// Convolves `count` whole images (`imagesPerBand`) at once: their tiles side by side in V and
    /// M (image n's at column n·tiles of each row), one GEMM per ξ for all of them.
    func run(images count: Int, _ input: UnsafePointer<Float>, inputStride: Int, _ output: UnsafeMutablePointer<Float>, outputStride: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let tiles = tileRows * tilesAcross, row = count * tiles
        let v = workspace, m = workspace + points * depth * row
        for n in 0..<count {
            transformInput(input + n * inputStride, into: v + n * tiles, firstTileRow: 0, tileRows: tileRows, rowLength: row)
        }
        for xi in 0..<points { multiply(xi, filters: 0..<filters, tiles: row, v + xi * depth * row, m + xi * filters * row) }
        for n in 0..<count {
            transformOutput(m + n * tiles, into: output + n * outputStride, firstTileRow: 0, tileRows: tileRows, rowLength: row)
        }
    }

    /// Convolves one image's tile rows `rows` (output rows tile·first ..< tile·last), in bands.
    func run(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>,
             tileRows rows: Range<Int>, threads: Int) {
        let band = tileRowsPerBand(threads: threads)
        var first = rows.lowerBound
        while first < rows.upperBound {
            let count = min(band, rows.upperBound - first)
            let tiles = count * tilesAcross
            let v = workspace, m = workspace + points * depth * tiles
            transformInput(input, into: v, firstTileRow: first, tileRows: count)
            for xi in 0..<points { multiply(xi, filters: 0..<filters, tiles: tiles, v + xi * depth * tiles, m + xi * filters * tiles) }
            transformOutput(m, into: output, firstTileRow: first, tileRows: count)
            first += count
        }
    }

    /// Whether `runSharingFilters` suits this layer: fewer tiles than filters (a split by tile rows
    /// would leave each thread GEMMs of a few dozen columns), and the whole image in one band.
    func sharesFilters(threads: Int) -> Bool {
        tileRows * tilesAcross < filters && filters >= 16 * threads && tileRowsPerBand(threads: 1) >= tileRows
    }

    /// One image on `threads` threads sharing one workspace (`workspaceSize(threads: 1)`): the
    /// threads transform a share of the channels each, then each runs the 16 GEMMs and the output
    /// transform for a share of the filters.
    func runSharingFilters(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, threads: Int) {
        let tiles = tileRows * tilesAcross
        let x = UnsafeSendable(UnsafeMutablePointer(mutating: input)), y = UnsafeSendable(output)
        let v = UnsafeSendable(workspace), m = UnsafeSendable(workspace + points * depth * tiles)
        shareBalanced(channels, parts: threads) { _, channels in
            self.transformInput(x.pointer, into: v.pointer, firstTileRow: 0, tileRows: self.tileRows, channels: channels)
        }
        // Shares of whole packed panels (Zoo's GEMM needs them; OpenBLAS does not mind).
        PackedMatrices.shareBalanced(filters, parts: threads, movable: packed != nil) { _, share in
            for xi in 0..<self.points {
                self.multiply(xi, filters: share, tiles: tiles, v.pointer + xi * self.depth * tiles, m.pointer + xi * self.filters * tiles)
            }
            self.transformOutput(m.pointer, into: y.pointer, firstTileRow: 0, tileRows: self.tileRows, filters: share)
        }
    }

    /// V[ξ][c][t] = (Bᵀ d B)_ξ for each channel c and tile t of the band (d: the alpha × alpha
    /// input block at (tile·ty − padTop, tile·tx − padLeft), zero outside the input; for a larger
    /// kernel's piece (p, q), V[ξ][(p·s + q)·C + c][t] of the block 3p rows down and 3q columns
    /// right). `channels`: a share of the input's channels (each with all its pieces). `inC`: the C
    /// transforms (AVX-512) rather than Swift's (tests run both). `rowLength`: tiles per row of V
    /// (default: the band's; more where several images' tiles go side by side, `run(images:)`).
    func transformInput(_ input: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>, firstTileRow: Int, tileRows: Int,
                        channels range: Range<Int>? = nil, rowLength: Int? = nil, inC: Bool = cpuHasAVX512) {
        let tiles = rowLength ?? tileRows * tilesAcross, stride = depth * tiles, s = piecesAcross
        if tile != 2 || convolutionStride == 2 {
            // Blocks 4 apart: F(4×4)'s 6 × 6 (tile 4) and the stride-2 form's 5 × 5 (tile 2 · stride 2).
            let step = tile * convolutionStride
            for c in range ?? 0..<channels {
                let plane = input + c * height * width
                for piece in 0..<(s * s) {
                    let dy = 3 * (piece / s), dx = 3 * (piece % s)
                    for r in 0..<tileRows {
                        let y0 = step * (firstTileRow + r) - padTop + dy, x0 = dx - padLeft
                        let out = v + (piece * channels + c) * tiles + r * tilesAcross
                        if inC && convolutionStride == 2 {
                            zoo_winograd_s2_input_row(plane, width, height, y0, x0, Int32(tilesAcross), out, stride)
                        } else if inC {
                            zoo_winograd4_input_row(plane, width, height, y0, x0, Int32(tilesAcross), out, stride)
                        } else {
                            for tx in 0..<tilesAcross { transformTileGeneric(plane, y0: y0, x0: step * tx + x0, out + tx, stride: stride) }
                        }
                    }
                }
            }
            return
        }
        for c in range ?? 0..<channels {
            let plane = input + c * height * width
            for r in 0..<tileRows {
                let y0 = 2 * (firstTileRow + r) - padTop
                let rowsInside = y0 >= 0 && y0 + 4 <= height
                let out = v + c * tiles + r * tilesAcross
                var tx = 0
                // In C with AVX-512 where the CPU has it (Swift's SIMD types compile to 4-wide SSE),
                // 16 tiles at a time, the padding and edges through masks.
                if cpuHasAVX512 {
                    zoo_winograd_input_row(plane, width, height, y0, -padLeft, Int32(tilesAcross), out, stride)
                    continue
                }
                // Eight, then four tiles at a time where their 4 × 18 (4 × 10) input block lies inside
                // the input: lane k is tile tx + k, whose block starts 2k further right (even and odd
                // halves of two loads), and V gets contiguous stores.
                if rowsInside {
                    if tx < tilesAcross && 2 * tx - padLeft < 0 {
                        transformTile(plane, y0: y0, x0: 2 * tx - padLeft, out + tx, stride: stride)
                        tx += 1
                    }
                    // Groups of `lanes` tiles while their 4 × (2·lanes + 2) block lies inside the row;
                    // `load` gives one row of the block as its four columns.
                    @inline(__always) func groups<V: SIMD>(_ load: (UnsafeRawPointer) -> (V, V, V, V)) where V.Scalar == Float {
                        let lanes = V.scalarCount
                        while tx + lanes <= tilesAcross && 2 * tx - padLeft >= 0 && 2 * tx - padLeft + 2 * lanes + 2 <= width {
                            let line = plane + y0 * width + 2 * tx - padLeft
                            inputTiles(load(line), load(line + width), load(line + 2 * width), load(line + 3 * width), out + tx, stride: stride)
                            tx += lanes
                        }
                    }
                    groups { p -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) in
                        let a = p.loadUnaligned(as: SIMD16<Float>.self), b = (p + 8).loadUnaligned(as: SIMD16<Float>.self)
                        return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                    }
                    groups { p -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) in
                        let a = p.loadUnaligned(as: SIMD8<Float>.self), b = (p + 8).loadUnaligned(as: SIMD8<Float>.self)
                        return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                    }
                }
                while tx < tilesAcross {
                    transformTile(plane, y0: y0, x0: 2 * tx - padLeft, out + tx, stride: stride)
                    tx += 1
                }
            }
        }
    }

    /// One tile of `transformInput` for any tile size, by the matrices (no AVX-512; tests): the
    /// alpha × alpha block at (y0, x0), zero outside the input.
    private func transformTileGeneric(_ plane: UnsafePointer<Float>, y0: Int, x0: Int, _ out: UnsafeMutablePointer<Float>, stride: Int) {
        let n = alpha, bt = transforms.bt
        var d = [Float](repeating: 0, count: n * n), t = [Float](repeating: 0, count: n * n)
        for i in 0..<n where y0 + i >= 0 && y0 + i < height {
            for j in 0..<n where x0 + j >= 0 && x0 + j < width { d[i * n + j] = plane[(y0 + i) * width + x0 + j] }
        }
        for i in 0..<n { for j in 0..<n { t[i * n + j] = (0..<n).reduce(0) { $0 + Float(bt[i][$1]) * d[$1 * n + j] } } }
        for i in 0..<n { for j in 0..<n { out[(i * n + j) * stride] = (0..<n).reduce(0) { $0 + t[i * n + $1] * Float(bt[j][$1]) } } }
    }

    /// One tile of `transformOutput` for any tile size, by the matrices: the tile's outputs (the
    /// first `rows` rows and `cols` columns) at `top`, times the scale, plus the bias, ReLU.
    private func outputTileGeneric(_ m: UnsafePointer<Float>, stride: Int, _ top: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                   scale s: Float, bias b: Float) {
        let n = alpha, at = transforms.at
        var t = [Float](repeating: 0, count: tile * n)
        for i in 0..<tile { for j in 0..<n { t[i * n + j] = (0..<n).reduce(0) { $0 + Float(at[i][$1]) * m[($1 * n + j) * stride] } } }
        for i in 0..<rows {
            for j in 0..<cols {
                let y = (0..<n).reduce(0) { $0 + t[i * n + $1] * Float(at[j][$1]) } * s + b
                top[i * outWidth + j] = relu ? max(y, 0) : y
            }
        }
    }

    /// One tile of `transformInput`: the 4×4 block at (y0, x0), zero outside the input.
    @inline(__always)
    private func transformTile(_ plane: UnsafePointer<Float>, y0: Int, x0: Int, _ out: UnsafeMutablePointer<Float>, stride: Int) {
        func row(_ i: Int) -> SIMD4<Float> {
            let y = y0 + i
            guard y >= 0 && y < height else { return SIMD4() }
            let line = plane + y * width
            if x0 >= 0 && x0 + 4 <= width { return SIMD4(line[x0], line[x0 + 1], line[x0 + 2], line[x0 + 3]) }
            var s = SIMD4<Float>()
            for j in 0..<4 { let x = x0 + j; if x >= 0 && x < width { s[j] = line[x] } }
            return s
        }
        let d0 = row(0), d1 = row(1), d2 = row(2), d3 = row(3)
        // Bᵀ d (rows), then each row times B.
        let t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3
        @inline(__always) func store(_ t: SIMD4<Float>, _ i: Int) {
            let base = out + 4 * i * stride
            base[0] = t[0] - t[2]
            base[stride] = t[1] + t[2]
            base[2 * stride] = t[2] - t[1]
            base[3 * stride] = t[1] - t[3]
        }
        store(t0, 0); store(t1, 1); store(t2, 2); store(t3, 3)
    }

    /// y = Aᵀ m A for each filter and tile, times the scale, plus the bias, through the ReLU when
    /// fused; only the outputs inside the map are written (the last tile row or column may be half
    /// outside).
    /// `inC`: the C transform (AVX-512) rather than Swift's (tests run both). `rowLength`: tiles
    /// per row of M, as in `transformInput`.
    func transformOutput(_ m: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, firstTileRow: Int, tileRows: Int,
                         filters range: Range<Int>? = nil, rowLength: Int? = nil, inC: Bool = cpuHasAVX512) {
        let tiles = rowLength ?? tileRows * tilesAcross, stride = filters * tiles
        if tile != 2 || convolutionStride == 2 {
            for f in range ?? 0..<filters {
                let b = bias?[f] ?? 0, s = scale?[f] ?? 1
                let plane = output + f * outHeight * outWidth, source = m + f * tiles
                for r in 0..<tileRows {
                    let oy = tile * (firstTileRow + r), rows = min(tile, outHeight - oy)
                    if inC && convolutionStride == 2 {
                        zoo_winograd_s2_output_row(source + r * tilesAcross, stride, plane + oy * outWidth, outWidth, Int32(rows),
                                                   Int32(tilesAcross), s, b, relu ? 1 : 0)
                    } else if inC {
                        zoo_winograd4_output_row(source + r * tilesAcross, stride, plane + oy * outWidth, outWidth, Int32(rows),
                                                 Int32(tilesAcross), s, b, relu ? 1 : 0)
                    } else {
                        for tx in 0..<tilesAcross {
                            outputTileGeneric(source + r * tilesAcross + tx, stride: stride, plane + oy * outWidth + tile * tx, rows: rows,
                                              cols: min(tile, outWidth - tile * tx), scale: s, bias: b)
                        }
                    }
                }
            }
            return
        }
        for f in range ?? 0..<filters {
            let b = bias?[f] ?? 0, s = scale?[f] ?? 1
            let plane = output + f * outHeight * outWidth
            let source = m + f * tiles
            for r in 0..<tileRows {
                let oy = 2 * (firstTileRow + r)
                var tx = 0
                if inC {
                    // In C, 16 tiles at a time, the map's right and bottom edges through masks.
                    zoo_winograd_output_row(source + r * tilesAcross, stride, plane + oy * outWidth, outWidth, oy + 1 < outHeight ? 2 : 1,
                                            Int32(tilesAcross), s, b, relu ? 1 : 0)
                    continue
                }
                // Eight, then four whole tiles at a time (lane k = tile tx + k): contiguous loads of
                // M, the two output rows written as interleaved pairs.
                if oy + 1 < outHeight {
                    let top = plane + oy * outWidth, row = source + r * tilesAcross
                    while 2 * (tx + 8) <= outWidth {
                        outputTiles(SIMD8<Float>.self, row + tx, stride: stride, top + 2 * tx, scale: s, bias: b)
                        tx += 8
                    }
                    while 2 * (tx + 4) <= outWidth {
                        outputTiles(SIMD4<Float>.self, row + tx, stride: stride, top + 2 * tx, scale: s, bias: b)
                        tx += 4
                    }
                }
                // The rest — a last group of fewer than four tiles, or the last tile row of an odd
                // height — four tiles at a time into a small buffer, of which the outputs inside
                // the map are copied (lanes past the row read M's next values, or the workspace's
                // slack, and are dropped).
                if tx < tilesAcross {
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { buffer in
                        let tmp = buffer.baseAddress!, top = plane + oy * outWidth
                        while tx < tilesAcross {
                            outputTiles(SIMD4<Float>.self, source + r * tilesAcross + tx, stride: stride, tmp, scale: s, bias: b, rowStride: 8)
                            let n = min(8, outWidth - 2 * tx)
                            (top + 2 * tx).update(from: tmp, count: n)
                            if oy + 1 < outHeight { (top + outWidth + 2 * tx).update(from: tmp + 8, count: n) }
                            tx += 4
                        }
                    }
                }
            }
        }
    }

    /// Aᵀ m A for `V.scalarCount` neighbouring whole tiles (lane k = tile k), times the scale, with
    /// the bias and the fused ReLU, into two output rows starting at `top`.
    @inline(__always)
    private func outputTiles<V: SIMD>(_: V.Type, _ t: UnsafePointer<Float>, stride: Int, _ top: UnsafeMutablePointer<Float>, scale f: Float,
                                      bias b: Float, rowStride: Int? = nil)
    where V.Scalar == Float {
        @inline(__always) func load(_ xi: Int) -> V { UnsafeRawPointer(t + xi * stride).loadUnaligned(as: V.self) }
        // Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows of m), column by column.
        let s00 = load(0) + load(4) + load(8), s10 = load(4) - load(8) - load(12)
        let s01 = load(1) + load(5) + load(9), s11 = load(5) - load(9) - load(13)
        let s02 = load(2) + load(6) + load(10), s12 = load(6) - load(10) - load(14)
        let s03 = load(3) + load(7) + load(11), s13 = load(7) - load(11) - load(15)
        let bias = V(repeating: b), scale = V(repeating: f)
        let y00 = (s00 + s01 + s02) * scale + bias, y01 = (s01 - s02 - s03) * scale + bias
        let y10 = (s10 + s11 + s12) * scale + bias, y11 = (s11 - s12 - s13) * scale + bias
        let bottom = top + (rowStride ?? outWidth)
        // The ReLU lane by lane as the tiles are interleaved (the generic `pointwiseMax` on V was
        // not inlined: a call per group, 2.5 % of GoogLeNet's time).
        if relu {
            for k in 0..<V.scalarCount {
                top[2 * k] = max(y00[k], 0); top[2 * k + 1] = max(y01[k], 0)
                bottom[2 * k] = max(y10[k], 0); bottom[2 * k + 1] = max(y11[k], 0)
            }
        } else {
            for k in 0..<V.scalarCount {
                top[2 * k] = y00[k]; top[2 * k + 1] = y01[k]
                bottom[2 * k] = y10[k]; bottom[2 * k + 1] = y11[k]
            }
        }
    }

    /// Bᵀ d B for `V.scalarCount` neighbouring tiles (lane k = tile k) from the four rows of their
    /// input blocks (each row as its four columns), stored contiguously into V.
    @inline(__always)
    private func inputTiles<V: SIMD>(_ d0: (V, V, V, V), _ d1: (V, V, V, V), _ d2: (V, V, V, V), _ d3: (V, V, V, V),
                                     _ out: UnsafeMutablePointer<Float>, stride: Int) where V.Scalar == Float {
        // Bᵀ d: rows t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3; then each row times B.
        @inline(__always) func store(_ t: (V, V, V, V), _ i: Int) {
            let base = out + 4 * i * stride
            UnsafeMutableRawPointer(base).storeBytes(of: t.0 - t.2, as: V.self)
            UnsafeMutableRawPointer(base + stride).storeBytes(of: t.1 + t.2, as: V.self)
            UnsafeMutableRawPointer(base + 2 * stride).storeBytes(of: t.2 - t.1, as: V.self)
            UnsafeMutableRawPointer(base + 3 * stride).storeBytes(of: t.1 - t.3, as: V.self)
        }
        store((d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3), 0)
        store((d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3), 1)
        store((d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3), 2)
        store((d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3), 3)
    }
}
