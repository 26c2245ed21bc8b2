import Foundation

/// Seeded random parameters for any network: He-normal convolutions, Glorot-uniform dense layers,
/// zero biases, batch norm γ = 1, β = 0, running mean 0, variance 1, LeNet's subsampling
/// coefficient 1/(window area) and bias 0, and RBF prototypes of ±1 (the paper's codes are ±1).
/// The same seed gives the same parameters on every machine (SplitMix64 + Box–Muller, in Double);
/// each layer draws from its own stream (the seed mixed with the layer's name), so a layer's values
/// do not depend on which other layers are initialised.
extension Model {
    public static func randomlyInitialised(_ network: Network, seed: UInt64 = 0) throws -> Model {
        try Model(network: network, parameters: randomParameters(network, seed: seed))
    }

    /// Random parameters for the layers in `only` (all layers when nil).
    public static func randomParameters(_ network: Network, only: Set<String>? = nil, seed: UInt64 = 0) throws -> [String: [String: Tensor]] {
        var parameters: [String: [String: Tensor]] = [:]
        for info in try network.infer() where only?.contains(info.name) ?? true {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in info.name.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
            var rng = RandomSource(seed: seed ^ hash)
            var tensors: [String: Tensor] = [:]
            for spec in info.parameters {
                let n = spec.count
                var values = [Float](repeating: 0, count: n)
                switch (info.layer.kind, spec.name) {
                case (.convolution(let c), "kernel"):
                    let area = c.kernel.h * c.kernel.w
                    let fanIn: Double
                    if let table = c.connections {
                        fanIn = Double(table.reduce(0) { $0 + $1.count } * area) / Double(max(table.count, 1))
                    } else {
                        fanIn = Double(spec.shape[1] * area)
                    }
                    let std = (2 / fanIn).squareRoot()
                    for i in 0..<n { values[i] = Float(rng.normal() * std) }
                case (.dense, "kernel"):
                    let limit = (6 / Double(spec.shape[0] + spec.shape[1])).squareRoot()
                    for i in 0..<n { values[i] = Float((rng.uniform() * 2 - 1) * limit) }
                case (.batchNorm, "gamma"), (.batchNorm, "moving_variance"):
                    values = [Float](repeating: 1, count: n)
                case (.subsampling(let s), "coefficient"):
                    values = [Float](repeating: 1 / Float(s.kernel.h * s.kernel.w), count: n)
                case (.rbf, "prototypes"):
                    for i in 0..<n { values[i] = rng.uniform() < 0.5 ? -1 : 1 }
                default:
                    break   // biases, β, running means: 0
                }
                tensors[spec.name] = Tensor(shape: spec.shape, data: values)
            }
            if !tensors.isEmpty { parameters[info.name] = tensors }
        }
        return parameters
    }
}

extension Tensor {
    /// Standard-normal values of `shape`, seeded (a stand-in input for runs and benchmarks).
    public static func randomNormal(shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomSource(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(rng.normal()) })
    }
}

/// A small, portable, seeded generator: SplitMix64 for bits, Box–Muller for normals.
public struct RandomSource: Sendable {
    private var state: UInt64
    private var spare: Double?

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal.
    public mutating func normal() -> Double {
        if let s = spare { spare = nil; return s }
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        let r = (-2 * Foundation.log(u)).squareRoot()
        spare = r * Foundation.sin(2 * Double.pi * v)
        return r * Foundation.cos(2 * Double.pi * v)
    }

    /// An integer in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
