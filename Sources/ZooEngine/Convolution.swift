import CBLAS
import ZooCore

/// Convolution by im2col + SGEMM, one GEMM per (image, group); a 1×1, stride-1, unpadded
/// convolution multiplies the input directly, without im2col.
struct ConvolutionKernel: @unchecked Sendable {
    let inChannels: Int, height: Int, width: Int
    let filters: Int, groups: Int
    let kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int
    let padTop: Int, padLeft: Int
    let outHeight: Int, outWidth: Int
    /// OIHW `[filters, inChannels/groups, kh, kw]` (a connection table is expanded to zeros).
    var weights: [Float]
    var bias: [Float]?
    /// Apply a ReLU to the output (fused).
    var relu = false

    var isPointwise: Bool { kh == 1 && kw == 1 && sh == 1 && sw == 1 && padTop == 0 && padLeft == 0 && outHeight == height && outWidth == width }
    var columnRows: Int { (inChannels / groups) * kh * kw }
    /// The im2col matrix is built a band of output rows at a time, so that the workspace stays
    /// under about 32 MiB (VGG-16's conv1_2 would need 110 MiB at once).
    static let workspaceLimit = 8 << 20
    var rowsPerBand: Int { max(1, min(outHeight, ConvolutionKernel.workspaceLimit / max(1, columnRows * outWidth))) }
    var workspaceSize: Int { isPointwise ? 0 : columnRows * rowsPerBand * outWidth }

    /// How many images of a batch go through one GEMM: as many as fit their columns and the
    /// GEMM's output in the workspace limit (one GEMM of N = images·OH·OW instead of one per image:
    /// small maps make small GEMMs, which OpenBLAS runs far below its peak). One for a single
    /// image or grouped convolutions, which take the per-image path.
    func imagesPerGEMM(batch: Int) -> Int {
        guard batch > 1, groups == 1 else { return 1 }
        let spatial = outHeight * outWidth
        return max(1, min(batch, ConvolutionKernel.workspaceLimit / ((columnRows + filters) * spatial)))
    }

    /// The workspace `run(batch:)` needs for `batch` images.
    func workspaceSize(batch: Int) -> Int {
        let m = imagesPerGEMM(batch: batch)
        return m > 1 ? m * (columnRows + filters) * outHeight * outWidth : workspaceSize
    }

    /// Convolves `batch` images [N, C, H, W] into [N, F, OH, OW], several images per GEMM where
    /// `imagesPerGEMM` allows (their columns side by side), else one at a time.
    func run(batch: Int, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>?) {
        let m = imagesPerGEMM(batch: batch)
        let inCount = inChannels * height * width, spatial = outHeight * outWidth, outCount = filters * spatial
        guard m > 1, let workspace else {
            for n in 0..<batch { run(input + n * inCount, output + n * outCount, workspace: workspace) }
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

    /// Convolves one image `input` [C, H, W] into `output` [F, OH, OW], using `workspace`.
    func run(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>?) {
        let cg = inChannels / groups, fg = filters / groups, spatial = outHeight * outWidth
        let k = cg * kh * kw
        weights.withUnsafeBufferPointer { w in
            for g in 0..<groups {
                let source = input + g * cg * height * width
                if isPointwise {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(fg), Int32(spatial), Int32(k),
                                1, w.baseAddress! + g * fg * k, Int32(k), source, Int32(spatial),
                                0, output + g * fg * spatial, Int32(spatial))
                    continue
                }
                var row = 0
                while row < outHeight {
                    let rows = min(rowsPerBand, outHeight - row)
                    let band = rows * outWidth
                    im2col(source, channels: cg, workspace!, firstRow: row, rows: rows)
                    // C[fg × band] is a column block of the output: leading dimension `spatial`.
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(fg), Int32(band), Int32(k),
                                1, w.baseAddress! + g * fg * k, Int32(k), workspace!, Int32(band),
                                0, output + g * fg * spatial + row * outWidth, Int32(spatial))
                    row += rows
                }
            }
        }
        if bias != nil || relu {
            for f in 0..<filters { finish(filter: f, output + f * spatial, into: output + f * spatial, count: spatial) }
        }
    }

    /// target = source + filter f's bias, through the ReLU when fused (`target` may be `source`).
    @inline(__always)
    func finish(filter f: Int, _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        let b = bias?[f] ?? 0
        if relu { for i in 0..<count { target[i] = max(source[i] + b, 0) } } else { for i in 0..<count { target[i] = source[i] + b } }
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
                    for r in 0..<rows {
                        let oy = firstRow + r
                        let y = oy * sh - padTop + ky * dh
                        let out = row + r * outWidth
                        if y < 0 || y >= height {
                            for ox in 0..<outWidth { out[ox] = 0 }
                            continue
                        }
                        let line = plane + y * width
                        let x0 = kx * dw - padLeft
                        if sw == 1 && x0 >= 0 && x0 + outWidth <= width {
                            out.update(from: line + x0, count: outWidth)
                        } else {
                            for ox in 0..<outWidth {
                                let x = ox * sw + x0
                                out[ox] = (x >= 0 && x < width) ? line[x] : 0
                            }
                        }
                    }
                }
            }
        }
    }
}
