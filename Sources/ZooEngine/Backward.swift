import CBLAS
import Foundation
import ZooCore

/// Gradients of a loss with respect to every parameter (and to the input) of a `Model`, by
/// backpropagation through the activations of a forward pass. Layers covered: convolution
/// (stride, padding, dilation; a connection table through its expanded kernel), average and max
/// pooling, LeNet's subsampling, tanh, scaled tanh, ReLU, sigmoid, dense, flatten, dropout and
/// identity (inference behaviour), concat, add, and a softmax output trained with cross-entropy.
/// Batch norm in training mode and the RBF output are not covered yet (an error says so).
public struct Backpropagation: Sendable {
    public let model: Model

    public init(model: Model) { self.model = model }

    public struct Result: Sendable {
        /// Mean cross-entropy over the batch.
        public var loss: Double
        /// Samples whose most probable class is not the label.
        public var errors: Int
        /// ∂loss/∂parameter, in the parameters' layouts.
        public var gradients: [String: [String: [Float]]]
        /// ∂loss/∂input, `[N, …]` like the input.
        public var inputGradient: [Float]
    }

    /// Forward, the loss against `labels`, backward. A network ending in a softmax is trained with
    /// cross-entropy (the softmax's input are the logits); one ending in LeNet-5's RBF layer with the
    /// paper's loss (eq. 9).
    public func lossAndGradients(_ x: Tensor, labels: [Int], threads: Int = 1) throws -> Result {
        let infos = model.layerInfos
        let objective = try OutputLoss(model.network)
        guard labels.count == x.batch else { throw ZooError("\(labels.count) labels for a batch of \(x.batch)") }
        for info in infos {
            switch info.layer.kind {
            case .batchNorm, .localResponseNorm, .padShortcut:
                throw ZooError("backpropagation through \(info.layer.kind.typeName) is not implemented yet", layer: info.name)
            case .convolution(let c) where c.groups != 1:
                throw ZooError("backpropagation through grouped convolutions is not implemented yet", layer: info.name)
            default: break
            }
        }
        let engine = try Engine(model: model, threads: threads, foldBatchNorm: false)
        let acts = try engine.run(x, outputs: infos.map(\.name))
        let networkInput = x.data
        let n = x.batch
        let last = infos.last!
        let (loss, errors, dOut) = try objective.evaluate(acts[last.name]!, labels: labels, gradient: true)
        var grads: [String: [Float]] = [:]
        // Cross-entropy's gradient is that of the logits (the softmax's input); eq. 9's, of the RBF output.
        grads[objective.gradientLayer] = dOut
        return try Engine.exclusive(threads: threads) {
        var parameterGradients: [String: [String: [Float]]] = [:]
        var inputGradient = [Float](repeating: 0, count: networkInput.count)
        for info in infos.reversed() where info.name != last.name || objective.gradientLayer == last.name {
            guard let dy = grads[info.name] else { continue }   // nothing downstream needs it
            let inputName = info.layer.inputs.first
            let source = inputName.map { acts[$0]!.data } ?? networkInput
            var dx: [Float]? = nil
            let y = acts[info.name]!.data
            let inSize = info.inputs.first?.count ?? 0
            switch info.layer.kind {
            case .convolution(let c):
                let p = model.parameters[info.name]!
                let kernel = ConvolutionKernel(c, info: info, kernel: p["kernel"]!, bias: p["bias"])
                var (dW, dB, dX) = convolutionBackward(kernel, x: source, dy: dy, batch: n, info: info)
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
                dx = dX
            case .dense(let d):
                let w = model.parameters[info.name]!["kernel"]!.data
                let outputs = d.units
                var dW = [Float](repeating: 0, count: outputs * inSize)
                var dX = [Float](repeating: 0, count: n * inSize)
                // dW = dYᵀ·X  [out × in]; dX = dY·W  [n × in]
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inSize), Int32(n),
                            1, dy, Int32(outputs), source, Int32(inSize), 0, &dW, Int32(inSize))
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(inSize), Int32(outputs),
                            1, dy, Int32(outputs), w, Int32(inSize), 0, &dX, Int32(inSize))
                parameterGradients[info.name] = ["kernel": dW]
                if d.bias {
                    var dB = [Float](repeating: 0, count: outputs)
                    for i in 0..<n { for j in 0..<outputs { dB[j] += dy[i * outputs + j] } }
                    parameterGradients[info.name]!["bias"] = dB
                }
                dx = dX
            case .pooling(let pool):
                dx = poolingBackward(pool, info: info, x: source, y: y, dy: dy, batch: n)
            case .subsampling(let s):
                let p = model.parameters[info.name]!
                let (dC, dB, dX) = subsamplingBackward(s, info: info, x: source, dy: dy, coefficient: p["coefficient"]!.data, batch: n)
                parameterGradients[info.name] = ["coefficient": dC, "bias": dB]
                dx = dX
            case .tanh:
                dx = zip(dy, y).map { $0 * (1 - $1 * $1) }
            case .scaledTanh(let a, let s):
                let (fa, fs) = (Float(a), Float(s))
                dx = zip(dy, y).map { g, v in let t = v / fa; return g * fa * fs * (1 - t * t) }
            case .relu:
                dx = zip(dy, y).map { $1 > 0 ? $0 : 0 }
            case .sigmoid:
                dx = zip(dy, y).map { $0 * $1 * (1 - $1) }
            case .flatten, .dropout, .identity:
                dx = dy
            case .globalAveragePooling:
                let s = info.inputs[0], area = s.height * s.width
                var d = [Float](repeating: 0, count: n * s.count)
                for i in 0..<n { for c in 0..<s.channels { for k in 0..<area { d[(i * s.channels + c) * area + k] = dy[i * s.channels + c] / Float(area) } } }
                dx = d
            case .add:
                for name in info.layer.inputs { accumulate(&grads, name, dy) }
            case .concat:
                let area = info.output.height * info.output.width
                var offset = 0
                for (name, shape) in zip(info.layer.inputs, info.inputs) {
                    var part = [Float](repeating: 0, count: n * shape.count)
                    for i in 0..<n {
                        for k in 0..<shape.count { part[i * shape.count + k] = dy[i * info.output.count + offset + k] }
                    }
                    accumulate(&grads, name, part)
                    offset += shape.channels * area
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
                if r.trainable { parameterGradients[info.name] = ["prototypes": dW] }
                dx = d
            case .softmax:
                // An inner softmax: dx = y ⊙ (dy − Σ dy·y) per sample.
                let c = info.output.count
                var d = [Float](repeating: 0, count: n * c)
                for i in 0..<n {
                    var dot: Float = 0
                    for k in 0..<c { dot += dy[i * c + k] * y[i * c + k] }
                    for k in 0..<c { d[i * c + k] = y[i * c + k] * (dy[i * c + k] - dot) }
                }
                dx = d
            default:
                throw ZooError("backpropagation through \(info.layer.kind.typeName) is not implemented yet", layer: info.name)
            }
            if let dx {
                if let name = inputName { accumulate(&grads, name, dx) } else { for i in 0..<dx.count { inputGradient[i] += dx[i] } }
            }
        }
        return Result(loss: loss, errors: errors, gradients: parameterGradients, inputGradient: inputGradient)
        }
    }

    private func accumulate(_ grads: inout [String: [Float]], _ name: String, _ g: [Float]) {
        if var existing = grads[name] {
            for i in 0..<existing.count { existing[i] += g[i] }
            grads[name] = existing
        } else {
            grads[name] = g
        }
    }
}

/// dW, db and dX of a convolution for a batch: per image, col = im2col(x); dW += dY·colᵀ;
/// db += Σ dY; dcol = Wᵀ·dY, scattered back (col2im) into dX.
func convolutionBackward(_ k: ConvolutionKernel, x: [Float], dy: [Float], batch n: Int, info: LayerInfo) -> ([Float], [Float], [Float]) {
    let K = k.columnRows, S = k.outHeight * k.outWidth, F = k.filters
    let inCount = k.inChannels * k.height * k.width
    var dW = [Float](repeating: 0, count: F * K)
    var dB = [Float](repeating: 0, count: F)
    var dX = [Float](repeating: 0, count: n * inCount)
    var col = [Float](repeating: 0, count: K * S)
    var dcol = [Float](repeating: 0, count: K * S)
    for i in 0..<n {
        x.withUnsafeBufferPointer { xb in
            col.withUnsafeMutableBufferPointer { cb in
                k.im2col(xb.baseAddress! + i * inCount, channels: k.inChannels, cb.baseAddress!, firstRow: 0, rows: k.outHeight)
            }
        }
        dy.withUnsafeBufferPointer { g in
            let gi = g.baseAddress! + i * F * S
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(F), Int32(K), Int32(S), 1, gi, Int32(S), col, Int32(S), 1, &dW, Int32(K))
            k.weights.withUnsafeBufferPointer { w in
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(S), Int32(F), 1, w.baseAddress!, Int32(K), gi, Int32(S), 0, &dcol, Int32(S))
            }
            for f in 0..<F { var s: Float = 0; for j in 0..<S { s += gi[f * S + j] }; dB[f] += s }
        }
        // col2im: the inverse scatter of im2col.
        let base = i * inCount
        for c in 0..<k.inChannels {
            for ky in 0..<k.kh {
                for kx in 0..<k.kw {
                    let row = ((c * k.kh + ky) * k.kw + kx) * S
                    for oy in 0..<k.outHeight {
                        let y = oy * k.sh - k.padTop + ky * k.dh
                        guard y >= 0 && y < k.height else { continue }
                        for ox in 0..<k.outWidth {
                            let xx = ox * k.sw - k.padLeft + kx * k.dw
                            if xx >= 0 && xx < k.width { dX[base + (c * k.height + y) * k.width + xx] += dcol[row + oy * k.outWidth + ox] }
                        }
                    }
                }
            }
        }
    }
    return (dW, dB, dX)
}

/// Max pooling routes each gradient to the window's maximum (the first one on ties); average
/// pooling spreads it over the window with the forward pass's divisor.
func poolingBackward(_ p: Pooling, info: LayerInfo, x: [Float], y: [Float], dy: [Float], batch n: Int) -> [Float] {
    let s = info.inputs[0], o = info.output
    let (H, W, OH, OW) = (s.height, s.width, o.height, o.width)
    var dx = [Float](repeating: 0, count: n * s.count)
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
