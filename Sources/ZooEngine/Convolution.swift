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
            for f in 0..<filters {
                let b = bias?[f] ?? 0
                let row = output + f * spatial
                if relu { for i in 0..<spatial { row[i] = max(row[i] + b, 0) } } else { for i in 0..<spatial { row[i] += b } }
            }
        }
    }

    /// Rows (c, ky, kx), columns (oy, ox) for output rows firstRow ..< firstRow + rows; zero where
    /// the window reads padding.
    func im2col(_ input: UnsafePointer<Float>, channels: Int, _ columns: UnsafeMutablePointer<Float>, firstRow: Int, rows: Int) {
        let spatial = rows * outWidth
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
