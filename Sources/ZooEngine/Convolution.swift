import CBLAS
import CZooGEMM
import Foundation
import ZooCore

/// Whether this CPU runs `CZooGEMM`'s AVX-512 kernels (the GEMM, Winograd's transforms, im2col
/// rows); elsewhere the engine uses OpenBLAS and its Swift kernels.
let cpuHasAVX512 = zoo_gemm_available() != 0

/// Matrices packed for Zoo's own GEMM (`Sources/CZooGEMM`), made once when a model is prepared
/// for inference: a convolution's filters (one [filters/groups, columnRows] matrix per group) or
/// Winograd's U (16 matrices [filters, channels]).
final class PackedMatrices: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    /// Floats per packed matrix.
    let stride: Int
    let rows: Int, depth: Int

    /// Zoo's GEMM runs on this CPU (AVX-512F).
    static let available = cpuHasAVX512
    /// … and was not turned off by `ZOO_GEMM=openblas` (which compares the two on the same run).
    static let enabled = available && ProcessInfo.processInfo.environment["ZOO_GEMM"] != "openblas"
    /// Fully-connected layers at batches of 1–16 as dot products (`zoo_dense_dots`) rather than
    /// through the GEMM's tiles (batch 1: rather than OpenBLAS's SGEMV); `ZOO_DOTS=0` to compare.
    static let denseDots = ProcessInfo.processInfo.environment["ZOO_DOTS"] != "0"
    /// A share of the rows must start on a multiple of this (the packed panels' rows).
    static let panelRows = Int(zoo_gemm_panel_rows())

    /// Packs `count` row-major matrices [rows, depth] stored one after the other in `values`.
    init(_ values: [Float], count: Int, rows: Int, depth: Int) {
        self.rows = rows
        self.depth = depth
        stride = zoo_gemm_packed_count(Int32(rows), Int32(depth))
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(1, stride * count) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, stride * count))
        values.withUnsafeBufferPointer { v in
            for i in 0..<count {
                zoo_gemm_pack(Int32(rows), Int32(depth), v.baseAddress! + i * rows * depth, Int32(depth), pointer + i * stride)
            }
        }
    }

    deinit { pointer.deallocate() }

    /// Rows `share` of C = A_i · B (× scale, + bias, ReLU) for `n` columns of B: see `zoo_gemm_scaled`.
    func multiply(_ i: Int, rows share: Range<Int>, columns n: Int, segment: Int? = nil, stride cStride: Int = 0,
                  _ b: UnsafePointer<Float>, ldb: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int, scale: UnsafePointer<Float>? = nil,
                  bias: UnsafePointer<Float>? = nil, addend: UnsafePointer<Float>? = nil, relu: Bool = false) {
        zoo_gemm_scaled(pointer + i * stride, Int32(rows), Int32(depth), Int32(share.lowerBound), Int32(share.count), Int32(n),
                        Int32(segment ?? n), cStride, b, ldb, c, ldc, scale, bias, addend, relu ? 1 : 0)
    }

    /// 0..<count cut into `parts` shares that start on whole panels, where `shareBalanced` cuts.
    static func shareBalanced(_ count: Int, parts: Int, movable: Bool = true, _ body: @Sendable (_ part: Int, _ rows: Range<Int>) -> Void) {
        let unit = panelRows
        ZooEngine.shareBalanced((count + unit - 1) / unit, parts: parts, movable: movable) { t, units in
            body(t, units.lowerBound * unit..<min(count, units.upperBound * unit))
        }
    }
}

/// Where a convolution writes: `output`, plus `addend` (a residual block's shortcut, laid out as
/// the output) added after the bias and before the ReLU where the engine fused the block's add
/// into the convolution. `+` moves both by the same offset.
struct Destination: @unchecked Sendable {
    let output: UnsafeMutablePointer<Float>
    let addend: UnsafePointer<Float>?

    static func + (d: Destination, offset: Int) -> Destination {
        Destination(output: d.output + offset, addend: d.addend.map { $0 + offset })
    }
}

/// Convolution by im2col + GEMM (Zoo's where the filters are packed, else OpenBLAS's SGEMM), one
/// GEMM per (image, group) or per few images; a 1×1, stride-1, unpadded convolution multiplies the
/// input directly, without im2col; with Zoo's GEMM, the direct form (`DirectConvolution`) where it
/// applies; Winograd (F(2×2, 3×3) or F(4×4, 3×3); 5 × 5 kernels as 3 × 3 pieces) where prepared.
struct ConvolutionKernel: @unchecked Sendable {
    let inChannels: Int, height: Int, width: Int
    let filters: Int, groups: Int
    let kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int
    let padTop: Int, padLeft: Int
    let outHeight: Int, outWidth: Int
    /// OIHW `[filters, inChannels/groups, kh, kw]` (a connection table is expanded to zeros).
    var weights: [Float]
    var bias: [Float]?
    /// Each filter's sums multiplied by this before the bias: a batch norm folded into prepared
    /// filters, which the unnormalised form shares (`folding`); nil for 1.
    var scale: [Float]?
    /// Apply a ReLU to the output (fused).
    var relu = false
    /// The Winograd form (`WinogradKernel`), where it applies and was prepared (`prepare`).
    var winograd: WinogradKernel?
    /// The filters packed for Zoo's GEMM, where it runs (`prepare`; else OpenBLAS's SGEMM).
    var packed: PackedMatrices?
    /// With Zoo's GEMM, the convolution without im2col where it applies (`DirectConvolution`).
    var direct: DirectConvolution?

    /// `ZOO_CONVOLUTION=im2col` turns Winograd off (to compare the two on the same run).
    static let im2colOnly = ProcessInfo.processInfo.environment["ZOO_CONVOLUTION"] == "im2col"

    /// Prepares the form that runs at inference (after the weights are final: a folded batch norm
    /// changes them): Winograd where `WinogradKernel.applies`, else the filters packed for Zoo's
    /// GEMM where it runs. Winograd's U or the packed copy replaces `weights` (which only training
    /// reads), so that the filters are not held twice. `zooGEMM: false` keeps OpenBLAS (tests
    /// compare the two).
    mutating func prepare(zooGEMM: Bool = PackedMatrices.enabled) {
        winograd = WinogradKernel.applies(to: self, zooGEMM: zooGEMM) ? WinogradKernel(self, zooGEMM: zooGEMM) : nil
        if winograd != nil { weights = [] }
        if winograd == nil && zooGEMM {
            packed = PackedMatrices(weights, count: groups, rows: filters / groups, depth: columnRows)
            weights = []
            if !isPointwise { direct = DirectConvolution(self) }
        }
    }

    /// The Winograd form with this kernel's fused ReLU.
    private var winogradForm: WinogradKernel? {
        guard var w = winograd else { return nil }
        w.relu = relu
        return w
    }

    /// "winograd" (F(2×2, 3×3)), "winograd4" (F(4×4, 3×3)), "winograd-s2" (3 × 3 with stride 2),
    /// "direct" (no im2col), "im2col" or "gemm" (1×1: the input is the GEMM's B), with "+zoo" where
    /// the GEMM is Zoo's own: how `run` convolves.
    var method: String {
        winograd.map { $0.convolutionStride == 2 ? "winograd-s2" : $0.tile == 2 ? "winograd" : "winograd\($0.tile)" }
            ?? (isPointwise ? "gemm" : direct != nil ? "direct" : "im2col") + (packed != nil ? "+zoo" : "")
    }

    /// Whether the output may be the addend's own memory (a fused residual add written over its
    /// shortcut): Zoo's GEMM with one K block reads each addend element just before it writes the
    /// output element at the same place. Not Winograd (no addend), OpenBLAS (C first, the addend
    /// after) or several K blocks (the first block's sums written before the addend is read).
    var overwritesItsAddend: Bool { winograd == nil && packed != nil && columnRows <= Int(zoo_gemm_depth_block()) }

    var isPointwise: Bool { kh == 1 && kw == 1 && sh == 1 && sw == 1 && padTop == 0 && padLeft == 0 && outHeight == height && outWidth == width }
    var columnRows: Int { (inChannels / groups) * kh * kw }
    /// The im2col matrix is built a band of output rows at a time, so that the workspaces stay
    /// under about 32 MiB together (VGG-16's conv1_2 would need 110 MiB at once); with T threads
    /// each has its own workspace of a T-th of that.
    static let workspaceLimit = 8 << 20
    /// Where the filters are packed for Zoo's GEMM and few (≤ `cacheBand` values), bands are
    /// limited to `cacheBand` floats (2 MiB, a core's L2 on the machine measured), so that the
    /// columns are read back from L2: re-reading such filters per band costs less than columns
    /// from memory (VGG-16's conv1_x, one thread: 1.06× faster in interleaved runs; GoogLeNet and
    /// ResNet-50 1.04×; two threads 1.00–1.03×). Many filters (VGG's conv4/5) keep the big bands:
    /// re-reading them per band would cost more.
    static let cacheBand = 512 << 10
    func rowsPerBand(threads: Int = 1) -> Int {
        var limit = ConvolutionKernel.workspaceLimit / max(1, threads)
        if packed != nil && filters / groups * columnRows <= Self.cacheBand { limit = min(limit, Self.cacheBand) }
        return max(1, min(outHeight, limit / max(1, columnRows * outWidth)))
    }
    func workspaceSize(threads: Int) -> Int {
        isPointwise ? 0 : direct?.imageSize ?? columnRows * rowsPerBand(threads: threads) * outWidth
    }

    /// How many images of a batch go through one GEMM. OpenBLAS: as many as fit their columns and
    /// the GEMM's output in the workspace limit (one GEMM of N = images·OH·OW instead of one per
    /// image: small maps make small GEMMs, which OpenBLAS runs far below its peak). Zoo's GEMM,
    /// whose calls cost little (the filters are packed already): a 1×1 convolution multiplies each
    /// image in place, and other layers take just enough images for about 512 columns (7 × 7 maps:
    /// 11), so that the columns stay in cache (at batch 8, GoogLeNet 220–224 ms against 242–332
    /// with the OpenBLAS rule). One for a single image or grouped convolutions, which take the
    /// per-image path.
    func imagesPerGEMM(batch: Int, threads: Int = 1) -> Int {
        guard batch > 1, groups == 1 else { return 1 }
        let spatial = outHeight * outWidth
        let fit = max(1, min(batch, ConvolutionKernel.workspaceLimit / max(1, threads) / ((columnRows + filters) * spatial)))
        guard packed != nil else { return fit }
        return isPointwise ? 1 : min(direct != nil ? batch : fit, (512 + spatial - 1) / spatial)
    }

    /// The workspace `run(batch:)` needs for `batch` images.
    func workspaceSize(batch: Int, threads: Int = 1) -> Int {
        let m = imagesPerGEMM(batch: batch, threads: threads)
        guard m > 1 else { return workspaceSize(threads: threads) }
        return m * (direct?.imageSize ?? (columnRows + filters) * outHeight * outWidth)
    }

    /// How `run(batch:threads:)` shares a batch among threads.
    enum Sharing: Equatable {
        /// One thread does everything (OpenBLAS may still thread its GEMMs).
        case single
        /// Each thread takes a contiguous run of whole images.
        case images
        /// The images go one at a time, each thread taking a band of its output rows.
        case rows
        /// The images go one at a time, the threads building the im2col columns together and then
        /// each computing a share of the filters (small maps with many filters: ResNet's conv5_x
        /// would leave each thread a GEMM of a few columns if split by rows).
        case filters
    }

    func sharing(batch: Int, threads: Int) -> Sharing {
        if threads <= 1 { return .single }
        if batch >= threads && (batch % threads == 0 || batch >= 4 * threads) { return .images }
        let spatial = outHeight * outWidth
        if let w = winograd { return w.sharesFilters(threads: threads) ? .filters : w.tileRows >= threads ? .rows : .single }
        if groups == 1 && filters >= 16 * threads && filters > spatial && (isPointwise || direct != nil || rowsPerBand() >= outHeight) {
            return .filters
        }
        if outHeight >= threads { return .rows }
        // Zoo's GEMM is single-threaded: share the filters rather than run on one thread.
        return packed != nil && groups == 1 && filters >= 2 * PackedMatrices.panelRows ? .filters : .single
    }

    /// Workspace (floats) each of `threads` threads needs for `batch` images.
    func workspacePerThread(batch: Int, threads: Int) -> Int {
        if let w = winograd {
            switch sharing(batch: batch, threads: threads) {
            case .single: return w.workspaceSize(batch: batch, threads: 1)
            case .images: return w.workspaceSize(batch: (batch + threads - 1) / threads, threads: threads)
            case .rows: return w.workspaceSize(threads: threads)
            case .filters: return w.workspaceSize(threads: 1)
            }
        }
        switch sharing(batch: batch, threads: threads) {
        case .single: return workspaceSize(batch: batch)
        case .images: return workspaceSize(batch: (batch + threads - 1) / threads, threads: threads)
        case .rows: return workspaceSize(threads: threads)
        case .filters: return workspaceSize(threads: 1)
        }
    }

    /// Workspace (floats) for `run(batch:_:_:workspace:threads: sizing)`: the whole batch on one
    /// thread, bands sized as for `sizing` threads (a step run beside others in a round).
    func workspaceOnOneThread(batch: Int, sizing: Int) -> Int {
        winograd?.workspaceSize(batch: batch, threads: sizing) ?? workspaceSize(batch: batch, threads: sizing)
    }

    /// Convolves `batch` images on `threads` threads, each calling a single-threaded SGEMM on its
    /// own share (its own im2col columns, its own GEMM, its own bias and ReLU): whole images when
    /// the batch divides among the threads, else bands of each image's output rows. `workspaces`
    /// holds one workspace of `workspacePerThread` floats per thread. OpenBLAS must be set to one
    /// thread.
    ///
    /// `addend` (default none), laid out as the output, is added before the ReLU: a residual
    /// block's shortcut, where the engine fuses the block's add (not for Winograd).
    func run(batch: Int, threads: Int, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
             workspaces: [UnsafeMutablePointer<Float>], addend: UnsafePointer<Float>? = nil) {
        let inCount = inChannels * height * width, outCount = filters * outHeight * outWidth
        let x = UnsafeSendable(UnsafeMutablePointer(mutating: input)), y = Destination(output: output, addend: addend)
        let spaces = workspaces.map { UnsafeSendable($0) }
        precondition(addend == nil || winograd == nil, "Winograd does not add a shortcut")
        switch sharing(batch: batch, threads: threads) {
        case .single:
            run(batch: batch, input, y, workspace: workspaces.first)
        case .images:
            shareOut(batch, parts: threads) { t, images in
                self.run(batch: images.count, x.pointer + images.lowerBound * inCount, y + images.lowerBound * outCount,
                         workspace: spaces[t].pointer, threads: threads)
            }
        case .rows:
            if let w = winogradForm {
                for n in 0..<batch {
                    shareBalanced(w.tileRows, parts: threads, movable: w.packed != nil) { t, tileRows in
                        w.run(x.pointer + n * inCount, y.output + n * outCount, workspace: spaces[t].pointer, tileRows: tileRows, threads: threads)
                    }
                }
                return
            }
            for n in 0..<batch {
                shareBalanced(outHeight, parts: threads, movable: packed != nil) { t, rows in
                    self.run(x.pointer + n * inCount, y + n * outCount, workspace: spaces[t].pointer, rows: rows, threads: threads)
                }
            }
        case .filters:
            if let w = winogradForm {
                for n in 0..<batch { w.runSharingFilters(x.pointer + n * inCount, y.output + n * outCount, workspace: spaces[0].pointer, threads: threads) }
                return
            }
            let spatial = outHeight * outWidth
            let columns = spaces[0]
            for n in 0..<batch {
                let image = UnsafeSendable(x.pointer + n * inCount), out = y + n * outCount
                if let d = direct {
                    // The threads fill the grid's channels together, then each takes a share of the filters.
                    shareBalanced(inChannels, parts: threads) { _, channels in
                        d.fill(image.pointer, channels: channels, rows: 0..<d.hq, columns.pointer)
                    }
                    PackedMatrices.shareBalanced(filters, parts: threads) { _, share in
                        self.multiplyDirect(group: 0, filters: share, images: 1, rows: 0..<self.outHeight, columns.pointer, out)
                    }
                    continue
                }
                if !isPointwise {
                    // Each thread writes the rows (c, ky, kx) of its share of the channels.
                    shareBalanced(inChannels, parts: threads) { _, channels in
                        self.im2col(image.pointer + channels.lowerBound * self.height * self.width, channels: channels.count,
                                    columns.pointer + channels.lowerBound * self.kh * self.kw * spatial, firstRow: 0, rows: self.outHeight)
                    }
                }
                let b = isPointwise ? image : columns
                // Zoo's GEMM takes its shares in whole packed panels.
                PackedMatrices.shareBalanced(filters, parts: threads, movable: packed != nil) { _, share in
                    self.multiply(group: 0, filters: share, columns: spatial, b.pointer, ldb: spatial, out, ldc: spatial)
                }
            }
        }
    }

    /// Convolves `batch` images [N, C, H, W] into [N, F, OH, OW], several images per GEMM where
    /// `imagesPerGEMM` allows (their columns side by side), else one at a time.
    func run(batch: Int, _ input: UnsafePointer<Float>, _ output: Destination, workspace: UnsafeMutablePointer<Float>?,
             threads: Int = 1) {
        let inCount = inChannels * height * width, spatial = outHeight * outWidth, outCount = filters * spatial
        if let w = winogradForm, let workspace {
            // Small maps' images side by side (`WinogradKernel.imagesPerBand`), else one at a time.
            let images = w.imagesPerBand(batch: batch, threads: threads)
            var n = 0
            while n < batch {
                let count = min(images, batch - n)
                if count > 1 {
                    w.run(images: count, input + n * inCount, inputStride: inCount, output.output + n * outCount, outputStride: outCount,
                          workspace: workspace)
                } else {
                    w.run(input + n * inCount, output.output + n * outCount, workspace: workspace, tileRows: 0..<w.tileRows, threads: threads)
                }
                n += count
            }
            return
        }
        let m = imagesPerGEMM(batch: batch, threads: threads)
        guard m > 1, let workspace else {
            for n in 0..<batch { run(input + n * inCount, output + n * outCount, workspace: workspace, threads: threads) }
            return
        }
        if let d = direct {
            var start = 0
            while start < batch {
                let count = min(m, batch - start)
                for j in 0..<count {
                    d.fill(input + (start + j) * inCount, channels: 0..<inChannels, rows: 0..<d.hq, workspace + j * d.imageSize)
                }
                multiplyDirect(group: 0, images: count, rows: 0..<outHeight, workspace, output + start * outCount)
                start += count
            }
            return
        }
        let K = columnRows
        var start = 0
        while start < batch {
            let count = min(m, batch - start)
            let width = count * spatial
            let columns = workspace, product = workspace + K * width
            for j in 0..<count {
                let image = input + (start + j) * inCount
                if isPointwise {
                    for c in 0..<inChannels { (columns + c * width + j * spatial).update(from: image + c * spatial, count: spatial) }
                } else {
                    im2col(image, channels: inChannels, columns + j * spatial, firstRow: 0, rows: outHeight, rowStride: width)
                }
            }
            if packed != nil {
                // Zoo's GEMM writes each image's columns to its own output, bias and ReLU included.
                multiply(group: 0, columns: width, segment: spatial, stride: outCount, columns, ldb: width,
                         output + start * outCount, ldc: spatial)
                start += count
                continue
            }
            weights.withUnsafeBufferPointer { w in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(filters), Int32(width), Int32(K),
                            1, w.baseAddress!, Int32(K), columns, Int32(width), 0, product, Int32(width))
            }
            // [F, count·S] → [count, F, S], with the bias and the ReLU on the way.
            for j in 0..<count {
                let out = output + (start + j) * outCount
                for f in 0..<filters { finish(filter: f, product + f * width + j * spatial, into: out + f * spatial, count: spatial) }
            }
            start += count
        }
    }

    init(_ c: Convolution, info: LayerInfo, kernel: Tensor, bias: Tensor?) {
        let input = info.inputs[0]
        inChannels = input.channels; height = input.height; width = input.width
        filters = c.filters; groups = c.groups
        kh = c.kernel.h; kw = c.kernel.w; sh = c.stride.h; sw = c.stride.w; dh = c.dilation.h; dw = c.dilation.w
        padTop = info.padding.top; padLeft = info.padding.left
        outHeight = info.output.height; outWidth = info.output.width
        if let table = c.connections {
            // Expand the table's kernels [links, kh, kw] into a dense OIHW kernel with zeros.
            var dense = [Float](repeating: 0, count: filters * inChannels * kh * kw)
            var link = 0
            for (j, inputs) in table.enumerated() {
                for i in inputs {
                    for k in 0..<(kh * kw) { dense[(j * inChannels + i) * kh * kw + k] = kernel.data[link * kh * kw + k] }
                    link += 1
                }
            }
            weights = dense
        } else {
            weights = kernel.data
        }
        self.bias = bias?.data
    }

    /// Convolves one image `input` [C, H, W] into `output` [F, OH, OW], using `workspace`; only
    /// output rows `rows` (default: all), in bands sized for a workspace shared by `threads`.
    func run(_ input: UnsafePointer<Float>, _ output: Destination, workspace: UnsafeMutablePointer<Float>?,
             rows: Range<Int>? = nil, threads: Int = 1) {
        let cg = inChannels / groups, fg = filters / groups, spatial = outHeight * outWidth
        let rows = rows ?? 0..<outHeight
        let bandRows = rowsPerBand(threads: threads)
        if let d = direct, let workspace {
            // This band's output rows read grid rows rows.lowerBound ..< rows.upperBound + reach.
            d.fill(input, channels: 0..<inChannels, rows: rows.lowerBound..<rows.upperBound + d.reach, workspace)
            for g in 0..<groups { multiplyDirect(group: g, images: 1, rows: rows, workspace, output) }
            return
        }
        for g in 0..<groups {
            let source = input + g * cg * height * width, target = output + g * fg * spatial
            if isPointwise {
                // The input's columns for these rows are a column block of [cg, H·W].
                let first = rows.lowerBound * outWidth
                multiply(group: g, columns: rows.count * outWidth, source + first, ldb: spatial, target + first, ldc: spatial)
                continue
            }
            var row = rows.lowerBound
            while row < rows.upperBound {
                let count = min(bandRows, rows.upperBound - row)
                let band = count * outWidth
                im2col(source, channels: cg, workspace!, firstRow: row, rows: count)
                // C[fg × band] is a column block of the output: leading dimension `spatial`.
                multiply(group: g, columns: band, workspace!, ldb: band, target + row * outWidth, ldc: spatial)
                row += count
            }
        }
    }

    /// Group g's output rows `share` (filters counted within the group; default all) for `n`
    /// columns: C = W_g · B, then the bias and the ReLU. `c` points at the group's first output
    /// row. Zoo's GEMM (where the filters are packed) adds the bias and applies the ReLU as it
    /// stores C and can write C in segments (`segment` columns each, `stride` apart: several
    /// images' columns side by side in B); OpenBLAS's SGEMM is followed by `finish`.
    func multiply(group g: Int, filters share: Range<Int>? = nil, columns n: Int, segment: Int? = nil, stride: Int = 0,
                  _ b: UnsafePointer<Float>, ldb: Int, _ c: Destination, ldc: Int) {
        let fg = filters / groups, k = columnRows
        let share = share ?? 0..<fg
        if let packed {
            withEpilogue(group: g) { scale, shift in
                packed.multiply(g, rows: share, columns: n, segment: segment, stride: stride, b, ldb: ldb, c.output, ldc: ldc, scale: scale,
                                bias: shift, addend: c.addend, relu: self.relu)
            }
            return
        }
        precondition(segment == nil || segment == n, "segments need Zoo's GEMM")
        weights.withUnsafeBufferPointer { w in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(share.count), Int32(n), Int32(k),
                        1, w.baseAddress! + (g * fg + share.lowerBound) * k, Int32(k), b, Int32(ldb), 0, c.output + share.lowerBound * ldc, Int32(ldc))
        }
        if bias != nil || relu || c.addend != nil {
            for f in share { finish(filter: g * fg + f, c.output + f * ldc, into: c + f * ldc, count: n) }
        }
    }

    /// Group g's filters `share` (within the group; default all) of output rows `rows` of `images`
    /// images by `zoo_conv_direct`: their grids one after the other from `grid`, their outputs
    /// (`output` at the first image, whole layer) one after the other.
    func multiplyDirect(group g: Int, filters share: Range<Int>? = nil, images: Int, rows: Range<Int>,
                        _ grid: UnsafePointer<Float>, _ output: Destination) {
        guard let d = direct, let packed, !rows.isEmpty else { return }
        let fg = filters / groups, cg = inChannels / groups, spatial = outHeight * outWidth
        let share = share ?? 0..<fg
        let q = grid + g * cg * d.phases.count * d.planeSize
        let target = output + g * fg * spatial
        let begin = rows.lowerBound * d.wq, end = (rows.upperBound - 1) * d.wq + outWidth
        d.offsets.withUnsafeBufferPointer { offsets in
            withEpilogue(group: g) { scale, shift in
                zoo_conv_direct(packed.pointer + g * packed.stride, Int32(fg), Int32(self.columnRows), Int32(share.lowerBound), Int32(share.count),
                                q, offsets.baseAddress!, d.imageSize, Int32(images), Int32(begin), Int32(end), Int32(d.wq), Int32(self.outWidth),
                                target.output, spatial, self.filters * spatial, scale, shift, target.addend, self.relu ? 1 : 0)
            }
        }
    }

    /// `body` with group g's scales and biases (nil where there are none), for Zoo's GEMM to apply
    /// as it stores C.
    private func withEpilogue(group g: Int, _ body: (UnsafePointer<Float>?, UnsafePointer<Float>?) -> Void) {
        let first = g * (filters / groups)
        func withScale(_ shift: UnsafePointer<Float>?) {
            guard let scale else { return body(nil, shift) }
            scale.withUnsafeBufferPointer { body($0.baseAddress! + first, shift) }
        }
        guard let bias else { return withScale(nil) }
        bias.withUnsafeBufferPointer { withScale($0.baseAddress! + first) }
    }

    /// This convolution followed by a batch norm (y · scale + shift per filter). Where the filters
    /// are prepared (packed for Zoo's GEMM, or Winograd's U), the same prepared filters with the
    /// scale applied to each filter's sums as they are stored — one copy of the filters for both
    /// forms (the unnormalised output stays available, as fast, for whoever requests it); else the
    /// filters themselves scaled (a copy).
    func folding(scale: [Float], shift: [Float]) -> ConvolutionKernel {
        var k = self
        k.bias = (0..<filters).map { f in (bias?[f] ?? 0) * scale[f] + shift[f] }
        if packed != nil || winograd != nil {
            k.scale = (0..<filters).map { f in (self.scale?[f] ?? 1) * scale[f] }
            k.winograd?.scale = k.scale
            k.winograd?.bias = k.bias
        } else {
            let per = weights.count / filters
            for f in 0..<filters {
                for j in 0..<per { k.weights[f * per + j] *= scale[f] }
            }
        }
        return k
    }

    /// target = source + filter f's bias (+ the addend), through the ReLU when fused (`target`
    /// may be `source`). (Only where OpenBLAS multiplied: a kernel with a `scale` has its filters
    /// prepared, and Zoo's GEMM or Winograd's output stage applies it.)
    @inline(__always)
    func finish(filter f: Int, _ source: UnsafePointer<Float>, into target: Destination, count: Int) {
        assert(scale == nil, "a scaled kernel runs on prepared filters")
        let b = bias?[f] ?? 0, y = target.output
        if let a = target.addend {
            if relu { for i in 0..<count { y[i] = max(source[i] + b + a[i], 0) } } else { for i in 0..<count { y[i] = source[i] + b + a[i] } }
        } else if relu {
            for i in 0..<count { y[i] = max(source[i] + b, 0) }
        } else {
            for i in 0..<count { y[i] = source[i] + b }
        }
    }

    /// Kernel column `kx` reads input column ox·sw + x0 for output column ox (x0 = kx·dw − padLeft):
    /// inside the input for ox in `inside`, padding for the others (im2col and its inverse, col2im).
    func columnsInside(kx: Int) -> (x0: Int, inside: Range<Int>) {
        let x0 = kx * dw - padLeft
        let a = x0 >= 0 ? 0 : min(outWidth, (-x0 + sw - 1) / sw)
        let b = x0 >= width ? a : max(a, min(outWidth, (width - 1 - x0) / sw + 1))
        return (x0, a..<b)
    }

    /// Rows (c, ky, kx), columns (oy, ox) for output rows firstRow ..< firstRow + rows; zero where
    /// the window reads padding.
    /// `rowStride` (default: the band's width) lets several images' columns sit side by side.
    func im2col(_ input: UnsafePointer<Float>, channels: Int, _ columns: UnsafeMutablePointer<Float>, firstRow: Int, rows: Int, rowStride: Int? = nil) {
        let spatial = rowStride ?? rows * outWidth
        for c in 0..<channels {
            let plane = input + c * height * width
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let row = columns + ((c * kh + ky) * kw + kx) * spatial
                    let (x0, inside) = columnsInside(kx: kx)
                    // In C with AVX-512 masked loads (strides above 2: gathers) where the CPU has
                    // it (Swift's SIMD code here runs at SSE width).
                    if cpuHasAVX512 {
                        for r in 0..<rows {
                            let y = (firstRow + r) * sh - padTop + ky * dh, out = row + r * outWidth
                            if y < 0 || y >= height {
                                out.update(repeating: 0, count: outWidth)
                            } else {
                                zoo_im2col_row(plane + y * width, Int32(width), Int32(x0), Int32(sw), Int32(outWidth), out)
                            }
                        }
                        continue
                    }
                    let a = inside.lowerBound, b = inside.upperBound
                    for r in 0..<rows {
                        let oy = firstRow + r
                        let y = oy * sh - padTop + ky * dh
                        let out = row + r * outWidth
                        if y < 0 || y >= height {
                            for ox in 0..<outWidth { out[ox] = 0 }
                            continue
                        }
                        let line = plane + y * width
                        // Outputs ox in a..<b read inside the row; the others padding.
                        for ox in 0..<a { out[ox] = 0 }
                        if sw == 1 {
                            // memmove's call costs more than it saves on rows of a few dozen values.
                            if b - a >= 128 {
                                (out + a).update(from: line + a + x0, count: b - a)
                            } else {
                                let source = line + x0
                                for ox in a..<b { out[ox] = source[ox] }
                            }
                        } else {
                            var source = line + a * sw + x0
                            for ox in a..<b { out[ox] = source.pointee; source += sw }
                        }
                        for ox in b..<outWidth { out[ox] = 0 }
                    }
                }
            }
        }
    }
}
