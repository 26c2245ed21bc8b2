import Testing
import ZooCore
@testable import ZooEngine

/// A batch norm after a convolution folds into the convolution's prepared filters as a scale per
/// filter applied when the output is stored, the raw form sharing the same filters: both forms
/// against an engine that folds nothing, for every way a convolution runs.
struct BatchNormFoldingTests {
    /// conv → bn → relu on a 64-channel 9 × 9 input, the convolution taking the form `method`.
    static func model(_ method: String) throws -> Model {
        var b = NetworkBuilder("fold", input: [64, 9, 9])
        switch method {
        case "winograd": b.conv("c", filters: 24, kernel: 3, padding: 1)
        case "gemm": b.conv("c", filters: 24, kernel: 1)
        case "direct": b.conv("c", filters: 24, kernel: 3, stride: 2, padding: 1)
        default: b.conv("c", filters: 24, kernel: 5, padding: 2)   // im2col: the grid would cost a third more
        }
        b.batchNorm("bn")
        b.relu("relu")
        let random = try Model.randomlyInitialised(b.build(), seed: 5)
        var rng = RandomSource(seed: 17)
        func values(_ count: Int, _ f: () -> Float) -> Tensor { Tensor(shape: [count], data: (0..<count).map { _ in f() }) }
        var parameters = random.parameters
        parameters["bn"] = ["gamma": values(24) { Float(rng.normal()) }, "beta": values(24) { Float(rng.normal()) },
                            "moving_mean": values(24) { Float(rng.normal()) }, "moving_variance": values(24) { 0.25 + Float(rng.uniform()) * 2 }]
        return try Model(network: random.network, parameters: parameters)
    }

    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.data, b.data).map { abs($0 - $1) }.max()! / max(1e-12, b.data.map(abs).max()!)
    }

    @Test(arguments: ["winograd", "gemm", "direct", "im2col"])
    func foldedAndRawFormsShareTheFilters(_ method: String) throws {
        let model = try Self.model(method)
        var rng = RandomSource(seed: 3)
        let x = Tensor(shape: [2, 64, 9, 9], data: (0..<(2 * 64 * 81)).map { _ in Float(rng.normal()) })
        let reference = try Engine(model: model, threads: 1, foldBatchNorm: false).run(x, outputs: ["c", "bn", "relu"])
        for threads in [1, 2] {
            let engine = try Engine(model: model, threads: threads)
            guard case .convolution(let raw, let folded?, _) = engine.steps[0].operation else {
                Issue.record("\(method): no folded form")
                return
            }
            if PackedMatrices.enabled {
                #expect(raw.method.hasPrefix(method) && folded.method == raw.method, "\(method): runs as \(raw.method)")
                #expect(raw.scale == nil && folded.scale != nil && folded.weights.isEmpty && raw.weights.isEmpty, "\(method): filters shared")
            }
            // The folded form alone, then the raw output requested beside it (the raw form runs).
            let alone = try engine.run(x)["relu"]!
            #expect(Self.relativeError(alone, reference["relu"]!) <= 1e-5, "\(method), \(threads) threads: folded")
            let both = try engine.run(x, outputs: ["c", "relu"])
            #expect(Self.relativeError(both["c"]!, reference["c"]!) <= 1e-5, "\(method), \(threads) threads: raw")
            #expect(Self.relativeError(both["relu"]!, reference["relu"]!) <= 1e-5, "\(method), \(threads) threads: after the raw")
        }
    }

    /// Winograd's output stage with a scale, in Swift (CPUs without AVX-512) and in C, on random
    /// products M for a map whose last tile row and column are half outside, with and without the
    /// ReLU: the same outputs, nothing written past the map.
    @Test func winogradOutputScaledInSwiftAndC() throws {
        guard cpuHasAVX512 else { return }
        var b = NetworkBuilder("w", input: [64, 13, 37])
        b.conv("c", filters: 16, kernel: 3, padding: 1)   // Winograd's least
        let model = try Model.randomlyInitialised(b.build(), seed: 2)
        guard case .convolution(let conv) = model.layerInfos[0].layer.kind else { return }
        var k = ConvolutionKernel(conv, info: model.layerInfos[0], kernel: model.parameters["c"]!["kernel"]!, bias: model.parameters["c"]!["bias"])
        k.prepare()
        var rng = RandomSource(seed: 4)
        let folded = k.folding(scale: (0..<16).map { _ in Float(rng.normal()) }, shift: (0..<16).map { _ in Float(rng.normal()) })
        guard var w = folded.winograd else { Issue.record("Winograd does not apply"); return }
        let tiles = w.tileRows * w.tilesAcross, out = 16 * 13 * 37
        let m = (0..<(16 * 16 * tiles + 16)).map { _ in Float(rng.normal()) }
        for relu in [false, true] {
            w.relu = relu
            let both = w.outputsInSwiftAndC(m, count: out), results = both.map(\.y)
            for (inC, (_, untouched)) in zip([false, true], both) { #expect(untouched, "in C \(inC): written past the map") }
            let top = results[1].map(abs).max()!
            let worst = zip(results[0], results[1]).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-6 * max(top, 1), "relu \(relu): Swift and C differ by \(worst)")
            #expect(results[0].contains { $0 != 0 } && w.scale != nil)
        }
    }
}
