import CBLAS
import CZooGEMM
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
        if p.mode == .average && OH == 1 && OW == 1 && kh == H && kw == W && pt == 0 && pl == 0 && pb == 0 && pr == 0 {
            // One window over the whole map, unpadded (GoogLeNet's pool5): the channels' means.
            channelMeans(x, channels: channels ?? 0..<s.channels, area: H * W, y)
            return
        }
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
        if p.mode == .max && kw == 3 && (sw == 1 || sw == 2) && OW > 0 {
            maxPool3Wide(x, y, channels: channels ?? 0..<s.channels, H: H, W: W, OH: OH, OW: OW, kh: kh, sh: sh, sw: sw, pt: pt, pl: pl)
            return
        }
        // Any other window, separably, a whole plane at a time: first each output row's window rows
        // are combined column by column into `rowsOf` (OH × W; with stride 1 one long vector
        // operation per kernel row), then `kw` neighbours along each line into `wide`; an output
        // whose window lies inside the line reads `wide`, one at an edge its clipped window.
        let isMax = p.mode == .max
        let rowsOf = UnsafeMutablePointer<Float>.allocate(capacity: max(2 * OH * W, 1))
        defer { rowsOf.deallocate() }
        let wide = rowsOf + OH * W
        let combine = { (target: UnsafeMutablePointer<Float>, source: UnsafePointer<Float>, count: Int) in
            if isMax { for i in 0..<count { target[i] = larger(target[i], source[i]) } } else { for i in 0..<count { target[i] += source[i] } }
        }
        for c in channels ?? 0..<s.channels {
            let plane = x + c * H * W, out = y + c * OH * OW
            // With stride 1, a kernel row whose block covers every output row starts `rowsOf` as a
            // copy (one pass fewer than filling it and combining).
            let full = sh == 1 ? (0..<kh).first { ky in pt - ky <= 0 && H + pt - ky >= OH } : nil
            if let full {
                rowsOf.update(from: plane + (full - pt) * W, count: OH * W)
            } else {
                rowsOf.update(repeating: isMax ? -Float.infinity : 0, count: OH * W)
            }
            for ky in 0..<kh where ky != full {
                if sh == 1 {
                    // Output rows oy read input row oy − pt + ky: those inside the input are a block.
                    let a = max(0, pt - ky), b = min(OH, H + pt - ky)
                    if a < b { combine(rowsOf + a * W, plane + (a - pt + ky) * W, (b - a) * W) }
                } else {
                    for oy in 0..<OH {
                        let yy = oy * sh - pt + ky
                        if yy >= 0 && yy < H { combine(rowsOf + oy * W, plane + yy * W, W) }
                    }
                }
            }
            // kw neighbours: with stride 1 along the whole plane at once (values that straddle two
            // rows are never read), else row by row.
            let span = sw == 1 ? OH * W - kw + 1 : W - kw + 1
            if span > 0 {
                for line in 0..<(sw == 1 ? 1 : OH) {
                    let from = rowsOf + line * W, to = wide + line * W
                    if kw == 3 {
                        // The common 3-wide window in one pass.
                        if isMax {
                            for i in 0..<span { to[i] = larger(larger(from[i], from[i + 1]), from[i + 2]) }
                        } else {
                            for i in 0..<span { to[i] = from[i] + from[i + 1] + from[i + 2] }
                        }
                    } else {
                        to.update(from: from, count: span)
                        for k in 1..<max(1, kw) { combine(to, from + k, span) }
                    }
                }
            }
            for oy in 0..<OH {
                let y0 = oy * sh - pt
                let ya = max(y0, 0), yb = min(y0 + kh, H)
                // PyTorch's divisor with count_include_pad: the window clipped to the padded input.
                let paddedRows = min(y0 + kh, H + pb) - y0
                let line = rowsOf + oy * W, lineWide = wide + oy * W, o = out + oy * OW
                // Outputs ia..<ib have their whole window inside the line: read `wide`.
                let ia = min(OW, (pl + sw - 1) / sw), ib = max(ia, min(OW, W - kw + pl >= 0 ? (W - kw + pl) / sw + 1 : 0))
                if isMax {
                    if sw == 1 { if ib > ia { (o + ia).update(from: lineWide + ia - pl, count: ib - ia) } } else { for ox in ia..<ib { o[ox] = lineWide[ox * sw - pl] } }
                } else {
                    let divisor = Float(p.countIncludePad ? paddedRows * kw : max(yb - ya, 0) * kw)
                    for ox in ia..<ib { o[ox] = divisor > 0 ? lineWide[ox * sw - pl] / divisor : 0 }
                }
                for edge in 0..<(ia + OW - ib) {
                    let ox = edge < ia ? edge : ib + edge - ia
                    let x0 = ox * sw - pl
                    let xa = max(x0, 0), xb = min(x0 + kw, W)
                    var v: Float = isMax ? -Float.infinity : 0
                    var xx = xa
                    while xx < xb { v = isMax ? larger(v, line[xx]) : v + line[xx]; xx += 1 }
                    if !isMax {
                        let divisor = p.countIncludePad ? paddedRows * (min(x0 + kw, W + pr) - x0) : max(yb - ya, 0) * max(xb - xa, 0)
                        v = divisor > 0 ? v / Float(divisor) : 0
                    }
                    o[ox] = v
                }
            }
        }
    }

    /// Max pooling with windows 3 wide and stride 1 or 2 across (GoogLeNet's, ResNet's, AlexNet's),
    /// one output row at a time: the maximum of its window rows into a line padded with −∞ on both
    /// sides (so clipped windows need no edge cases), then of three neighbours, 16 (stride 1) or 8
    /// (stride 2: even and odd halves of two loads) outputs at a time. With AVX-512 both common
    /// cases run in C: stride 2 across (`zoo_max_pool3_stride2`: 16 outputs at a time straight
    /// from the input rows, no copied line; GoogLeNet's pool1–3 0.93×, 0.86×, 0.77× the time,
    /// AlexNet's 0.79×; the next output rows' input rows prefetched 4 rows ahead: in the network
    /// these come from memory, not a cache — GoogLeNet's pool1–3 0.69×, 0.80×, 0.85× the time,
    /// `ZOO_POOL_PREFETCH=0` to compare, `Benchmarks/memory_bound.sh` for the kernel alone) and the inception blocks' 3 × 3 / 1 with padding 1 (`zoo_max_pool3_same`:
    /// the plane as one line, nine masked loads per 16 outputs — 0.6–0.96×, 0.81× over
    /// GoogLeNet's nine, where a row-by-row C version had been 1.26–2× slower than the
    /// whole-plane Swift passes below). `ZOO_POOL_SWIFT=1` keeps Swift (to compare).
    static func maxPool3Wide(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, channels: Range<Int>,
                             H: Int, W: Int, OH: Int, OW: Int, kh: Int, sh: Int, sw: Int, pt: Int, pl: Int) {
        // 3 × 3, stride 1, padding 1: an inception block's pool branch.
        let same = sw == 1 && sh == 1 && kh == 3 && pt == 1 && pl == 1 && OH == H && OW == W
        if same && cpuHasAVX512 && !swiftPools {
            // In C, the plane as one line, 16 outputs at a time from nine masked loads.
            for c in channels { zoo_max_pool3_same(x + c * H * W, Int32(H), Int32(W), y + c * H * W) }
            return
        }
        if same && H >= 2 && W >= 2 {
            // Whole-plane passes, each one long vector operation (rows of 7–28 values make
            // per-row work mostly overhead).
            let t = UnsafeMutablePointer<Float>.allocate(capacity: H * W)
            defer { t.deallocate() }
            @inline(__always) func maxInto(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, _ count: Int) {
                for i in 0..<count { target[i] = larger(target[i], source[i]) }
            }
            for c in channels {
                let plane = x + c * H * W, out = y + c * H * W
                // Rows: t[oy] = max(p[oy − 1], p[oy], p[oy + 1]), clipped at the top and bottom.
                t.update(from: plane, count: H * W)
                maxInto(t + W, plane, (H - 1) * W)
                maxInto(t, plane + W, (H - 1) * W)
                // Columns along the whole plane (values that straddle two rows are fixed below).
                for i in 1..<(H * W - 1) { out[i] = larger(larger(t[i - 1], t[i]), t[i + 1]) }
                for oy in 0..<H {
                    let r = t + oy * W, o = out + oy * W
                    o[0] = larger(r[0], r[1])
                    o[W - 1] = larger(r[W - 2], r[W - 1])
                }
            }
            return
        }
        if sw == 2 && cpuHasAVX512 && !swiftPools {
            // Column stride 2 in C, 16 outputs at a time and no copied rows (the row-by-row Swift
            // below spent GoogLeNet's pool3, 480 channels of 28 × 28, 0.30 ms).
            for c in channels {
                zoo_max_pool3_stride2(x + c * H * W, Int32(H), Int32(W), Int32(OH), Int32(OW), Int32(kh), Int32(sh), Int32(pt), Int32(pl),
                                      y + c * OH * OW)
            }
            return
        }
        let count = max(pl + W, sw * OW + 2) + 32
        let line = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { line.deallocate() }
        line.initialize(repeating: -Float.infinity, count: count)
        let body = line + pl
        @inline(__always) func larger16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { b.replacing(with: a, where: a .> b) }
        @inline(__always) func larger8(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { b.replacing(with: a, where: a .> b) }
        @inline(__always) func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        for c in channels {
            let plane = x + c * H * W, out = y + c * OH * OW
            for oy in 0..<OH {
                let y0 = oy * sh - pt
                let ya = max(y0, 0), yb = min(y0 + kh, H)
                guard ya < yb else {
                    (out + oy * OW).update(repeating: -Float.infinity, count: OW)
                    continue
                }
                body.update(from: plane + ya * W, count: W)
                for yy in (ya + 1)..<max(ya + 1, yb) {
                    let r = plane + yy * W
                    for i in 0..<W { body[i] = larger(body[i], r[i]) }
                }
                let o = out + oy * OW
                var ox = 0
                if sw == 2 {
                    while ox + 8 <= OW {
                        let a = load16(line + 2 * ox), b = load16(line + 2 * ox + 2)
                        let m = larger8(larger8(a.evenHalf, a.oddHalf), b.evenHalf)
                        UnsafeMutableRawPointer(o + ox).storeBytes(of: m, as: SIMD8<Float>.self)
                        ox += 8
                    }
                    while ox < OW { o[ox] = larger(larger(line[2 * ox], line[2 * ox + 1]), line[2 * ox + 2]); ox += 1 }
                } else {
                    while ox + 16 <= OW {
                        let m = larger16(larger16(load16(line + ox), load16(line + ox + 1)), load16(line + ox + 2))
                        UnsafeMutableRawPointer(o + ox).storeBytes(of: m, as: SIMD16<Float>.self)
                        ox += 16
                    }
                    while ox < OW { o[ox] = larger(larger(line[ox], line[ox + 1]), line[ox + 2]); ox += 1 }
                }
            }
        }
    }

    /// `ZOO_POOL_SWIFT=1` keeps max pooling in Swift (to compare the two).
    static let swiftPools = ProcessInfo.processInfo.environment["ZOO_POOL_SWIFT"] == "1"

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

    /// The mean of each channel; in C with AVX-512 where the CPU has it (`inC`: tests run both).
    static func globalAverage(info: LayerInfo, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, inC: Bool = cpuHasAVX512) {
        let s = info.inputs[0]
        channelMeans(x, channels: 0..<s.channels, area: s.height * s.width, y, inC: inC)
    }

    /// y[c] = the mean of channel c's `area` values, for c in `channels`.
    static func channelMeans(_ x: UnsafePointer<Float>, channels: Range<Int>, area: Int, _ y: UnsafeMutablePointer<Float>, inC: Bool = cpuHasAVX512) {
        if inC {
            zoo_channel_means(x + channels.lowerBound * area, Int32(channels.count), Int32(area), y + channels.lowerBound)
            return
        }
        for c in channels {
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

    /// y = W x + b for a batch: for 1–16 samples, dot products of W's rows with the samples where
    /// Zoo's kernels run (`zoo_dense_dots`, both read in place: AlexNet's fc6 at batch 8 0.7× the
    /// GEMM's time, at batch 2–4 0.4–0.5×, equal at 16; at batch 1 AlexNet 0.965× the time on one
    /// thread, 1.00× on two, paired runs against SGEMV — fc6's W streamed from memory 0.84–0.95×
    /// SGEMV's time, `Benchmarks/memory_bound.sh`: both near a core's 11–15 GB/s), else SGEMV for
    /// one sample; beyond 16, Zoo's GEMM
    /// (W read in place, once for the whole batch: Yᵀ = W·Xᵀ; 1.8× OpenBLAS's SGEMM on VGG's fc6
    /// at batch 8, which packs W on every call), else SGEMM. W is (out, in). With `threads` > 1 each
    /// thread computes a contiguous share of the outputs (OpenBLAS set to one thread);
    /// fully-connected layers are bound by reading W, which two threads do faster.
    static func dense(weights: [Float], bias: [Float]?, inputs: Int, outputs: Int, batch: Int,
                      _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, threads: Int = 1, zooGEMM: Bool = PackedMatrices.enabled) {
        let parts = outputs >= 64 * threads ? threads : 1
        let xs = UnsafeSendable(UnsafeMutablePointer(mutating: x)), ys = UnsafeSendable(y)
        // W and the bias (nil for none) as pointers for Zoo's kernels.
        func withPointers(_ body: (_ w: UnsafeSendable, _ bias: UnsafeSendable?) -> Void) {
            weights.withUnsafeBufferPointer { w in
                let ws = UnsafeSendable(UnsafeMutablePointer(mutating: w.baseAddress!))
                guard let bias else { return body(ws, nil) }
                bias.withUnsafeBufferPointer { body(ws, UnsafeSendable(UnsafeMutablePointer(mutating: $0.baseAddress!))) }
            }
        }
        if batch <= 16 && zooGEMM && PackedMatrices.denseDots {
            withPointers { ws, shift in
                shareBalanced(outputs, parts: parts) { _, share in
                    zoo_dense_dots(ws.pointer, inputs, Int32(inputs), Int32(share.lowerBound), Int32(share.count), xs.pointer, inputs,
                                   Int32(batch), ys.pointer, outputs, shift?.pointer)
                }
            }
            return
        }
        if batch > 1 && zooGEMM {
            let xt = UnsafeMutablePointer<Float>.allocate(capacity: inputs * batch), yt = UnsafeMutablePointer<Float>.allocate(capacity: outputs * batch)
            defer { xt.deallocate(); yt.deallocate() }
            for n in 0..<batch { for j in 0..<inputs { xt[j * batch + n] = x[n * inputs + j] } }
            let xts = UnsafeSendable(xt), yts = UnsafeSendable(yt)
            withPointers { ws, shift in
                PackedMatrices.shareBalanced(outputs, parts: parts) { _, share in
                    zoo_gemm_rows(ws.pointer, inputs, Int32(outputs), Int32(inputs), Int32(share.lowerBound), Int32(share.count), Int32(batch),
                                  xts.pointer, batch, yts.pointer, batch, shift?.pointer, 0)
                }
            }
            for n in 0..<batch { for j in 0..<outputs { y[n * outputs + j] = yt[j * batch + n] } }
            return
        }
        weights.withUnsafeBufferPointer { w in
            let ws = UnsafeSendable(UnsafeMutablePointer(mutating: w.baseAddress!))
            // Cut in halves: OpenBLAS's SGEMV may round a row differently where its share begins
            // elsewhere, and a run must give the same numbers as the last (`shareBalanced` moves
            // the cut from run to run; Zoo's kernels give each output the same sums wherever it falls).
            shareOut(outputs, parts: parts) { _, share in
                let first = share.lowerBound, count = share.count
                if batch == 1 {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(count), Int32(inputs), 1, ws.pointer + first * inputs, Int32(inputs),
                                xs.pointer, 1, 0, ys.pointer + first, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(count), Int32(inputs),
                                1, xs.pointer, Int32(inputs), ws.pointer + first * inputs, Int32(inputs), 0, ys.pointer + first, Int32(outputs))
                }
            }
        }
        if let bias {
            for n in 0..<batch { for j in 0..<outputs { y[n * outputs + j] += bias[j] } }
        }
    }
}
