import CBLAS
import Foundation
import ZooCore

/// Gradients of a loss with respect to every parameter (and to the input) of a `Model`, by
/// backpropagation through the activations of a forward pass in training mode. Layers covered:
/// convolution (stride, padding, dilation, groups; a connection table through its expanded kernel),
/// average and max pooling, LeNet's subsampling, LRN, batch norm (the batch's statistics, or the
/// moving ones for frozen layers), tanh, scaled tanh, ReLU, sigmoid, softmax, dense, flatten,
/// dropout (seeded masks), identity, concat, add, the option-A pad shortcut, global average pooling,
/// and the outputs of `OutputLoss` (softmax cross-entropy, LeNet-5's RBF with eq. 9).
public struct Backpropagation: Sendable {
    public let model: Model

    public init(model: Model) { self.model = model }

    /// The statistics a training batch norm normalised with: per channel mean, and the unbiased
    /// variance (what moving averages are made of, as in PyTorch).
    public struct BatchStatistics: Sendable {
        public var mean: [Float]
        public var variance: [Float]
    }

    public struct Result: Sendable {
        /// Mean loss over the batch.
        public var loss: Double
        /// Samples whose predicted class is not the label.
        public var errors: Int
        /// ∂loss/∂parameter, in the parameters' layouts (none for frozen layers).
        public var gradients: [String: [String: [Float]]]
        /// ∂loss/∂input, `[N, …]` like the input (empty unless asked for).
        public var inputGradient: [Float]
        /// The batch statistics of every batch norm that used them.
        public var statistics: [String: BatchStatistics]
    }

    /// Forward in training mode, the loss against `labels`, backward. A network ending in a softmax
    /// is trained with cross-entropy (the softmax's input are the logits); one ending in LeNet-5's
    /// RBF layer with the paper's loss (eq. 9).
    /// - Parameters:
    ///   - seed: the dropout masks' seed (the same seed gives the same masks).
    ///   - frozen: layers whose parameters get no gradient; their batch norms use moving statistics.
    ///   - inputGradient: also compute ∂loss/∂input (otherwise the backward pass stops where no
    ///     trainable layer lies upstream).
    public func lossAndGradients(_ x: Tensor, labels: [Int], threads: Int = 1, seed: UInt64 = 0,
                                 frozen: Set<String> = [], inputGradient wantsInputGradient: Bool = true) throws -> Result {
        let infos = model.layerInfos
        let objective = try OutputLoss(model.network)
        guard labels.count == x.batch else { throw ZooError("\(labels.count) labels for a batch of \(x.batch)") }
        // Which layers have a trainable layer upstream (or the input, when its gradient is wanted):
        // only those pass a gradient on.
        var upstream = [String: Bool]()
        for info in infos {
            let own = !frozen.contains(info.name) && info.parameters.contains { $0.trainable }
            let fromInputs = info.layer.inputs.isEmpty ? wantsInputGradient : info.layer.inputs.contains { upstream[$0] == true }
            upstream[info.name] = own || fromInputs
        }
        func needsInputGradient(_ info: LayerInfo) -> Bool {
            info.layer.inputs.isEmpty ? wantsInputGradient : info.layer.inputs.contains { upstream[$0] == true }
        }
        let engine = try Engine(model: model, threads: threads, mode: .training(seed: seed, frozen: frozen))
        let acts = try engine.run(x, outputs: infos.map(\.name))
        let networkInput = x.data
        let n = x.batch
        let last = infos.last!
        let (loss, errors, dOut) = try objective.evaluate(acts[last.name]!, labels: labels, gradient: true)
        var grads: [String: [Float]] = [:]
        // Cross-entropy's gradient is that of the logits (the softmax's input); eq. 9's, of the RBF output.
        grads[objective.gradientLayer] = dOut
        return Engine.exclusive(threads: threads) {
        var parameterGradients: [String: [String: [Float]]] = [:]
        var statistics: [String: BatchStatistics] = [:]
        var inputGradient = [Float](repeating: 0, count: wantsInputGradient ? networkInput.count : 0)
        for (index, info) in infos.enumerated().reversed() where info.name != last.name || objective.gradientLayer == last.name {
            guard let dy = grads[info.name] else { continue }   // nothing downstream needs it
            grads[info.name] = nil
            let inputName = info.layer.inputs.first
            let source = inputName.map { acts[$0]!.data } ?? networkInput
            let trains = !frozen.contains(info.name)
            let passes = needsInputGradient(info)
            var dx: [Float]? = nil
            let y = acts[info.name]!.data
            let inSize = info.inputs.first?.count ?? 0
            switch info.layer.kind {
            case .convolution(let c):
                guard trains || passes else { break }
                let p = model.parameters[info.name]!
                let kernel = ConvolutionKernel(c, info: info, kernel: p["kernel"]!, bias: p["bias"])
                var (dW, dB, dX) = convolutionBackward(kernel, x: source, dy: dy, batch: n, weights: trains, input: passes)
                if trains {
                    if let table = c.connections {
                        // Gather the expanded kernel's gradient back to the table's links.
                        var links = [Float](repeating: 0, count: p["kernel"]!.count)
                        let area = c.kernel.h * c.kernel.w, channels = info.inputs[0].channels
                        var link = 0
                        for (j, inputs) in table.enumerated() {
                            for i in inputs {
                                for k in 0..<area { links[link * area + k] = dW[(j * channels + i) * area + k] }
                                link += 1
                            }
                        }
                        dW = links
                    }
                    parameterGradients[info.name] = ["kernel": dW]
                    if c.bias { parameterGradients[info.name]!["bias"] = dB }
                }
                if passes { dx = dX }
            case .dense(let d):
                let w = model.parameters[info.name]!["kernel"]!.data
                let outputs = d.units
                // dW = dYᵀ·X  [out × in]; dX = dY·W  [n × in]
                if trains {
                    var dW = [Float](repeating: 0, count: outputs * inSize)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inSize), Int32(n),
                                1, dy, Int32(outputs), source, Int32(inSize), 0, &dW, Int32(inSize))
                    parameterGradients[info.name] = ["kernel": dW]
                    if d.bias {
                        var dB = [Float](repeating: 0, count: outputs)
                        for i in 0..<n { for j in 0..<outputs { dB[j] += dy[i * outputs + j] } }
                        parameterGradients[info.name]!["bias"] = dB
                    }
                }
                if passes {
                    var dX = [Float](repeating: 0, count: n * inSize)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(inSize), Int32(outputs),
                                1, dy, Int32(outputs), w, Int32(inSize), 0, &dX, Int32(inSize))
                    dx = dX
                }
            case .pooling(let pool):
                if passes { dx = poolingBackward(pool, info: info, x: source, y: y, dy: dy, batch: n) }
            case .subsampling(let s):
                let p = model.parameters[info.name]!
                let (dC, dB, dX) = subsamplingBackward(s, info: info, x: source, dy: dy, coefficient: p["coefficient"]!.data, batch: n)
                if trains { parameterGradients[info.name] = ["coefficient": dC, "bias": dB] }
                if passes { dx = dX }
            case .batchNorm(let bn):
                let p = model.parameters[info.name]!
                let (dG, dB, dX, stats) = batchNormBackward(bn, x: source, dy: dy, batch: n, channels: info.output.channels,
                                                            gamma: p["gamma"]!.data,
                                                            moving: trains ? nil : (p["moving_mean"]!.data, p["moving_variance"]!.data))
                if trains { parameterGradients[info.name] = ["gamma": dG, "beta": dB] }
                if let stats { statistics[info.name] = stats }
                if passes { dx = dX }
            case .localResponseNorm(let l):
                if passes { dx = lrnBackward(l, x: source, dy: dy, batch: n, channels: info.output.channels, area: info.output.height * info.output.width) }
            case .dropout(let rate):
                guard passes else { break }
                let mask = Engine.dropoutMask(seed: Engine.layerSeed(seed, index), count: dy.count, rate: rate)
                dx = pairwise(dy, mask) { $0 * $1 }
            case .padShortcut(let ps):
                guard passes else { break }
                let s = info.inputs[0], o = info.output
                var d = [Float](repeating: 0, count: n * s.count)
                for i in 0..<n {
                    for c in 0..<s.channels {
                        for oy in 0..<o.height {
                            for ox in 0..<o.width {
                                d[i * s.count + (c * s.height + oy * ps.stride) * s.width + ox * ps.stride] = dy[i * o.count + (c * o.height + oy) * o.width + ox]
                            }
                        }
                    }
                }
                dx = d
            case .tanh:
                if passes { dx = pairwise(dy, y) { $0 * (1 - $1 * $1) } }
            case .scaledTanh(let a, let s):
                let (fa, fs) = (Float(a), Float(s))
                if passes { dx = pairwise(dy, y) { g, v in let t = v / fa; return g * fa * fs * (1 - t * t) } }
            case .relu:
                if passes { dx = pairwise(dy, y) { $1 > 0 ? $0 : 0 } }
            case .sigmoid:
                if passes { dx = pairwise(dy, y) { $0 * $1 * (1 - $1) } }
            case .flatten, .identity:
                if passes { dx = dy }
            case .globalAveragePooling:
                guard passes else { break }
                let s = info.inputs[0], area = s.height * s.width
                var d = [Float](repeating: 0, count: n * s.count)
                for i in 0..<n { for c in 0..<s.channels { for k in 0..<area { d[(i * s.channels + c) * area + k] = dy[i * s.channels + c] / Float(area) } } }
                dx = d
            case .add:
                for name in info.layer.inputs where upstream[name] == true { accumulate(&grads, name, dy) }
            case .concat:
                let area = info.output.height * info.output.width
                var offset = 0
                for (name, shape) in zip(info.layer.inputs, info.inputs) {
                    defer { offset += shape.channels * area }
                    guard upstream[name] == true else { continue }
                    var part = [Float](repeating: 0, count: n * shape.count)
                    for i in 0..<n {
                        for k in 0..<shape.count { part[i * shape.count + k] = dy[i * info.output.count + offset + k] }
                    }
                    accumulate(&grads, name, part)
                }
            case .rbf(let r):
                // y_u = Σ_j (x_j − w_uj)²: ∂y_u/∂x_j = 2(x_j − w_uj), ∂y_u/∂w_uj = −2(x_j − w_uj).
                let w = model.parameters[info.name]!["prototypes"]!.data
                let units = r.units
                var d = [Float](repeating: 0, count: n * inSize)
                var dW = [Float](repeating: 0, count: units * inSize)
                for i in 0..<n {
                    for u in 0..<units {
                        let g = dy[i * units + u]
                        for j in 0..<inSize {
                            let diff = 2 * (source[i * inSize + j] - w[u * inSize + j]) * g
                            d[i * inSize + j] += diff
                            dW[u * inSize + j] -= diff
                        }
                    }
                }
                if r.trainable && trains { parameterGradients[info.name] = ["prototypes": dW] }
                if passes { dx = d }
            case .softmax:
                guard passes else { break }
                // An inner softmax: dx = y ⊙ (dy − Σ dy·y) per sample (per position for maps).
                let c = info.output.channels, area = info.output.count / c
                var d = [Float](repeating: 0, count: n * c * area)
                for i in 0..<n {
                    for p in 0..<area {
                        var dot: Float = 0
                        for k in 0..<c { let at = (i * c + k) * area + p; dot += dy[at] * y[at] }
                        for k in 0..<c { let at = (i * c + k) * area + p; d[at] = y[at] * (dy[at] - dot) }
                    }
                }
                dx = d
            }
            if let dx {
                if let name = inputName { accumulate(&grads, name, dx) } else if wantsInputGradient { for i in 0..<dx.count { inputGradient[i] += dx[i] } }
            }
        }
        return Result(loss: loss, errors: errors, gradients: parameterGradients, inputGradient: inputGradient, statistics: statistics)
        }
    }

    /// Adds `g` to the gradient collected for `name` (in place: no copy of the existing one).
    private func accumulate(_ grads: inout [String: [Float]], _ name: String, _ g: [Float]) {
        if grads[name] != nil {
            grads[name]!.withUnsafeMutableBufferPointer { e in
                g.withUnsafeBufferPointer { gb in for i in 0..<e.count { e[i] += gb[i] } }
            }
        } else {
            grads[name] = g
        }
    }

    /// f(a[i], b[i]) for every i, without the overhead of `zip(…).map`.
    @inline(__always)
    private func pairwise(_ a: [Float], _ b: [Float], _ f: (Float, Float) -> Float) -> [Float] {
        [Float](unsafeUninitializedCapacity: a.count) { out, initialised in
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in for i in 0..<pa.count { out[i] = f(pa[i], pb[i]) } } }
            initialised = a.count
        }
    }
}

/// dW, db and dX of a convolution for a batch, several images per GEMM where
/// `imagesPerGEMM` allows (their columns side by side): cols = im2col(x); dW += dY·colsᵀ;
/// db += Σ dY; dcols = Wᵀ·dY, scattered back (col2im) into dX. `weights: false` skips dW and db,
/// `input: false` skips dX (each returned empty).
func convolutionBackward(_ k: ConvolutionKernel, x: [Float], dy: [Float], batch n: Int,
                         weights: Bool = true, input: Bool = true) -> ([Float], [Float], [Float]) {
    let K = k.columnRows, S = k.outHeight * k.outWidth, F = k.filters
    let cg = k.inChannels / k.groups, fg = F / k.groups
    let inCount = k.inChannels * k.height * k.width
    let m = k.imagesPerGEMM(batch: n)
    var dW = [Float](repeating: 0, count: weights ? F * K : 0)
    var dB = [Float](repeating: 0, count: weights ? F : 0)
    var dX = [Float](repeating: 0, count: input ? n * inCount : 0)
    var cols = [Float](repeating: 0, count: weights ? K * m * S : 0)
    var dcols = [Float](repeating: 0, count: input ? K * m * S : 0)
    var gathered = [Float](repeating: 0, count: fg * m * S)
    var start = 0
    while start < n {
        let count = min(m, n - start), width = count * S
        for g in 0..<k.groups {
            // dY of the chunk's images for this group's filters, as [fg, count·S].
            gathered.withUnsafeMutableBufferPointer { gb in
                dy.withUnsafeBufferPointer { d in
                    for j in 0..<count {
                        for f in 0..<fg {
                            (gb.baseAddress! + f * width + j * S).update(from: d.baseAddress! + ((start + j) * F + g * fg + f) * S, count: S)
                        }
                    }
                }
            }
            if weights {
                x.withUnsafeBufferPointer { xb in
                    cols.withUnsafeMutableBufferPointer { cb in
                        for j in 0..<count {
                            k.im2col(xb.baseAddress! + (start + j) * inCount + g * cg * k.height * k.width, channels: cg,
                                     cb.baseAddress! + j * S, firstRow: 0, rows: k.outHeight, rowStride: width)
                        }
                    }
                }
                dW.withUnsafeMutableBufferPointer { d in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(fg), Int32(K), Int32(width), 1, gathered, Int32(width),
                                cols, Int32(width), 1, d.baseAddress! + g * fg * K, Int32(K))
                }
                dB.withUnsafeMutableBufferPointer { d in
                    gathered.withUnsafeBufferPointer { gb in
                        for f in 0..<fg { var s: Float = 0; for j in 0..<width { s += gb[f * width + j] }; d[g * fg + f] += s }
                    }
                }
            }
            guard input else { continue }
            k.weights.withUnsafeBufferPointer { w in
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(width), Int32(fg), 1, w.baseAddress! + g * fg * K, Int32(K),
                            gathered, Int32(width), 0, &dcols, Int32(width))
            }
            // col2im: the inverse scatter of im2col, image by image.
            dX.withUnsafeMutableBufferPointer { dxb in
                dcols.withUnsafeBufferPointer { db in
                    for j in 0..<count {
                        let channelBase = (start + j) * inCount + g * cg * k.height * k.width
                        for c in 0..<cg {
                            let plane = dxb.baseAddress! + channelBase + c * k.height * k.width
                            for ky in 0..<k.kh {
                                for kx in 0..<k.kw {
                                    let row = db.baseAddress! + ((c * k.kh + ky) * k.kw + kx) * width + j * S
                                    // Output columns whose input column is inside: ox in oxa..<oxb.
                                    let (x0, inside) = k.columnsInside(kx: kx)
                                    let oxa = inside.lowerBound, oxb = inside.upperBound
                                    guard oxa < oxb else { continue }
                                    for oy in 0..<k.outHeight {
                                        let y = oy * k.sh - k.padTop + ky * k.dh
                                        guard y >= 0 && y < k.height else { continue }
                                        let line = plane + y * k.width + x0, source = row + oy * k.outWidth
                                        if k.sw == 1 {
                                            for ox in oxa..<oxb { line[ox] += source[ox] }
                                        } else {
                                            for ox in oxa..<oxb { line[ox * k.sw] += source[ox] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        start += count
    }
    return (dW, dB, dX)
}

/// Batch norm's backward pass. With the batch's statistics (training): x̂ = (x − μ)/σ,
/// dγ = Σ dy·x̂, dβ = Σ dy, dx = γ/(σ·m)·(m·dy − dβ − x̂·dγ) over the m = N·H·W values of a channel;
/// the statistics are returned with the unbiased variance. With `moving` statistics (a frozen
/// layer): dx = dy·γ/σ_moving.
func batchNormBackward(_ bn: BatchNorm, x: [Float], dy: [Float], batch n: Int, channels: Int, gamma: [Float],
                       moving: ([Float], [Float])?) -> ([Float], [Float], [Float], Backpropagation.BatchStatistics?) {
    let area = x.count / max(n * channels, 1), m = Double(n * area)
    let (mean, variance) = moving.map { ($0.0.map(Double.init), $0.1.map(Double.init)) }
        ?? x.withUnsafeBufferPointer { Engine.channelStatistics($0.baseAddress!, batch: n, channels: channels, area: area) }
    var dG = [Float](repeating: 0, count: channels), dB = [Float](repeating: 0, count: channels)
    var dx = [Float](repeating: 0, count: x.count)
    for c in 0..<channels {
        let inv = 1 / (variance[c] + bn.epsilon).squareRoot()
        var sg = 0.0, sgx = 0.0
        for i in 0..<n {
            let base = (i * channels + c) * area
            for k in 0..<area { let g = Double(dy[base + k]); sg += g; sgx += g * (Double(x[base + k]) - mean[c]) * inv }
        }
        dG[c] = Float(sgx); dB[c] = Float(sg)
        // dx = a·dy − (a/m)·(dβ + x̂·dγ) with the batch's statistics; the moving ones are constants.
        let a = Double(gamma[c]) * inv
        let (shift, slope) = moving == nil ? (a * sg / m, a * sgx / m) : (0, 0)
        for i in 0..<n {
            let base = (i * channels + c) * area
            for k in 0..<area {
                let xhat = (Double(x[base + k]) - mean[c]) * inv
                dx[base + k] = Float(a * Double(dy[base + k]) - shift - slope * xhat)
            }
        }
    }
    let stats = moving == nil
        ? Backpropagation.BatchStatistics(mean: mean.map { Float($0) }, variance: variance.map { Float(m > 1 ? $0 * m / (m - 1) : $0) })
        : nil
    return (dG, dB, dx, stats)
}

/// LRN's backward pass: y_c = x_c·D_c^−β with D_c = k + α·Σ_{j∈N(c)} x_j², so
/// ∂L/∂x_j = dy_j·D_j^−β − 2αβ·x_j·Σ_{c: j∈N(c)} dy_c·x_c·D_c^(−β−1).
func lrnBackward(_ l: LocalResponseNorm, x: [Float], dy: [Float], batch n: Int, channels C: Int, area: Int) -> [Float] {
    let alpha = l.alphaPerSum, beta = l.beta, k = l.k
    let before = l.size / 2, after = (l.size - 1) / 2
    var dx = [Float](repeating: 0, count: x.count)
    var d = [Double](repeating: 0, count: C), t = [Double](repeating: 0, count: C)
    for i in 0..<n {
        let base = i * C * area
        for p in 0..<area {
            for c in 0..<C {
                var sum = 0.0
                for j in max(0, c - before)...min(C - 1, c + after) { let v = Double(x[base + j * area + p]); sum += v * v }
                d[c] = k + alpha * sum
                t[c] = Double(dy[base + c * area + p]) * Double(x[base + c * area + p]) * pow(d[c], -beta - 1)
            }
            for j in 0..<C {
                var s = 0.0
                for c in max(0, j - after)...min(C - 1, j + before) { s += t[c] }
                let xj = Double(x[base + j * area + p])
                dx[base + j * area + p] = Float(Double(dy[base + j * area + p]) * pow(d[j], -beta) - 2 * alpha * beta * xj * s)
            }
        }
    }
    return dx
}

/// Max pooling routes each gradient to the window's maximum (the first one on ties); average
/// pooling spreads it over the window with the forward pass's divisor.
func poolingBackward(_ p: Pooling, info: LayerInfo, x: [Float], y: [Float], dy: [Float], batch n: Int) -> [Float] {
    let s = info.inputs[0], o = info.output
    let (H, W, OH, OW) = (s.height, s.width, o.height, o.width)
    var dx = [Float](repeating: 0, count: n * s.count)
    if p.kernel.h == 2 && p.kernel.w == 2 && p.stride.h == 2 && p.stride.w == 2 && info.padding.top == 0 && info.padding.left == 0
        && 2 * OH <= H && 2 * OW <= W {
        // 2×2 windows with stride 2 inside the input: each input value belongs to one window.
        dx.withUnsafeMutableBufferPointer { d in
            x.withUnsafeBufferPointer { xb in
                dy.withUnsafeBufferPointer { g in
                    for plane in 0..<(n * s.channels) {
                        for oy in 0..<OH {
                            for ox in 0..<OW {
                                let grad = g[(plane * OH + oy) * OW + ox]
                                let at = plane * H * W + 2 * oy * W + 2 * ox
                                if p.mode == .max {
                                    var best = at
                                    if xb[at + 1] > xb[best] { best = at + 1 }
                                    if xb[at + W] > xb[best] { best = at + W }
                                    if xb[at + W + 1] > xb[best] { best = at + W + 1 }
                                    d[best] += grad
                                } else {
                                    let share = grad / 4
                                    d[at] += share; d[at + 1] += share; d[at + W] += share; d[at + W + 1] += share
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
    for i in 0..<n {
        for c in 0..<s.channels {
            let plane = (i * s.channels + c) * H * W, out = (i * s.channels + c) * OH * OW
            for oy in 0..<OH {
                let y0 = oy * p.stride.h - info.padding.top
                let ya = max(y0, 0), yb = min(y0 + p.kernel.h, H)
                for ox in 0..<OW {
                    let x0 = ox * p.stride.w - info.padding.left
                    let xa = max(x0, 0), xb = min(x0 + p.kernel.w, W)
                    let g = dy[out + oy * OW + ox]
                    guard ya < yb, xa < xb else { continue }
                    if p.mode == .max {
                        var best = plane + ya * W + xa
                        for yy in ya..<yb { for xx in xa..<xb where x[plane + yy * W + xx] > x[best] { best = plane + yy * W + xx } }
                        dx[best] += g
                    } else {
                        let divisor = p.countIncludePad
                            ? (min(y0 + p.kernel.h, H + info.padding.bottom) - y0) * (min(x0 + p.kernel.w, W + info.padding.right) - x0)
                            : (yb - ya) * (xb - xa)
                        let share = g / Float(divisor)
                        for yy in ya..<yb { for xx in xa..<xb { dx[plane + yy * W + xx] += share } }
                    }
                }
            }
        }
    }
    return dx
}

/// LeNet's subsampling y = coefficient · Σ window + bias.
func subsamplingBackward(_ sub: Subsampling, info: LayerInfo, x: [Float], dy: [Float], coefficient: [Float], batch n: Int) -> ([Float], [Float], [Float]) {
    let s = info.inputs[0], o = info.output
    var dC = [Float](repeating: 0, count: s.channels), dB = [Float](repeating: 0, count: s.channels)
    var dx = [Float](repeating: 0, count: n * s.count)
    for i in 0..<n {
        for c in 0..<s.channels {
            let plane = (i * s.channels + c) * s.height * s.width, out = (i * s.channels + c) * o.height * o.width
            for oy in 0..<o.height {
                for ox in 0..<o.width {
                    let g = dy[out + oy * o.width + ox]
                    var sum: Float = 0
                    for ky in 0..<sub.kernel.h {
                        for kx in 0..<sub.kernel.w {
                            let at = plane + (oy * sub.stride.h + ky) * s.width + ox * sub.stride.w + kx
                            sum += x[at]
                            dx[at] += g * coefficient[c]
                        }
                    }
                    dC[c] += g * sum
                    dB[c] += g
                }
            }
        }
    }
    return (dC, dB, dx)
}

/// What a network's output is trained against. A softmax output: mean cross-entropy, the gradient
/// taken at the logits (p − onehot)/N. LeNet-5's RBF output (y_i = squared distances, smaller is
/// better): the paper's eq. 9, E = mean of y_D + log(e^−j + Σ_i e^−y_i), with j = 1, whose gradient
/// is (δ_iD − e^−y_i / (e^−j + Σ_k e^−y_k))/N; the predicted class is the smallest y_i.
public struct OutputLoss: Sendable {
    public enum Kind: Sendable { case crossEntropy, rbf(j: Double) }
    public let kind: Kind
    /// The layer whose output the loss's gradient is taken at.
    public let gradientLayer: String

    public init(_ network: Network) throws {
        let last = network.output
        switch last.kind {
        case .softmax where last.inputs.count == 1:
            kind = .crossEntropy
            gradientLayer = last.inputs[0]
        case .rbf:
            kind = .rbf(j: 1)
            gradientLayer = last.name
        default:
            throw ZooError("training needs a network ending in a softmax (cross-entropy) or LeNet-5's RBF layer; `\(network.name)` ends in \(last.kind.typeName)")
        }
    }

    /// Mean loss, errors and (optionally) ∂loss/∂(the gradient layer's output) for a batch.
    public func evaluate(_ output: Tensor, labels: [Int], gradient: Bool) throws -> (Double, Int, [Float]) {
        let n = labels.count, c = output.count / max(n, 1)
        var loss = 0.0, errors = 0
        var d = gradient ? [Float](repeating: 0, count: n * c) : []
        for i in 0..<n {
            let label = labels[i]
            guard (0..<c).contains(label) else { throw ZooError("label \(label) is outside 0..<\(c)") }
            let row = (0..<c).map { Double(output.data[i * c + $0]) }
            switch kind {
            case .crossEntropy:
                loss -= log(max(row[label], 1e-30))
                if row.indices.max(by: { row[$0] < row[$1] }) != label { errors += 1 }
                if gradient { for k in 0..<c { d[i * c + k] = Float((row[k] - (k == label ? 1 : 0)) / Double(n)) } }
            case .rbf(let j):
                let m = min(row.min()!, j)          // shift for a stable log-sum-exp
                let sum = exp(-(j - m)) + row.reduce(0) { $0 + exp(-($1 - m)) }
                loss += row[label] + (log(sum) - m)
                if row.indices.min(by: { row[$0] < row[$1] }) != label { errors += 1 }
                if gradient { for k in 0..<c { d[i * c + k] = Float(((k == label ? 1 : 0) - exp(-(row[k] - m)) / sum) / Double(n)) } }
            }
        }
        return (loss / Double(n), errors, d)
    }
}
