import Foundation
import Testing
import ZooCore
@testable import ZooEngine

/// Every layer's gradient against central finite differences of the loss:
/// ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖) ≤ 1e-3 per parameter tensor and for the input.
struct GradientTests {
    static func network(_ yaml: String) throws -> Network {
        let file = try DefinitionFile(text: yaml, path: "grad.yaml")
        return try file.network(named: file.entries[0].name)
    }

    /// Euclidean norm, and the distance of two gradients.
    static func norm(_ v: [Float]) -> Float { v.map { $0 * $0 }.reduce(0, +).squareRoot() }
    static func distance(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() }

    /// The loss of the training-mode forward pass (batch statistics, dropout masks from `seed`).
    static func loss(_ model: Model, _ x: Tensor, _ labels: [Int], seed: UInt64 = 7, frozen: Set<String> = []) throws -> Double {
        let out = try Engine(model: model, threads: 1, mode: .training(seed: seed, frozen: frozen)).run(x)[model.network.output.name]!
        return try OutputLoss(model.network).evaluate(out, labels: labels, gradient: false).0
    }

    static func check(_ yaml: String, input: [Int], seed: UInt64, frozen: Set<String> = [], positive: Bool = false) throws {
        let network = try network(yaml)
        var model = try Model.randomlyInitialised(network, seed: seed)
        // Non-trivial biases and coefficients, so every term of every gradient matters.
        var rng = RandomSource(seed: seed + 1)
        var params = model.parameters
        // In a fixed order (a dictionary's changes from run to run), so that a run checks the model the last did.
        for layer in params.keys.sorted() { for name in params[layer]!.keys.sorted() where name != "kernel" {
            let t = params[layer]![name]!
            params[layer]![name] = Tensor(shape: t.shape, data: t.data.map { $0 + Float(rng.normal() * 0.3) })
        } }
        model = try Model(network: network, parameters: params)
        var x = Tensor(shape: input, data: (0..<input.reduce(1, *)).map { _ in Float(rng.normal()) })
        if positive { x.data = x.data.map { abs($0) + 0.1 } }
        let classes = model.layerInfos.last!.output.count
        let labels = (0..<input[0]).map { $0 % classes }
        let result = try Backpropagation(model: model).lossAndGradients(x, labels: labels, seed: 7, frozen: frozen)
        #expect(abs(result.loss - (try loss(model, x, labels, frozen: frozen))) < 1e-5)
        // The input gradient too (it is what reaches the layers before); its entries are small next
        // to the loss, so the five-point stencil (truncation O(h⁴)) with a larger step keeps Float32's
        // rounding out of the comparison.
        var numericInput = [Float](repeating: 0, count: x.count)
        let h: Float = 2e-2
        for i in 0..<x.count {
            func at(_ k: Float) throws -> Double {
                var moved = x
                moved.data[i] += k * h
                return try loss(model, moved, labels, frozen: frozen)
            }
            let stencil = try -at(2) + 8 * at(1) - 8 * at(-1) + at(-2)
            numericInput[i] = Float(stencil / Double(12 * h))
        }
        let inputDiff = distance(result.inputGradient, numericInput)
        let inputScale = max(norm(numericInput), 1e-6)
        #expect(inputDiff / inputScale <= 1e-3, "input: relative error \(inputDiff / inputScale)")
        let eps: Float = 1e-2   // these networks are smooth (kinks are checked in maxPoolRoutesToTheMaximum): little Float32 noise
        for (layer, tensors) in model.parameters {
            for (name, t) in tensors {
                guard let analytic = result.gradients[layer]?[name] else {
                    if name != "moving_mean" && name != "moving_variance" && !frozen.contains(layer) { Issue.record("no gradient for \(layer).\(name)") }
                    continue
                }
                #expect(!frozen.contains(layer), "\(layer) is frozen but got a gradient")
                var numeric = [Float](repeating: 0, count: t.count)
                for i in 0..<t.count {
                    // The five-point stencil (truncation O(eps⁴)): the three-point one's O(eps²)
                    // reached 1e-3 on LeNet's subsampling coefficients.
                    func at(_ k: Float) throws -> Double {
                        var moved = params
                        moved[layer]![name]!.data[i] += k * eps
                        return try loss(try Model(network: network, parameters: moved), x, labels, frozen: frozen)
                    }
                    let stencil = try -at(2) + 8 * at(1) - 8 * at(-1) + at(-2)
                    numeric[i] = Float(stencil / Double(12 * eps))
                }
                let diff = distance(analytic, numeric)
                // A gradient that is zero in exact arithmetic (a bias before a batch norm) leaves only
                // rounding noise on both sides: the numeric side's is up to ~1e-5 (Float32 losses of ~1
                // differenced over 12·eps), so the floor of 0.1 (an absolute 1e-4) keeps it from counting
                // as an error. (With a floor of 1e-2 one CI run failed at 1.1e-3; across 8 random parameter
                // orders the largest error is now 3.4e-4.)
                let scale = max(norm(analytic), norm(numeric), 1e-1)
                #expect(diff / scale <= 1e-3, "\(layer).\(name): relative error \(diff / scale)")
            }
        }
    }

    /// Max pooling and ReLU have kinks (ties, zero): checked through the input gradient on an input
    /// whose values are at least 0.05 apart and 0.025 away from zero, with steps of 0.01.
    @Test func maxPoolRoutesToTheMaximum() throws {
        let network = try Self.network("""
            name: m
            input: [2, 4, 4]
            layers:
              - {name: r, type: relu}
              - {name: pool, type: maxpool, kernel: 3, stride: 1, padding: 1}
              - {name: pool2, type: maxpool, kernel: 2}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 3}
              - {name: prob, type: softmax}
            """)
        let model = try Model.randomlyInitialised(network, seed: 4)
        var rng = RandomSource(seed: 5)
        var values = (0..<64).map { Float($0) * 0.05 - 1.575 }
        for i in stride(from: 63, to: 0, by: -1) { values.swapAt(i, rng.below(i + 1)) }
        let x = Tensor(shape: [2, 2, 4, 4], data: values)
        let labels = [0, 2]
        let analytic = try Backpropagation(model: model).lossAndGradients(x, labels: labels).inputGradient
        var numeric = [Float](repeating: 0, count: 64)
        for i in 0..<64 {
            var plus = x, minus = x
            plus.data[i] += 0.01
            minus.data[i] -= 0.01
            numeric[i] = Float((try Self.loss(model, plus, labels) - Self.loss(model, minus, labels)) / 0.02)
        }
        let diff = Self.distance(analytic, numeric)
        let scale = Self.norm(numeric)
        #expect(diff / scale <= 1e-3, "input gradient through max pooling: relative error \(diff / scale)")
        #expect(analytic.filter { $0 != 0 }.count < 32, "only positive maxima receive gradient")
    }

    @Test func convolutionTanhAvgPoolDense() throws {
        try Self.check("""
            name: a
            input: [2, 6, 6]
            layers:
              - {name: conv, type: conv, filters: 3, kernel: 3, padding: 1, stride: 1}
              - {name: act, type: tanh}
              - {name: pool, type: avgpool, kernel: 2}
              - {name: conv2, type: conv, filters: 2, kernel: 2, stride: 1, dilation: 1}
              - {name: act2, type: sigmoid}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 4}
              - {name: prob, type: softmax}
            """, input: [3, 2, 6, 6], seed: 1)
    }

    @Test func lenetPiecesTableSubsamplingScaledTanhAvgPool() throws {
        try Self.check("""
            name: b
            input: [3, 8, 8]
            layers:
              - {name: C, type: conv, filters: 4, kernel: 3, stride: 1, connections: [[0], [0, 1], [1, 2], [0, 1, 2]]}
              - {name: S, type: subsample, kernel: 2}
              - {name: act, type: scaled_tanh}
              - {name: P, type: avgpool, kernel: 3, stride: 1, padding: 1, count_include_pad: false}
              - {name: r, type: sigmoid}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 3}
              - {name: prob, type: softmax}
            """, input: [2, 3, 8, 8], seed: 2)
    }

    /// The paper's LeNet-5 pieces end to end: the RBF output with eq. 9's loss (trainable
    /// prototypes here, so their gradient is checked too).
    @Test func rbfOutputWithThePapersLoss() throws {
        try Self.check("""
            name: r
            input: [2, 6, 6]
            layers:
              - {name: C, type: conv, filters: 3, kernel: 3, connections: [[0], [1], [0, 1]]}
              - {name: S, type: subsample, kernel: 2}
              - {name: act, type: scaled_tanh}
              - {name: flatten, type: flatten}
              - {name: F, type: dense, units: 5}
              - {name: act2, type: scaled_tanh}
              - {name: OUTPUT, type: rbf, units: 4, trainable: true}
            """, input: [3, 2, 6, 6], seed: 6)
    }

    @Test func branchesJoinByConcatAndAdd() throws {
        try Self.check("""
            name: c
            input: [2, 5, 5]
            layers:
              - {name: a, type: conv, filters: 3, kernel: 1}
              - {name: b, type: conv, filters: 3, kernel: 3, padding: 1, input: in}
              - {name: sum, type: add, inputs: [a, b]}
              - {name: t, type: tanh}
              - {name: c, type: conv, filters: 2, kernel: 3, stride: 2, padding: 1, rounding: floor, input: in}
              - {name: up, type: gap, input: t}
              - {name: g2, type: gap, input: c}
              - {name: cat, type: concat, inputs: [up, g2]}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 3}
              - {name: prob, type: softmax}
            """, input: [2, 2, 5, 5], seed: 3)
    }

    /// Batch norm in training mode (the batch's statistics) after a convolution and after a dense
    /// layer, dropout with a fixed seed, grouped convolution.
    @Test func batchNormDropoutGroups() throws {
        try Self.check("""
            name: bn
            input: [4, 5, 5]
            layers:
              - {name: conv, type: conv, filters: 4, kernel: 3, padding: 1, groups: 2}
              - {name: bn, type: batchnorm}
              - {name: act, type: tanh}
              - {name: drop, type: dropout, rate: 0.3}
              - {name: conv2, type: conv, filters: 6, kernel: 3, stride: 2, groups: 2, bias: false}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 5}
              - {name: bn2, type: batchnorm}
              - {name: act2, type: sigmoid}
              - {name: fc2, type: dense, units: 3}
              - {name: prob, type: softmax}
            """, input: [4, 4, 5, 5], seed: 8)
    }

    /// A frozen batch norm uses its moving statistics and gets no gradient; what is before it still
    /// learns through it.
    @Test func frozenBatchNormUsesMovingStatistics() throws {
        try Self.check("""
            name: fbn
            input: [2, 4, 4]
            layers:
              - {name: conv, type: conv, filters: 3, kernel: 3, padding: 1}
              - {name: bn, type: batchnorm}
              - {name: act, type: tanh}
              - {name: gap, type: gap}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 3}
              - {name: prob, type: softmax}
            """, input: [3, 2, 4, 4], seed: 9, frozen: ["bn"])
    }

    /// LRN in both α conventions (AlexNet's and GoogLeNet's), and ResNet's option-A shortcut.
    @Test func lrnAndPadShortcut() throws {
        try Self.check("""
            name: l
            input: [3, 6, 6]
            layers:
              - {name: conv, type: conv, filters: 5, kernel: 3, padding: 1}
              - {name: norm, type: lrn, size: 5, alpha: 0.5, beta: 0.75, k: 2, alpha_convention: paper}
              - {name: conv2, type: conv, filters: 4, kernel: 3, padding: 1}
              - {name: norm2, type: lrn, size: 3, alpha: 0.3, beta: 0.75, k: 1, alpha_convention: averaged}
              - {name: down, type: conv, filters: 6, kernel: 2, stride: 2}
              - {name: short, type: pad_shortcut, filters: 6, stride: 2, input: norm2}
              - {name: sum, type: add, inputs: [down, short]}
              - {name: act, type: tanh}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 3}
              - {name: prob, type: softmax}
            """, input: [2, 3, 6, 6], seed: 10, positive: true)
    }

    /// The dropout mask follows the seed: the same seed, the same mask; another seed, another one;
    /// about `rate` of the values are dropped and the others scaled by 1/(1 − rate).
    @Test func dropoutMasksAreSeeded() throws {
        let a = Engine.dropoutMask(seed: 1, count: 10_000, rate: 0.25)
        #expect(a == Engine.dropoutMask(seed: 1, count: 10_000, rate: 0.25))
        #expect(a != Engine.dropoutMask(seed: 2, count: 10_000, rate: 0.25))
        let dropped = a.filter { $0 == 0 }.count
        #expect((2300...2700).contains(dropped))
        #expect(Set(a) == [0, Float(1 / 0.75)])
    }

    /// Batch norm's statistics: the batch's mean and unbiased variance, checked by hand.
    @Test func batchNormStatisticsByHand() throws {
        let network = try Self.network("""
            name: s
            input: [1, 1, 2]
            layers:
              - {name: bn, type: batchnorm}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 2}
              - {name: prob, type: softmax}
            """)
        let model = try Model.randomlyInitialised(network, seed: 1)
        // Values 1, 3 and 5, 7: mean 4, biased variance 5, unbiased 20/3.
        let x = Tensor(shape: [2, 1, 1, 2], data: [1, 3, 5, 7])
        let r = try Backpropagation(model: model).lossAndGradients(x, labels: [0, 1])
        #expect(r.statistics["bn"]!.mean == [4])
        #expect(abs(r.statistics["bn"]!.variance[0] - 20.0 / 3) < 1e-5)
        let y = try Engine(model: model, threads: 1, mode: .training(seed: 0)).run(x, outputs: ["bn"])["bn"]!
        let expected = [1, 3, 5, 7].map { (Float($0) - 4) / (5 + 1e-5).squareRoot() }
        for (a, b) in zip(y.data, expected) { #expect(abs(a - b) < 1e-5) }
    }
}
