import Foundation
import Testing
import ZooCore
@testable import ZooEngine

/// Winograd F(4×4, 3×3): its AVX-512 transforms against the same transforms done by the matrices
/// in Swift (maps whose tiles reach past the right and bottom edges, padding, more than 16 tiles
/// across), and when it is chosen. Whole layers against im2col: `ThreadingTests`; against PyTorch:
/// the `conv_winograd*` fixtures (`TorchFixtureTests`).
struct WinogradTests {
    /// A prepared F(4×4) kernel of `filters` filters over a [64, height, width] input (`size` × `size`:
    /// 3, or larger as 3 × 3 pieces).
    static func kernel(height: Int, width: Int, padding: Int, filters: Int, seed: UInt64, size: Int = 3) throws -> WinogradKernel {
        var b = NetworkBuilder("w", input: [64, height, width])
        b.conv("c", filters: filters, kernel: size, padding: padding)
        let model = try Model.randomlyInitialised(b.build(), seed: seed)
        guard case .convolution(let conv) = model.layerInfos[0].layer.kind else { throw ZooError("no convolution") }
        let k = ConvolutionKernel(conv, info: model.layerInfos[0], kernel: model.parameters["c"]!["kernel"]!, bias: model.parameters["c"]!["bias"])
        return WinogradKernel(k, tile: 4)
    }

    /// (A 5 × 5 kernel's four pieces: V's rows read the input 3 rows down and 3 columns right.)
    @Test(arguments: [(29, 31, 1, 3), (30, 70, 1, 3), (28, 28, 0, 3), (9, 5, 1, 3), (27, 27, 2, 5), (13, 40, 2, 5)])
    func transformsInSwiftAndC(_ shape: (Int, Int, Int, Int)) throws {
        guard cpuHasAVX512 else { return }
        let (height, width, padding, size) = shape
        var w = try Self.kernel(height: height, width: width, padding: padding, filters: 12, seed: 3, size: size)
        #expect(w.tile == 4 && w.points == 36 && w.depth == (size == 3 ? 64 : 256))
        var rng = RandomSource(seed: 5)
        let x = (0..<(64 * height * width)).map { _ in Float(rng.normal()) }
        // Input: V for the whole map, a band of tile rows, in Swift and in C.
        let tiles = w.tileRows * w.tilesAcross, count = 36 * w.depth * tiles
        for rows in [0..<w.tileRows, (w.tileRows / 2)..<w.tileRows] {
            var results: [[Float]] = []
            let bandTiles = rows.count * w.tilesAcross
            for inC in [false, true] {
                var v = [Float](repeating: 999, count: count + 64)
                x.withUnsafeBufferPointer { xp in
                    v.withUnsafeMutableBufferPointer {
                        w.transformInput(xp.baseAddress!, into: $0.baseAddress!, firstTileRow: rows.lowerBound, tileRows: rows.count, inC: inC)
                    }
                }
                #expect(v[(36 * w.depth * bandTiles)...].allSatisfy { $0 == 999 }, "\(shape) in C \(inC): V written past the band")
                #expect(!v[0..<(36 * w.depth * bandTiles)].contains(999), "\(shape) in C \(inC): a value of V not written")
                results.append(Array(v[0..<(36 * w.depth * bandTiles)]))
            }
            let top = results[0].map(abs).max()!
            let worst = zip(results[0], results[1]).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-6 * top, "\(shape), tile rows \(rows): V in Swift and C differ by \(worst) of \(top)")
        }
        // Output: y from random M, scaled, with the bias, with and without the ReLU; nothing
        // written past the map.
        w.scale = (0..<12).map { _ in Float(rng.normal()) }
        let m = (0..<(36 * 12 * tiles)).map { _ in Float(rng.normal()) }
        let out = 12 * w.outHeight * w.outWidth
        for relu in [false, true] {
            w.relu = relu
            let both = w.outputsInSwiftAndC(m, count: out), results = both.map(\.y)
            for (inC, (y, untouched)) in zip([false, true], both) {
                #expect(untouched, "\(shape) in C \(inC): written past the map")
                #expect(!y.contains(777), "\(shape) in C \(inC): an output not written")
            }
            let top = results[0].map(abs).max()!
            let worst = zip(results[0], results[1]).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-6 * top, "\(shape), relu \(relu): y in Swift and C differ by \(worst) of \(top)")
            if relu { #expect(results[1].allSatisfy { $0 >= 0 }) }
        }
    }

    /// Stride 2 (the phases' form): its AVX-512 transforms against the matrices' in Swift, on
    /// maps whose last tiles reach past the right and bottom edges, with and without padding, more
    /// than 16 tiles across.
    @Test(arguments: [(29, 31, 1), (28, 70, 1), (30, 33, 0), (27, 27, 0)])
    func stridedTransformsInSwiftAndC(_ shape: (Int, Int, Int)) throws {
        guard cpuHasAVX512 else { return }
        let (height, width, padding) = shape
        var b = NetworkBuilder("w", input: [64, height, width])
        b.conv("c", filters: 40, kernel: 3, stride: 2, padding: padding, rounding: .floor)
        let model = try Model.randomlyInitialised(b.build(), seed: 4)
        guard case .convolution(let conv) = model.layerInfos[0].layer.kind else { throw ZooError("no convolution") }
        let k = ConvolutionKernel(conv, info: model.layerInfos[0], kernel: model.parameters["c"]!["kernel"]!, bias: model.parameters["c"]!["bias"])
        var w = WinogradKernel(k)
        #expect(w.convolutionStride == 2 && w.tile == 2 && w.points == 25 && w.depth == 64)
        var rng = RandomSource(seed: 6)
        let x = (0..<(64 * height * width)).map { _ in Float(rng.normal()) }
        let tiles = w.tileRows * w.tilesAcross, count = 25 * 64 * tiles
        var results: [[Float]] = []
        for inC in [false, true] {
            var v = [Float](repeating: 999, count: count + 64)
            x.withUnsafeBufferPointer { xp in
                v.withUnsafeMutableBufferPointer { w.transformInput(xp.baseAddress!, into: $0.baseAddress!, firstTileRow: 0, tileRows: w.tileRows, inC: inC) }
            }
            #expect(v[count...].allSatisfy { $0 == 999 }, "\(shape) in C \(inC): V written past its end")
            #expect(!v[0..<count].contains(999), "\(shape) in C \(inC): a value of V not written")
            results.append(Array(v[0..<count]))
        }
        let top = results[0].map(abs).max()!
        #expect(zip(results[0], results[1]).map { abs($0 - $1) }.max()! <= 1e-6 * top, "\(shape): V in Swift and C differ")
        w.scale = (0..<40).map { _ in Float(rng.normal()) }
        let m = (0..<(25 * 40 * tiles)).map { _ in Float(rng.normal()) }
        for relu in [false, true] {
            w.relu = relu
            let both = w.outputsInSwiftAndC(m, count: 40 * w.outHeight * w.outWidth), ys = both.map(\.y)
            for (inC, (y, untouched)) in zip([false, true], both) {
                #expect(untouched, "\(shape) in C \(inC): written past the map")
                #expect(!y.contains(777), "\(shape) in C \(inC): an output not written")
            }
            let largest = ys[0].map(abs).max()!
            #expect(zip(ys[0], ys[1]).map { abs($0 - $1) }.max()! <= 1e-6 * largest, "\(shape), relu \(relu): y in Swift and C differ")
        }
    }

    /// Winograd's y = Aᵀ[(G f Gᵀ) ⊙ (Bᵀ d Bᵀᵀ)]A, in Double, for an n × n input block of 1, 2, …
    /// and the 3 × 3 filter 1…9, against the correlation summed directly at `stride`: every output
    /// within 1e-9; returns the top-left output.
    static func checkCorrelation(_ m: (bt: [[Double]], g: [[Double]], at: [[Double]]), stride: Int) -> Double {
        let (bt, g, at) = m, n = bt.count, outputs = at.count
        let d = (0..<n).map { i in (0..<n).map { j in Double(n * i + j + 1) } }
        let f = (0..<3).map { i in (0..<3).map { j in Double(3 * i + j + 1) } }
        func mul(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
            a.map { row in (0..<b[0].count).map { j in zip(row, b).reduce(0) { $0 + $1.0 * $1.1[j] } } }
        }
        func t(_ a: [[Double]]) -> [[Double]] { (0..<a[0].count).map { j in a.map { $0[j] } } }
        let u = mul(mul(g, f), t(g)), v = mul(mul(bt, d), t(bt))
        let y = mul(mul(at, zip(u, v).map { zip($0, $1).map(*) }), t(at))
        for i in 0..<outputs {
            for j in 0..<outputs {
                var direct = 0.0
                for a in 0..<3 { for b in 0..<3 { direct += d[stride * i + a][stride * j + b] * f[a][b] } }
                #expect(abs(y[i][j] - direct) < 1e-9, "(\(i), \(j)): \(y[i][j]) against \(direct)")
            }
        }
        return y[0][0]
    }

    /// The stride-2 form by its matrices: a 5 × 5 input block of 1…25 and the 3 × 3 filter 1…9
    /// give their correlation at stride 2 (411 at the top left: 1 + 4 + 9, + 24 + 35 + 48, + 77 +
    /// 96 + 117, row by row), from 25 products against 36.
    @Test func stridedMatricesGiveTheCorrelation() {
        #expect(abs(Self.checkCorrelation(WinogradKernel.matrices(tile: 2, stride: 2), stride: 2) - 411) < 1e-9)
    }

    /// F(4×4, 3×3) by its matrices: a 6×6 input block of 1…36 and the 3×3 filter 1…9 give their
    /// 4×4 correlation (474 at the top left: 1 + 4 + 9 + 28 + 40 + 54 + 91 + 112 + 135).
    @Test func matricesGiveTheCorrelation() {
        #expect(abs(Self.checkCorrelation(WinogradKernel.matrices(tile: 4), stride: 1) - 474) < 1e-9)
    }

    /// Which tile a layer takes: F(4×4) on maps of 28 × 28 and more with U within 4M values where
    /// AVX-512 runs, F(2×2) otherwise; below 64 channels, F(4×4) or nothing.
    @Test func tileChoice() throws {
        func kernel(_ input: [Int], filters: Int, size: Int = 3, stride: Int = 1) throws -> ConvolutionKernel? {
            var b = NetworkBuilder("w", input: input)
            b.conv("c", filters: filters, kernel: size, stride: stride, padding: size / 2, rounding: .floor)
            let model = try Model.randomlyInitialised(b.build(), seed: 1)
            guard case .convolution(let conv) = model.layerInfos[0].layer.kind else { return nil }
            return ConvolutionKernel(conv, info: model.layerInfos[0], kernel: model.parameters["c"]!["kernel"]!, bias: nil)
        }
        func tile(_ input: [Int], filters: Int) throws -> Int {
            try kernel(input, filters: filters).map { WinogradKernel.tile(for: $0, zooGEMM: true) } ?? 0
        }
        let big = cpuHasAVX512 && !WinogradKernel.onlySmallTiles ? 4 : 2
        #expect(try tile([64, 56, 56], filters: 64) == big)       // ResNet-50's conv2_x
        #expect(try tile([128, 28, 28], filters: 128) == big)     // conv3_x
        #expect(try tile([256, 14, 14], filters: 256) == 2)       // conv4_x: 16 tiles per image
        #expect(try tile([512, 28, 28], filters: 512) == 2)       // VGG-16's conv4_x: U 9.4M values
        #expect(try tile([256, 56, 56], filters: 256) == big)     // VGG-16's conv3_x
        // Fewer than 64 channels: Winograd only as F(4×4) (GoogLeNet's 28 × 28 third branches).
        let thin = try #require(try kernel([32, 28, 28], filters: 96)), thinSmall = try #require(try kernel([32, 14, 14], filters: 96))
        #expect(WinogradKernel.applies(to: thin, zooGEMM: true) == (big == 4))
        #expect(!WinogradKernel.applies(to: thinSmall, zooGEMM: true))
        #expect(!WinogradKernel.applies(to: thin, zooGEMM: false))
        // Larger kernels as F(4×4)'s 3 × 3 pieces: AlexNet's conv2 (27 × 27, 64 → 192, 5 × 5), a
        // 6 × 6 one; not 7 × 7 (nine pieces' rounding), not strided, not below 16 channels, not on 7 × 7
        // maps, not without Zoo's GEMM.
        let alexnet = try #require(try kernel([64, 27, 27], filters: 192, size: 5))
        #expect(WinogradKernel.applies(to: alexnet, zooGEMM: true) == (big == 4))
        #expect(!WinogradKernel.applies(to: alexnet, zooGEMM: false))
        #expect(WinogradKernel.applies(to: try #require(try kernel([32, 20, 20], filters: 32, size: 6)), zooGEMM: true) == (big == 4))
        #expect(!WinogradKernel.applies(to: try #require(try kernel([32, 20, 20], filters: 32, size: 7)), zooGEMM: true))
        #expect(!WinogradKernel.applies(to: try #require(try kernel([64, 27, 27], filters: 192, size: 5, stride: 2)), zooGEMM: true))
        #expect(!WinogradKernel.applies(to: try #require(try kernel([8, 27, 27], filters: 192, size: 5)), zooGEMM: true))
        #expect(!WinogradKernel.applies(to: try #require(try kernel([32, 27, 27], filters: 64, size: 9)), zooGEMM: true))
        #expect(!WinogradKernel.applies(to: try #require(try kernel([48, 7, 7], filters: 128, size: 5)), zooGEMM: true))  // inception 5b: 4 tiles
        if big == 4 { #expect(WinogradKernel(alexnet, zooGEMM: true).depth == 4 * 64) }
        // Stride 2 (3 × 3): ResNet-50 v1.5's conv3_1 and conv4_1 conv_b, where AVX-512 runs; not
        // conv5_1's (U 6.5M values), not 7 × 7 outputs, not 16 filters, not without Zoo's GEMM.
        let conv3 = try #require(try kernel([128, 56, 56], filters: 128, stride: 2))
        #expect(WinogradKernel.applies(to: conv3, zooGEMM: true) == (big == 4))
        #expect(!WinogradKernel.applies(to: conv3, zooGEMM: false))
        #expect(WinogradKernel.applies(to: try #require(try kernel([256, 28, 28], filters: 256, stride: 2)), zooGEMM: true) == (big == 4))
        #expect(!WinogradKernel.applies(to: try #require(try kernel([512, 14, 14], filters: 512, stride: 2)), zooGEMM: true))
        #expect(!WinogradKernel.applies(to: try #require(try kernel([256, 14, 14], filters: 256, stride: 2)), zooGEMM: true))
        #expect(!WinogradKernel.applies(to: try #require(try kernel([128, 56, 56], filters: 16, stride: 2)), zooGEMM: true))
    }
}

extension WinogradKernel {
    /// The output transform of `m` (all tile rows) by Swift's code and by C's, each into `out`
    /// floats with 64 more after them, all 777 beforehand: each one's outputs, and whether the 64
    /// past them are still 777 (nothing written past the map).
    func outputsInSwiftAndC(_ m: [Float], count out: Int) -> [(y: [Float], untouched: Bool)] {
        [false, true].map { inC in
            var y = [Float](repeating: 777, count: out + 64)
            m.withUnsafeBufferPointer { mp in
                y.withUnsafeMutableBufferPointer { transformOutput(mp.baseAddress!, into: $0.baseAddress!, firstTileRow: 0, tileRows: tileRows, inC: inC) }
            }
            return (Array(y[0..<out]), y[out...].allSatisfy { $0 == 777 })
        }
    }
}
