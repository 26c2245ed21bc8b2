import Foundation
import ZooCore

/// A multinomial logistic-regression head on CNN codes: standardise each feature, then
/// softmax(W·x + b), trained by L-BFGS on the mean cross-entropy plus (λ/2)‖W‖² (the bias is not
/// penalised). The same objective as scikit-learn's `LogisticRegression(C = 1/(λ·N))`.
public struct LinearClassifier: Sendable {
    public var classes: [String]
    /// Per-feature mean and standard deviation used to standardise the inputs.
    public var mean: [Float]
    public var std: [Float]
    /// `[classes, features]`, row-major.
    public var weights: [Float]
    public var bias: [Float]
    public var features: Int { mean.count }

    public init(classes: [String], mean: [Float], std: [Float], weights: [Float], bias: [Float]) {
        self.classes = classes; self.mean = mean; self.std = std; self.weights = weights; self.bias = bias
    }

    public struct TrainingReport: Sendable {
        public var iterations: Int
        public var converged: Bool
        /// The objective at the optimum: mean cross-entropy + (λ/2)‖W‖².
        public var objective: Double
    }

    /// Fits the classifier to `codes` (`[N, D]` row-major) with integer labels in `0..<classes.count`.
    public static func fit(codes: [Float], labels: [Int], classes: [String], l2: Double = 1e-4,
                           maxIterations: Int = 500) throws -> (LinearClassifier, TrainingReport) {
        let n = labels.count, k = classes.count
        guard n > 0, codes.count % n == 0 else { throw ZooError("fit: \(codes.count) values do not make \(n) rows") }
        let d = codes.count / n
        guard k >= 2 else { throw ZooError("fit: need at least two classes, got \(k)") }
        if let bad = labels.first(where: { !(0..<k).contains($0) }) {
            throw ZooError("fit: label \(bad) is outside 0..<\(k)")
        }
        guard l2 >= 0 else { throw ZooError("fit: --l2 must be ≥ 0, got \(l2)") }
        // Standardisation (a constant feature keeps std 1 so it stays 0).
        var mean = [Double](repeating: 0, count: d), variance = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(codes[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        for i in 0..<n { for j in 0..<d { let v = Double(codes[i * d + j]) - mean[j]; variance[j] += v * v } }
        let std = variance.map { v -> Double in let s = (v / Double(n)).squareRoot(); return s > 1e-12 ? s : 1 }
        var x = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for j in 0..<d { x[i * d + j] = (Double(codes[i * d + j]) - mean[j]) / std[j] } }

        let parameters = k * d + k
        let objective = { (theta: [Double], grad: inout [Double]) -> Double in
            for i in 0..<parameters { grad[i] = 0 }
            var loss = 0.0
            var logits = [Double](repeating: 0, count: k)
            for i in 0..<n {
                for c in 0..<k {
                    var z = theta[k * d + c]
                    let row = c * d, xi = i * d
                    for j in 0..<d { z += theta[row + j] * x[xi + j] }
                    logits[c] = z
                }
                let m = logits.max()!
                var sum = 0.0
                for c in 0..<k { logits[c] = exp(logits[c] - m); sum += logits[c] }
                loss += -log(logits[labels[i]] / sum)
                for c in 0..<k {
                    let p = logits[c] / sum - (c == labels[i] ? 1 : 0)
                    let row = c * d, xi = i * d
                    for j in 0..<d { grad[row + j] += p * x[xi + j] }
                    grad[k * d + c] += p
                }
            }
            let scale = 1 / Double(n)
            var penalty = 0.0
            for i in 0..<(k * d) {
                grad[i] = grad[i] * scale + l2 * theta[i]
                penalty += theta[i] * theta[i]
            }
            for c in 0..<k { grad[k * d + c] *= scale }
            return loss * scale + 0.5 * l2 * penalty
        }
        var solver = LBFGS()
        solver.maxIterations = maxIterations
        let result = solver.minimize([Double](repeating: 0, count: parameters), objective)
        let head = LinearClassifier(classes: classes, mean: mean.map(Float.init), std: std.map(Float.init),
                                    weights: result.x[0..<(k * d)].map(Float.init), bias: result.x[(k * d)...].map(Float.init))
        return (head, TrainingReport(iterations: result.iterations, converged: result.converged, objective: result.value))
    }

    /// Class probabilities for each row of `codes` (`[N, D]`), `[N, classes]` row-major.
    public func probabilities(_ codes: [Float]) throws -> [Float] {
        let d = features, k = classes.count
        guard d > 0, codes.count % d == 0 else { throw ZooError("the head expects \(d) features per row; \(codes.count) values do not divide") }
        let n = codes.count / d
        var out = [Float](repeating: 0, count: n * k)
        var z = [Double](repeating: 0, count: k)
        for i in 0..<n {
            for c in 0..<k {
                var s = Double(bias[c])
                for j in 0..<d { s += Double(weights[c * d + j]) * (Double(codes[i * d + j]) - Double(mean[j])) / Double(std[j]) }
                z[c] = s
            }
            let m = z.max()!
            let e = z.map { exp($0 - m) }
            let sum = e.reduce(0, +)
            for c in 0..<k { out[i * k + c] = Float(e[c] / sum) }
        }
        return out
    }

    /// The most probable class index of each row.
    public func predict(_ codes: [Float]) throws -> [Int] {
        let p = try probabilities(codes), k = classes.count
        return (0..<(p.count / k)).map { i in (0..<k).max { p[i * k + $0] < p[i * k + $1] }! }
    }
}

/// A deterministic, stratified split: each class contributes the same fraction to the hold-out set.
public struct StratifiedSplit: Sendable {
    public var train: [Int]
    public var holdout: [Int]

    /// `fraction` of each class (rounded, at least one when a class has two or more samples) goes to
    /// the hold-out set; which ones is decided by a seeded shuffle.
    public init(labels: [Int], holdout fraction: Double, seed: UInt64) throws {
        guard (0..<1).contains(fraction) else { throw ZooError("--holdout must be in [0, 1), got \(fraction)") }
        var rng = SplitMix64(seed: seed)
        var train: [Int] = [], holdout: [Int] = []
        for label in Set(labels).sorted() {
            var members = labels.indices.filter { labels[$0] == label }
            for i in stride(from: members.count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                members.swapAt(i, j)
            }
            var count = Int((Double(members.count) * fraction).rounded())
            if fraction > 0, members.count >= 2 { count = max(1, min(count, members.count - 1)) }
            holdout += members.prefix(count)
            train += members.dropFirst(count)
        }
        self.train = train.sorted()
        self.holdout = holdout.sorted()
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same split on every machine.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// counts[true][predicted].
public struct ConfusionMatrix: Sendable {
    public var classes: [String]
    public var counts: [[Int]]

    public init(classes: [String], truth: [Int], predicted: [Int]) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
        for (t, p) in zip(truth, predicted) { counts[t][p] += 1 }
    }

    public var accuracy: Double {
        let total = counts.joined().reduce(0, +)
        return total == 0 ? 0 : Double(classes.indices.reduce(0) { $0 + counts[$1][$1] }) / Double(total)
    }

    /// A text table, rows = true class, columns = predicted.
    public var rendered: String {
        let width = max(5, classes.map(\.count).max() ?? 0, String(counts.joined().max() ?? 0).count)
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var out = pad("") + " " + classes.map { pad(String($0.prefix(width))) }.joined(separator: " ") + "  ← predicted\n"
        for (i, row) in counts.enumerated() {
            out += pad(String(classes[i].prefix(width))) + " " + row.map { pad(String($0)) }.joined(separator: " ") + "\n"
        }
        return out
    }
}
