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

    static func loss(_ model: Model, _ x: Tensor, _ labels: [Int]) throws -> Double {
        let out = try Engine(model: model, threads: 1, foldBatchNorm: false).run(x)[model.network.output.name]!
        return try OutputLoss(model.network).evaluate(out, labels: labels, gradient: false).0
    }

    static func check(_ yaml: String, input: [Int], seed: UInt64) throws {
        let network = try network(yaml)
        var model = try Model.randomlyInitialised(network, seed: seed)
        // Non-trivial biases and coefficients, so every term of every gradient matters.
        var rng = RandomSource(seed: seed + 1)
        var params = model.parameters
        for (layer, tensors) in params { for (name, t) in tensors where name != "kernel" {
            params[layer]![name] = Tensor(shape: t.shape, data: t.data.map { $0 + Float(rng.normal() * 0.3) })
        } }
        model = try Model(network: network, parameters: params)
        let x = Tensor(shape: input, data: (0..<input.reduce(1, *)).map { _ in Float(rng.normal()) })
        let classes = model.layerInfos.last!.output.count
        let labels = (0..<input[0]).map { $0 % classes }
        let result = try Backpropagation(model: model).lossAndGradients(x, labels: labels)
        #expect(abs(result.loss - (try loss(model, x, labels))) < 1e-5)
        let eps: Float = 1e-2   // these networks are smooth (kinks are checked in maxPoolRoutesToTheMaximum): O(eps²) truncation, little Float32 noise
        for (layer, tensors) in model.parameters {
            for (name, t) in tensors {
                guard let analytic = result.gradients[layer]?[name] else {
                    if name != "moving_mean" && name != "moving_variance" { Issue.record("no gradient for \(layer).\(name)") }
                    continue
                }
                var numeric = [Float](repeating: 0, count: t.count)
                for i in 0..<t.count {
                    var plus = params, minus = params
                    plus[layer]![name]!.data[i] += eps
                    minus[layer]![name]!.data[i] -= eps
                    let lp = try loss(try Model(network: network, parameters: plus), x, labels)
                    let lm = try loss(try Model(network: network, parameters: minus), x, labels)
                    numeric[i] = Float((lp - lm) / Double(2 * eps))
                }
                let diff = zip(analytic, numeric).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                let scale = max(analytic.map { $0 * $0 }.reduce(0, +).squareRoot(), numeric.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-6)
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
        let diff = zip(analytic, numeric).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let scale = numeric.map { $0 * $0 }.reduce(0, +).squareRoot()
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
}
