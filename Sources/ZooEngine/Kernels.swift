import CBLAS
import Foundation
import ZooCore

/// The per-sample kernels of every layer other than convolution. Each reads one sample's input(s)
/// and writes one sample's output; the executor loops over the batch (and threads).
enum Kernels {
    /// Max or average pooling of channels `channels` (default: all) of one sample.
    static func pool(_ p: Pooling, info: LayerInfo, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, channels: Range<Int>? = nil) {
        let s = info.inputs[0], o = info.output
        let (H, W, OH, OW) = (s.height, s.width, o.height, o.width)
        let (kh, kw, sh, sw) = (p.kernel.h, p.kernel.w, p.stride.h, p.stride.w)
        let (pt, pl) = (info.padding.top, info.padding.left)
        let (pb, pr) = (info.padding.bottom, info.padding.right)
        if kh == 2 && kw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0 && 2 * OH <= H && 2 * OW <= W {
            // 2×2 windows with stride 2 inside the input (LeNet's, VGG's): no clipping, divisor 4.
            for c in channels ?? 0..<s.channels {
                let plane = x + c * H * W, out = y + c * OH * OW
                for oy in 0..<OH {
                    let r0 = plane + 2 * oy * W, r1 = r0 + W, o = out + oy * OW
                    if p.mode == .max {
                        for ox in 0..<OW { o[ox] = max(max(max(r0[2 * ox], r0[2 * ox + 1]), r1[2 * ox]), r1[2 * ox + 1]) }
                    } else {
                        for ox in 0..<OW { o[ox] = (r0[2 * ox] + r0[2 * ox + 1] + r1[2 * ox] + r1[2 * ox + 1]) / 4 }
                    }
                }
            }
            return
        }
        // Any other window, separably: the window's input rows are combined column by column into
        // one line, then `kw` neighbours along the line into `wide` (both contiguous, vectorised);
        // an output whose window lies inside the line reads `wide`, one at an edge its clipped window.
        let line = UnsafeMutablePointer<Float>.allocate(capacity: max(2 * W, 1))
        defer { line.deallocate() }
        let wide = line + W, interior = W - kw + 1
        let isMax = p.mode == .max
        for c in channels ?? 0..<s.channels {
            let plane = x + c * H * W, out = y + c * OH * OW
            for oy in 0..<OH {
                let y0 = oy * sh - pt
                let ya = max(y0, 0), yb = min(y0 + kh, H)
                // PyTorch's divisor with count_include_pad: the window clipped to the padded input.
                let paddedRows = min(y0 + kh, H + pb) - y0
                if ya >= yb {
                    for ox in 0..<OW { out[oy * OW + ox] = isMax ? -Float.infinity : 0 }
                    continue
                }
                line.update(from: plane + ya * W, count: W)
                for yy in (ya + 1)..<max(ya + 1, yb) {
                    let row = plane + yy * W
                    if isMax { for i in 0..<W { line[i] = larger(line[i], row[i]) } } else { for i in 0..<W { line[i] += row[i] } }
                }
                if interior > 0 {
                    wide.update(from: line, count: interior)
                    for k in 1..<max(1, kw) {
                        let shifted = line + k
                        if isMax { for i in 0..<interior { wide[i] = larger(wide[i], shifted[i]) } } else { for i in 0..<interior { wide[i] += shifted[i] } }
                    }
                }
                for ox in 0..<OW {
                    let x0 = ox * sw - pl
                    let inside = x0 >= 0 && x0 < interior
                    let xa = max(x0, 0), xb = min(x0 + kw, W)
                    if isMax {
                        if inside { out[oy * OW + ox] = wide[x0]; continue }
                        var m = -Float.infinity
                        var xx = xa
                        while xx < xb { m = larger(m, line[xx]); xx += 1 }
                        out[oy * OW + ox] = m
                    } else {
                        var sum: Float = 0
                        if inside {
                            sum = wide[x0]
                        } else {
                            var xx = xa
                            while xx < xb { sum += line[xx]; xx += 1 }
                        }
                        let divisor = p.countIncludePad ? paddedRows * (min(x0 + kw, W + pr) - x0) : max(yb - ya, 0) * max(xb - xa, 0)
                        out[oy * OW + ox] = divisor > 0 ? sum / Float(divisor) : 0
                    }
                }
            }
        }
    }

    /// max(a, b) as one instruction (`maxss`/`vmaxps`; Swift's `max` keeps a NaN-aware select).
    @inline(__always) static func larger(_ a: Float, _ b: Float) -> Float { a > b ? a : b }

    static func subsample(_ sub: Subsampling, info: LayerInfo, coefficient: [Float], bias: [Float],
                          _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let s = info.inputs[0], o = info.output
        for c in 0..<s.channels {
            let plane = x + c * s.height * s.width, out = y + c * o.height * o.width
            for oy in 0..<o.height {
                for ox in 0..<o.width {
                    var sum: Float = 0
                    for ky in 0..<sub.kernel.h {
                        for kx in 0..<sub.kernel.w { sum += plane[(oy * sub.stride.h + ky) * s.width + ox * sub.stride.w + kx] }
                    }
                    out[oy * o.width + ox] = sum * coefficient[c] + bias[c]
                }
            }
        }
    }

    static func globalAverage(info: LayerInfo, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let s = info.inputs[0], area = s.height * s.width
        for c in 0..<s.channels {
            var sum: Float = 0
            for i in 0..<area { sum += x[c * area + i] }
            y[c] = sum / Float(area)
        }
    }

    /// b_c = a_c / (k + α' Σ_{j ∈ window(c)} a_j²)^β, window(c) = c − ⌊n/2⌋ … c + ⌊(n−1)/2⌋ clipped
    /// to the channels (PyTorch's zero padding adds nothing to the sum); α' = α (paper) or α/n.
    static func lrn(_ n: LocalResponseNorm, info: LayerInfo, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, positions: Range<Int>? = nil) {
        let s = info.inputs[0], area = s.height * s.width, C = s.channels
        let alpha = Float(n.alphaPerSum), beta = Float(n.beta), k = Float(n.k)
        let before = n.size / 2, after = (n.size - 1) / 2
        for i in positions ?? 0..<area {
            for c in 0..<C {
                var sum: Float = 0
                for j in max(0, c - before)...min(C - 1, c + after) { let v = x[j * area + i]; sum += v * v }
                y[c * area + i] = x[c * area + i] / powf(k + alpha * sum, beta)
            }
        }
    }

    static func batchNorm(scale: [Float], shift: [Float], channels: Int, area: Int,
                          _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            let a = scale[c], b = shift[c]
            for i in 0..<area { y[c * area + i] = x[c * area + i] * a + b }
        }
    }

    static func softmax(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        var m = -Float.infinity
        for i in 0..<count { m = max(m, x[i]) }
        var sum: Float = 0
        for i in 0..<count { let e = expf(x[i] - m); y[i] = e; sum += e }
        for i in 0..<count { y[i] /= sum }
    }

    static func padShortcut(_ p: PadShortcut, info: LayerInfo, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let s = info.inputs[0], o = info.output
        let area = o.height * o.width
        y.initialize(repeating: 0, count: o.count)
        for c in 0..<s.channels {
            for oy in 0..<o.height {
                for ox in 0..<o.width { y[c * area + oy * o.width + ox] = x[(c * s.height + oy * p.stride) * s.width + ox * p.stride] }
            }
        }
    }

    static func rbf(units: Int, inputs: Int, prototypes: [Float], _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for u in 0..<units {
            var sum: Float = 0
            for j in 0..<inputs { let d = x[j] - prototypes[u * inputs + j]; sum += d * d }
            y[u] = sum
        }
    }

    /// y = W x + b for a batch: SGEMV for one sample, SGEMM otherwise. W is (out, in). With
    /// `threads` > 1 each thread computes a contiguous share of the outputs (OpenBLAS set to one
    /// thread); fully-connected layers at batch 1 are bound by reading W, which two threads do faster.
    static func dense(weights: [Float], bias: [Float]?, inputs: Int, outputs: Int, batch: Int,
                      _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, threads: Int = 1) {
        let parts = outputs >= 64 * threads ? threads : 1
        let xs = UnsafeSendable(UnsafeMutablePointer(mutating: x)), ys = UnsafeSendable(y)
        weights.withUnsafeBufferPointer { w in
            let ws = UnsafeSendable(UnsafeMutablePointer(mutating: w.baseAddress!))
            let share = { @Sendable (t: Int) in
                let first = outputs * t / parts, count = outputs * (t + 1) / parts - first
                guard count > 0 else { return }
                if batch == 1 {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(count), Int32(inputs), 1, ws.pointer + first * inputs, Int32(inputs),
                                xs.pointer, 1, 0, ys.pointer + first, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(count), Int32(inputs),
                                1, xs.pointer, Int32(inputs), ws.pointer + first * inputs, Int32(inputs), 0, ys.pointer + first, Int32(outputs))
                }
            }
            if parts > 1 { DispatchQueue.concurrentPerform(iterations: parts, execute: share) } else { share(0) }
        }
        if let bias {
            for n in 0..<batch { for j in 0..<outputs { y[n * outputs + j] += bias[j] } }
        }
    }
}
