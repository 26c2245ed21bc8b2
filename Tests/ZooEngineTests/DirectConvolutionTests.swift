import CZooGEMM
import Testing
import ZooCore
@testable import ZooEngine

/// The convolution without im2col (`DirectConvolution`, `zoo_conv_direct`) against the sum in
/// Double: strides 1 to 4 (grids split into phases), dilation, groups, asymmetric padding, maps
/// whose grid is wider than the output (C stored through the column map) and not, several images
/// per call, every way of sharing among threads, a fused addend and ReLU.
struct DirectConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        let input: [Int], filters: Int, kernel: (Int, Int), stride: (Int, Int), dilation: Int, groups: Int
        let pad: (top: Int, bottom: Int, left: Int, right: Int)
        var description: String { "\(input) → \(filters), k \(kernel), s \(stride), d \(dilation), g \(groups), pad \(pad)" }
    }

    static let cases: [Case] = [
        Case(input: [3, 29, 29], filters: 20, kernel: (7, 7), stride: (2, 2), dilation: 1, groups: 1, pad: (3, 3, 3, 3)),  // a first layer
        Case(input: [3, 64, 66], filters: 10, kernel: (7, 7), stride: (2, 2), dilation: 1, groups: 1, pad: (3, 3, 3, 3)),  // panel order
        Case(input: [40, 12, 100], filters: 16, kernel: (3, 3), stride: (1, 1), dilation: 2, groups: 1, pad: (2, 2, 2, 2)),  // by rows
        Case(input: [6, 3, 96], filters: 12, kernel: (3, 3), stride: (1, 1), dilation: 2, groups: 1, pad: (2, 2, 2, 2)),  // by rows, 2 images a call
        Case(input: [3, 35, 39], filters: 16, kernel: (11, 11), stride: (4, 4), dilation: 1, groups: 1, pad: (2, 2, 2, 2)),  // AlexNet's
        Case(input: [6, 13, 13], filters: 24, kernel: (3, 3), stride: (1, 1), dilation: 1, groups: 1, pad: (1, 1, 1, 1)),  // grid 15 wide
        Case(input: [8, 15, 14], filters: 72, kernel: (3, 3), stride: (2, 2), dilation: 1, groups: 1, pad: (1, 1, 1, 1)),  // many filters
        Case(input: [32, 7, 7], filters: 24, kernel: (5, 5), stride: (1, 1), dilation: 1, groups: 1, pad: (2, 2, 2, 2)),  // 4 K blocks
        Case(input: [16, 9, 9], filters: 40, kernel: (1, 1), stride: (2, 2), dilation: 1, groups: 1, pad: (0, 0, 0, 0)),  // one phase
        Case(input: [4, 17, 19], filters: 12, kernel: (3, 3), stride: (1, 1), dilation: 2, groups: 2, pad: (2, 1, 0, 3)),  // dilated, grouped
        Case(input: [5, 20, 70], filters: 9, kernel: (3, 5), stride: (1, 3), dilation: 1, groups: 1, pad: (0, 2, 1, 2)),  // uneven
    ]

    static func model(_ c: Case) throws -> Model {
        var builder = NetworkBuilder("d", input: c.input)
        builder.add("c", .convolution(Convolution(filters: c.filters, kernel: Size2(c.kernel.0, c.kernel.1),
                                                  stride: Size2(c.stride.0, c.stride.1),
                                                  padding: .explicit(top: c.pad.top, bottom: c.pad.bottom, left: c.pad.left, right: c.pad.right),
                                                  dilation: Size2(square: c.dilation), groups: c.groups, rounding: .floor)))
        return try Model.randomlyInitialised(builder.build(), seed: 5)
    }

    /// The case's convolution prepared for Zoo's GEMM.
    static func kernel(_ c: Case) throws -> ConvolutionKernel {
        let model = try model(c)
        let info = model.layerInfos[0]
        guard case .convolution(let conv) = info.layer.kind else { throw ZooError("no convolution") }
        let p = model.parameters["c"]!
        var k = ConvolutionKernel(conv, info: info, kernel: p["kernel"]!, bias: p["bias"])
        k.prepare(zooGEMM: true)
        // Shapes where im2col would be chosen too (the grid's extra columns): both forms must be right.
        if k.direct == nil { k.direct = DirectConvolution(k, always: true) }
        return k
    }

    static func reference(_ c: Case, _ k: ConvolutionKernel, kernel: [Float], bias: [Float], _ x: [Float], batch: Int,
                          addend: [Float]?, relu: Bool) -> [Double] {
        let (ch, h, w) = (c.input[0], c.input[1], c.input[2]), cg = ch / c.groups, fg = c.filters / c.groups
        let (oh, ow) = (k.outHeight, k.outWidth)
        var y = [Double](repeating: 0, count: batch * c.filters * oh * ow)
        for n in 0..<batch {
            for o in 0..<c.filters {
                let g = o / fg
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum = Double(bias[o])
                        for i in 0..<cg {
                            for ky in 0..<c.kernel.0 {
                                let yy = oy * c.stride.0 - c.pad.top + ky * c.dilation
                                guard yy >= 0 && yy < h else { continue }
                                for kx in 0..<c.kernel.1 {
                                    let xx = ox * c.stride.1 - c.pad.left + kx * c.dilation
                                    guard xx >= 0 && xx < w else { continue }
                                    let weight = kernel[((o * cg + i) * c.kernel.0 + ky) * c.kernel.1 + kx]
                                    sum += Double(weight) * Double(x[((n * ch + g * cg + i) * h + yy) * w + xx])
                                }
                            }
                        }
                        let at = ((n * c.filters + o) * oh + oy) * ow + ox
                        if let addend { sum += Double(addend[at]) }
                        y[at] = relu ? max(sum, 0) : sum
                    }
                }
            }
        }
        return y
    }

    @Test(arguments: cases)
    func matchesTheSumInDouble(_ c: Case) throws {
        guard PackedMatrices.available else { return }   // Zoo's GEMM: AVX-512 only
        let model = try Self.model(c)
        let p = model.parameters["c"]!
        var modes = Set<String>()
        for relu in [false, true] {
            var k = try Self.kernel(c)
            k.relu = relu
            try #require(k.direct != nil, "\(c): the direct form applies")
            #expect(k.method == "direct+zoo")
            for threads in [1, 2, 3] {
                for batch in [1, 2, 5] {
                    modes.insert("\(k.sharing(batch: batch, threads: threads))")
                    var rng = RandomSource(seed: UInt64(10 * threads + batch))
                    let x = (0..<(batch * c.input.reduce(1, *))).map { _ in Float(rng.normal()) }
                    let outCount = batch * c.filters * k.outHeight * k.outWidth
                    let addend = relu ? (0..<outCount).map { _ in Float(rng.normal()) } : nil
                    let expected = Self.reference(c, k, kernel: p["kernel"]!.data, bias: p["bias"]!.data, x, batch: batch,
                                                  addend: addend, relu: relu)
                    let got = Self.convolve(k, x, batch: batch, threads: threads, addend: addend)
                    let worst = zip(expected, got).map { abs($0 - Double($1)) }.max()!
                    #expect(worst <= 1e-4, "\(c), relu \(relu), \(threads) threads, batch \(batch): off by \(worst)")
                }
            }
        }
        #expect(modes.isSuperset(of: ["single", "images"]) && (modes.contains("rows") || modes.contains("filters")), "\(c): modes \(modes)")
    }

    /// The cases together take every way of sharing a convolution among threads.
    @Test func casesCoverEverySharing() throws {
        guard PackedMatrices.available else { return }
        var modes = Set<String>()
        for c in Self.cases {
            let k = try Self.kernel(c)
            for threads in [1, 2, 3] { for batch in [1, 2, 5] { modes.insert("\(k.sharing(batch: batch, threads: threads))") } }
        }
        #expect(modes == ["single", "images", "rows", "filters"])
    }

    /// Runs `k` as the engine does (workspaces per thread), with an addend laid out as the output.
    static func convolve(_ k: ConvolutionKernel, _ x: [Float], batch: Int, threads: Int, addend: [Float]?) -> [Float] {
        let out = batch * k.filters * k.outHeight * k.outWidth
        let y = UnsafeMutablePointer<Float>.allocate(capacity: out)
        y.initialize(repeating: .nan, count: out)
        defer { y.deallocate() }
        let spaces = (0..<threads).map { _ in
            UnsafeMutablePointer<Float>.allocate(capacity: max(1, k.workspacePerThread(batch: batch, threads: threads),
                                                               k.workspaceOnOneThread(batch: batch, sizing: threads)))
        }
        defer { spaces.forEach { $0.deallocate() } }
        Engine.exclusive(threads: 1) {
            x.withUnsafeBufferPointer { xp in
                if let addend {
                    addend.withUnsafeBufferPointer { k.run(batch: batch, threads: threads, xp.baseAddress!, y, workspaces: spaces, addend: $0.baseAddress!) }
                } else {
                    k.run(batch: batch, threads: threads, xp.baseAddress!, y, workspaces: spaces)
                }
            }
        }
        return Array(UnsafeBufferPointer(start: y, count: out))
    }

    /// Where the grid's extra columns would cost more than im2col (5 × 5 filters on a 14 × 14 map:
    /// 256 grid columns for 196 outputs), im2col stays.
    @Test func im2colWhereTheGridWastesTooMuch() throws {
        guard PackedMatrices.available else { return }
        var builder = NetworkBuilder("w", input: [8, 14, 14])
        builder.conv("c", filters: 16, kernel: 5, padding: 2)
        let model = try Model.randomlyInitialised(builder.build(), seed: 1)
        guard case .convolution(let conv) = model.layerInfos[0].layer.kind else { return }
        var k = ConvolutionKernel(conv, info: model.layerInfos[0], kernel: model.parameters["c"]!["kernel"]!, bias: nil)
        k.prepare(zooGEMM: true)
        #expect(k.direct == nil && k.method == "im2col+zoo")
    }

    /// The GEMM's FMAs per k and panel, worked by hand: 8 per 16-float vector of a tile (48
    /// columns: 3), 25 for a 7 × 7 map's 49 columns in one tile (only in place, not through a
    /// column map); a 14 × 14 map's 196 as four such tiles from K = 128.
    @Test func gemmCostsByTile() {
        #expect(zoo_gemm_fmas(256, 49, 0) == 25)
        #expect(zoo_gemm_fmas(256, 49, 1) == 32)          // 48 + 1 columns: 3 vectors and 1
        #expect(zoo_gemm_fmas(256, 55, 1) == 32)          // a 7 × 7 output on a grid 8 wide
        #expect(zoo_gemm_fmas(256, 196, 0) == 100)
        #expect(zoo_gemm_fmas(64, 196, 0) == 104)         // K < 128: 4 × 48 + 4 columns, 13 vectors
        #expect(zoo_gemm_fmas(256, 112, 0) == 56)         // 48 + 48 + 16
        #expect(zoo_gemm_fmas(256, 0, 0) == 0)
    }

    /// The choice between the two forms by the GEMM's FMAs: a 3 × 3 / 2 convolution to a 7 × 7 map
    /// (ResNet's conv5_1) runs on a grid 8 wide, 32 FMAs per k against im2col's 25 — im2col; a
    /// 1 × 1 / 2 one to the same map has no wider grid (direct, its C in place); to a 14 × 14 map
    /// the grid costs 112 against 100 — direct.
    @Test func formChosenByTheGEMMsCost() throws {
        guard PackedMatrices.available else { return }
        func method(_ kernel: Int, _ padding: Int, input: Int) throws -> String {
            var builder = NetworkBuilder("s", input: [128, input, input])
            builder.conv("c", filters: 16, kernel: kernel, stride: 2, padding: padding, rounding: .floor)
            let model = try Model.randomlyInitialised(builder.build(), seed: 1)
            guard case .convolution(let conv) = model.layerInfos[0].layer.kind else { return "" }
            var k = ConvolutionKernel(conv, info: model.layerInfos[0], kernel: model.parameters["c"]!["kernel"]!, bias: nil)
            k.prepare(zooGEMM: true)
            return k.method
        }
        #expect(try method(3, 1, input: 14) == "im2col+zoo")
        #expect(try method(1, 0, input: 14) == "direct+zoo")
        #expect(try method(3, 1, input: 28) == "direct+zoo")
    }
}
