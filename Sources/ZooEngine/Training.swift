import Foundation
import ZooCore

/// Mini-batch SGD with momentum and (decoupled from the bias) L2 weight decay:
/// v ← μ·v − η·(g + λ·w) for weights, v ← μ·v − η·g for biases and BN/subsampling terms; w ← w + v.
public struct SGD: Sendable {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// The momentum buffers, per layer and parameter (saved in checkpoints so that a resumed run
    /// continues exactly).
    public var velocity: [String: [String: [Float]]] = [:]

    public init(learningRate: Float = 0.05, momentum: Float = 0.9, weightDecay: Float = 5e-4) {
        self.learningRate = learningRate; self.momentum = momentum; self.weightDecay = weightDecay
    }

    mutating func step(_ parameters: inout [String: [String: Tensor]], _ gradients: [String: [String: [Float]]]) {
        for (layer, tensors) in gradients {
            for (name, g) in tensors {
                guard var w = parameters[layer]?[name] else { continue }
                var v = velocity[layer]?[name] ?? [Float](repeating: 0, count: g.count)
                let decay = name == "kernel" ? weightDecay : 0
                for i in 0..<g.count {
                    v[i] = momentum * v[i] - learningRate * (g[i] + decay * w.data[i])
                    w.data[i] += v[i]
                }
                velocity[layer, default: [:]][name] = v
                parameters[layer]![name] = w
            }
        }
    }
}

/// The learning rate of each pass (epoch, counted from 1), as a multiple of the base rate.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// × factor every `every` passes.
    case step(every: Int, factor: Float)
    /// LeNet-5's per-pass schedule as LeCun et al. (1998) describe its training (not in papers.md,
    /// so unchecked there): 0.0005 for 2 passes, 0.0002 for
    /// the next 3, 0.0001 for 3, 0.00005 for 4, then 0.00001 — here as fractions of the first rate
    /// (1, 0.4, 0.2, 0.1, 0.02), since Zoo's SGD has no per-parameter Levenberg–Marquardt step.
    case paper

    public func multiplier(epoch: Int) -> Float {
        switch self {
        case .constant: return 1
        case .step(let every, let factor): return powf(factor, Float((epoch - 1) / max(every, 1)))
        case .paper:
            switch epoch {
            case ...2: return 1
            case 3...5: return 0.4
            case 6...8: return 0.2
            case 9...12: return 0.1
            default: return 0.02
            }
        }
    }

    /// `constant`, `paper`, or `step:N:F`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":")
        switch parts.first {
        case "constant": self = .constant
        case "paper": self = .paper
        case "step" where parts.count == 3:
            guard let n = Int(parts[1]), n > 0, let f = Float(parts[2]), f > 0 else {
                throw ZooError("--schedule step:N:F needs a positive pass count and factor, got `\(text)`")
            }
            self = .step(every: n, factor: f)
        default: throw ZooError("--schedule must be constant, paper or step:N:F (e.g. step:5:0.5), got `\(text)`")
        }
    }
}

/// Trains a model on labelled tensors: seeded shuffling, mini-batches, one optimiser step per
/// batch. The same seed gives the same weights bit for bit on the same machine (one thread).
public final class Trainer {
    public private(set) var model: Model
    public var optimizer: SGD
    public let threads: Int
    /// Layers whose parameters stay as they are (fine-tuning with a frozen feature extractor); a
    /// frozen batch norm normalises with its moving statistics and does not update them.
    public var frozen: Set<String> = []
    /// Batch norm's moving statistics follow m ← (1 − momentum)·m + momentum·batch (PyTorch's
    /// convention and default; Keras's `momentum = 0.99` is 0.01 here).
    public var batchNormMomentum: Float = 0.1
    /// Whether the network has dropout layers: each epoch then draws one more number from the
    /// shuffling generator, the seed of its dropout masks.
    var hasDropout: Bool { model.network.layers.contains { if case .dropout = $0.kind { return true } else { return false } } }

    public struct EpochResult: Sendable {
        public var loss: Double
        public var errorRate: Double
        public init(loss: Double, errorRate: Double) { self.loss = loss; self.errorRate = errorRate }
    }

    public init(model: Model, optimizer: SGD, threads: Int = 1) {
        self.model = model; self.optimizer = optimizer; self.threads = threads
    }

    /// The shuffled order of an epoch and the seed of its dropout masks, drawn from `rng`.
    func epochPlan(count n: Int, rng: inout RandomSource) -> (order: [Int], dropoutSeed: UInt64) {
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        return (order, hasDropout ? rng.next() : 0)
    }

    /// Advances `rng` past `epochs` passes over `count` samples without training (resuming).
    public func skipEpochs(_ epochs: Int, count: Int, rng: inout RandomSource) {
        for _ in 0..<epochs { _ = epochPlan(count: count, rng: &rng) }
    }

    /// One pass over `images` (`[N, …]`) in an order shuffled by `rng`.
    public func trainEpoch(images: Tensor, labels: [Int], batch: Int, rng: inout RandomSource,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> EpochResult {
        let n = labels.count
        let (order, dropoutSeed) = epochPlan(count: n, rng: &rng)
        var step: UInt64 = 0
        let size = images.count / max(images.batch, 1)
        var loss = 0.0, errors = 0
        var parameters = model.parameters
        var start = 0
        while start < n {
            let idx = Array(order[start..<min(start + batch, n)])
            var data = [Float](); data.reserveCapacity(idx.count * size)
            for i in idx { data += images.data[(i * size)..<((i + 1) * size)] }
            let x = Tensor(shape: [idx.count] + Array(images.shape.dropFirst()), data: data)
            let result = try Backpropagation(model: model).lossAndGradients(
                x, labels: idx.map { labels[$0] }, threads: threads, seed: dropoutSeed &+ step &* 0x9E37_79B9_7F4A_7C15,
                frozen: frozen, inputGradient: false)
            step += 1
            loss += result.loss * Double(idx.count)
            errors += result.errors
            optimizer.step(&parameters, result.gradients.filter { !frozen.contains($0.key) })
            for (layer, stats) in result.statistics {
                let m = batchNormMomentum
                for (name, batchValues) in [("moving_mean", stats.mean), ("moving_variance", stats.variance)] {
                    guard var t = parameters[layer]?[name] else { continue }
                    for i in 0..<t.count { t.data[i] = (1 - m) * t.data[i] + m * batchValues[i] }
                    parameters[layer]![name] = t
                }
            }
            model = try Model(network: model.network, parameters: parameters)
            start += batch
            progress(min(start, n), n)
        }
        return EpochResult(loss: loss / Double(n), errorRate: Double(errors) / Double(n))
    }

    /// Loss and error rate without training.
    public func evaluate(images: Tensor, labels: [Int], batch: Int = 256) throws -> EpochResult {
        let engine = try Engine(model: model, threads: threads)
        let objective = try OutputLoss(model.network)
        let size = images.count / max(images.batch, 1)
        var loss = 0.0, errors = 0
        var start = 0
        while start < labels.count {
            let end = min(start + batch, labels.count)
            let x = Tensor(shape: [end - start] + Array(images.shape.dropFirst()), data: Array(images.data[(start * size)..<(end * size)]))
            let p = try engine.run(x)[model.network.output.name]!
            let (l, e, _) = try objective.evaluate(p, labels: Array(labels[start..<end]), gradient: false)
            loss += l * Double(end - start)
            errors += e
            start = end
        }
        return EpochResult(loss: loss / Double(labels.count), errorRate: Double(errors) / Double(labels.count))
    }

    /// Replaces the model's parameters (e.g. when resuming from a checkpoint).
    public func load(_ parameters: [String: [String: Tensor]]) throws {
        model = try Model(network: model.network, parameters: parameters)
    }
}

extension Dataset {
    /// Digits as LeNet-5 reads them (§II.B): the `side × side` image scaled to 0…1 ink, centred in
    /// `size × size`, background −0.1 and full ink 1.175 (value = −0.1 + 1.275·ink). Images smaller
    /// than `field` are first enlarged (bilinear) to `field × field`.
    public func lenetInput(size: Int = 32, field: Int? = nil, maximum: Float = 255) -> Tensor {
        let h = images.shape[2], w = images.shape[3]
        let f = field ?? h
        var out = [Float](repeating: -0.1, count: count * size * size)
        let offset = (size - f) / 2
        for i in 0..<count {
            for y in 0..<f {
                for x in 0..<f {
                    // Bilinear sample at pixel centres when enlarging; identity when f == h.
                    let sy = (Float(y) + 0.5) * Float(h) / Float(f) - 0.5, sx = (Float(x) + 0.5) * Float(w) / Float(f) - 0.5
                    let y0 = max(0, min(h - 1, Int(sy.rounded(.down)))), x0 = max(0, min(w - 1, Int(sx.rounded(.down))))
                    let y1 = min(h - 1, y0 + 1), x1 = min(w - 1, x0 + 1)
                    let fy = max(0, min(1, sy - Float(y0))), fx = max(0, min(1, sx - Float(x0)))
                    let base = i * h * w
                    let v = (1 - fy) * ((1 - fx) * images.data[base + y0 * w + x0] + fx * images.data[base + y0 * w + x1])
                        + fy * ((1 - fx) * images.data[base + y1 * w + x0] + fx * images.data[base + y1 * w + x1])
                    out[(i * size + y + offset) * size + x + offset] = -0.1 + 1.275 * v / maximum
                }
            }
        }
        return Tensor(shape: [count, 1, size, size], data: out)
    }
}
