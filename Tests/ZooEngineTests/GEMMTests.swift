import Testing
import CZooGEMM
import ZooCore
@testable import ZooEngine

/// Zoo's own GEMM (Sources/CZooGEMM, AVX-512): against products summed in Double, on shapes that
/// hit every edge of its blocking (rows past a panel of 8, columns past a tile of 48 or a vector of
/// 16, K past a block of 256), and convolutions through it against the same convolutions through
/// OpenBLAS. Skipped on CPUs without AVX-512, where the engine does not use it.
@Suite(.enabled(if: PackedMatrices.available))
struct GEMMTests {
    /// C = A·B (+ bias, ReLU) in Double, rows `rows`, C's columns in segments as `zoo_gemm` writes them.
    static func reference(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, rows: Range<Int>, bias: [Float]?, relu: Bool,
                          segment: Int, stride: Int, ldc: Int, into c: inout [Float]) {
        for i in rows {
            for j in 0..<n {
                var sum = Double(bias?[i] ?? 0)
                for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                if relu { sum = max(sum, 0) }
                c[(j / segment) * stride + i * ldc + j % segment] = Float(sum)
            }
        }
    }

    @Test(arguments: [
        (1, 1, 1), (7, 15, 5), (8, 16, 256), (9, 17, 257), (17, 47, 300), (13, 48, 64), (64, 49, 600), (20, 100, 27), (33, 97, 513), (5, 3, 0),
        (20, 1100, 64), (70, 1500, 200),  // panel order: K ≤ 256, ≥ 1024 columns, chunks of 384
        (1500, 60, 300),  // many rows: C in column chunks of 48 and 12
        (1100, 49, 300),  // a 7 × 7 map's 49 columns in one tile (3 vectors and a column) and one chunk
        (600, 196, 300), (40, 196, 100),  // 196 columns as four such tiles, in chunks of 98 and of 196
    ])
    func matchesProductsInDouble(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        var rng = RandomSource(seed: UInt64(m * 1000 + n * 10 + k))
        let a = (0..<(m * k)).map { _ in Float(rng.normal()) }, b = (0..<(k * n)).map { _ in Float(rng.normal()) }
        let bias = (0..<m).map { _ in Float(rng.normal()) }
        let packed = PackedMatrices(a, count: 1, rows: m, depth: k)
        // The whole matrix; with bias and ReLU; a share of rows starting on a panel (as threads take
        // them); C as segments of a few columns each (several images' outputs).
        let segment = max(1, n / 3), segments = (n + segment - 1) / segment
        let cases: [(rows: Range<Int>, bias: [Float]?, relu: Bool, segment: Int)] = [
            (0..<m, nil, false, n), (0..<m, bias, true, n), (min(8, m)..<m, bias, false, n), (0..<m, bias, true, segment),
        ]
        for t in cases {
            let stride = m * segment, ldc = t.segment == n ? n : segment
            let size = t.segment == n ? m * n : segments * stride
            var expected = [Float](repeating: -7, count: size)
            Self.reference(a, b, m: m, n: n, k: k, rows: t.rows, bias: t.bias, relu: t.relu, segment: t.segment, stride: stride, ldc: ldc, into: &expected)
            let c = UnsafeMutablePointer<Float>.allocate(capacity: size), bp = UnsafeMutablePointer<Float>.allocate(capacity: max(1, b.count))
            let shift = UnsafeMutablePointer<Float>.allocate(capacity: m)
            defer { c.deallocate(); bp.deallocate(); shift.deallocate() }
            c.initialize(repeating: -7, count: size)
            bp.initialize(from: b, count: b.count)
            shift.initialize(from: bias, count: m)
            packed.multiply(0, rows: t.rows, columns: n, segment: t.segment, stride: stride, bp, ldb: n, c, ldc: ldc,
                            bias: t.bias == nil ? nil : UnsafePointer(shift), relu: t.relu)
            let got = Array(UnsafeBufferPointer(start: c, count: size))
            let scale = max(1, expected.map(abs).max()!)
            let worst = zip(expected, got).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5 * scale, "\(m)×\(n)×\(k), rows \(t.rows), bias \(t.bias != nil), relu \(t.relu), segment \(t.segment): off by \(worst)")
            // Nothing outside the requested rows is written (-7 stays).
            for i in 0..<m where !t.rows.contains(i) {
                for j in 0..<n { #expect(got[(j / t.segment) * stride + i * ldc + j % t.segment] == -7) }
            }
        }
    }

    /// Two 7 × 7 maps side by side (segments of 49 columns, each one tile of three vectors and a
    /// column), with the bias, a residual addend and the ReLU, over two K blocks, for all rows and
    /// for a share starting past the first panel.
    @Test func sevenBySevenMapsWithAddend() throws {
        try #require(PackedMatrices.available)
        let (m, k, segment, maps) = (21, 300, 49, 2)
        let n = segment * maps, stride = m * segment
        var rng = RandomSource(seed: 49)
        let a = (0..<(m * k)).map { _ in Float(rng.normal()) }, b = (0..<(k * n)).map { _ in Float(rng.normal()) }
        let bias = (0..<m).map { _ in Float(rng.normal()) }, addend = (0..<(maps * stride)).map { _ in Float(rng.normal()) }
        let packed = PackedMatrices(a, count: 1, rows: m, depth: k)
        for (first, count) in [(0, m), (8, m - 8)] {
            var c = [Float](repeating: -7, count: maps * stride)
            c.withUnsafeMutableBufferPointer { cp in
                zoo_gemm(packed.pointer, Int32(m), Int32(k), Int32(first), Int32(count), Int32(n), Int32(segment), stride, b, n,
                         cp.baseAddress!, segment, bias, addend, 1)
            }
            for map in 0..<maps {
                for i in 0..<m {
                    for j in 0..<segment {
                        let got = c[map * stride + i * segment + j]
                        guard (first..<(first + count)).contains(i) else { #expect(got == -7); continue }
                        var sum = Double(bias[i]) + Double(addend[map * stride + i * segment + j])
                        for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + map * segment + j]) }
                        sum = max(sum, 0)
                        #expect(abs(Double(got) - sum) <= 1e-5 * max(1, abs(sum)), "map \(map) row \(i) column \(j): \(got) vs \(sum)")
                    }
                }
            }
        }
    }

    /// Each row's sum times its scale before the bias and the residual addend (a batch norm folded
    /// into shared filters, `zoo_gemm_scaled`), then the ReLU: over several K blocks (the scale
    /// only once, on the total), in the panel order (one K block, many columns), in 49-column
    /// tiles, for all rows and for a share starting past the first panel.
    @Test(arguments: [(21, 300, 98, 49), (19, 40, 1100, 1100), (13, 600, 70, 70)])
    func scaledSumsBeforeBiasAndAddend(_ shape: (Int, Int, Int, Int)) {
        let (m, k, n, segment) = shape
        let stride = m * segment, size = (n / segment) * stride
        var rng = RandomSource(seed: UInt64(m * k))
        let a = (0..<(m * k)).map { _ in Float(rng.normal()) }, b = (0..<(k * n)).map { _ in Float(rng.normal()) }
        let scale = (0..<m).map { _ in Float(rng.normal()) }, bias = (0..<m).map { _ in Float(rng.normal()) }
        let addend = (0..<size).map { _ in Float(rng.normal()) }
        let packed = PackedMatrices(a, count: 1, rows: m, depth: k)
        for (first, count) in [(0, m), (8, m - 8)] {
            var c = [Float](repeating: -7, count: size)
            c.withUnsafeMutableBufferPointer { cp in
                zoo_gemm_scaled(packed.pointer, Int32(m), Int32(k), Int32(first), Int32(count), Int32(n), Int32(segment), stride, b, n,
                                cp.baseAddress!, segment, scale, bias, addend, 1)
            }
            var worst = 0.0, top = 1.0
            for j in 0..<n {
                for i in 0..<m {
                    let at = (j / segment) * stride + i * segment + j % segment
                    guard (first..<(first + count)).contains(i) else { #expect(c[at] == -7); continue }
                    var sum = 0.0
                    for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                    let expected = max(sum * Double(scale[i]) + Double(bias[i]) + Double(addend[at]), 0)
                    worst = max(worst, abs(Double(c[at]) - expected))
                    top = max(top, abs(expected))
                }
            }
            // Relative to the largest output, as the fixtures are compared.
            #expect(worst <= 1e-5 * top, "\(shape), rows from \(first): off by \(worst) (largest \(top))")
        }
    }

    /// The panel order with many small segments (several 4 × 4 maps' outputs): more tiles per chunk
    /// than it holds at once.
    @Test func panelOrderWithManySmallSegments() {
        let (m, n, k, segment) = (19, 17 * 70, 40, 17)
        var rng = RandomSource(seed: 12)
        let a = (0..<(m * k)).map { _ in Float(rng.normal()) }, b = (0..<(k * n)).map { _ in Float(rng.normal()) }
        let packed = PackedMatrices(a, count: 1, rows: m, depth: k)
        let stride = m * segment, size = (n / segment) * stride
        var expected = [Float](repeating: -7, count: size)
        Self.reference(a, b, m: m, n: n, k: k, rows: 0..<m, bias: nil, relu: false, segment: segment, stride: stride, ldc: segment, into: &expected)
        var got = [Float](repeating: -7, count: size)
        b.withUnsafeBufferPointer { bp in
            got.withUnsafeMutableBufferPointer { c in
                packed.multiply(0, rows: 0..<m, columns: n, segment: segment, stride: stride, bp.baseAddress!, ldb: n, c.baseAddress!, ldc: segment)
            }
        }
        let worst = zip(expected, got).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * expected.map(abs).max()!, "off by \(worst)")
    }

    /// The same convolution prepared for Zoo's GEMM and for OpenBLAS: every way of sharing (one
    /// thread, images, row bands, filters), several images per GEMM, groups, 1×1, strides, padding,
    /// filter counts that are not multiples of 8, and a Winograd layer (U packed or not).
    @Test func convolutionsMatchOpenBLAS() throws {
        var modes = Set<String>()
        let cases: [(input: [Int], filters: Int, kernel: Int, stride: Int, padding: Int, groups: Int)] = [
            ([3, 23, 21], 20, 5, 2, 2, 1),   // a first layer: K = 75
            ([16, 9, 9], 13, 1, 1, 0, 1),    // 1×1: the input is B
            ([12, 10, 10], 18, 3, 1, 1, 2),  // grouped
            ([8, 5, 5], 72, 3, 1, 1, 1),     // small map, many filters: shares filters
            ([24, 9, 11], 40, 3, 1, 1, 1),   // Winograd
            ([64, 5, 5], 24, 3, 2, 1, 1),    // 3×3 output from stride 2
        ]
        for c in cases {
            var builder = NetworkBuilder("g", input: c.input)
            builder.conv("c", filters: c.filters, kernel: c.kernel, stride: c.stride, padding: c.padding, groups: c.groups)
            let model = try Model.randomlyInitialised(builder.build(), seed: 3)
            let info = model.layerInfos[0]
            guard case .convolution(let conv) = info.layer.kind else { Issue.record("no convolution"); return }
            let p = model.parameters["c"]!
            for relu in [false, true] {
                var zoo = ConvolutionKernel(conv, info: info, kernel: p["kernel"]!, bias: p["bias"]), blas = zoo
                zoo.relu = relu; blas.relu = relu
                zoo.prepare(zooGEMM: true)
                blas.prepare(zooGEMM: false)
                #expect(zoo.packed != nil || zoo.winograd?.packed != nil, "\(c.input): Zoo's GEMM in use")
                #expect(blas.packed == nil && blas.winograd?.packed == nil)
                for threads in [1, 2, 3] {
                    for batch in [1, 2, 5] {
                        modes.insert("\(zoo.sharing(batch: batch, threads: threads))")
                        var rng = RandomSource(seed: UInt64(100 * threads + batch))
                        let x = (0..<(batch * c.input.reduce(1, *))).map { _ in Float(rng.normal()) }
                        let expected = Self.convolve(blas, x, batch: batch, threads: threads)
                        let got = Self.convolve(zoo, x, batch: batch, threads: threads)
                        let scale = expected.map(abs).max()!
                        let worst = zip(expected, got).map { abs($0 - $1) }.max()!
                        #expect(worst <= 1e-5 * scale, "\(c), relu \(relu), \(threads) threads, batch \(batch): off by \(worst) of \(scale)")
                    }
                }
            }
        }
        #expect(modes.isSuperset(of: ["single", "images", "rows", "filters"]), "modes exercised: \(modes)")
    }

    /// Fully-connected layers at batch > 1 through Zoo's kernels (dot products up to 16 samples, the
    /// GEMM with W read in place beyond) against OpenBLAS.
    @Test(arguments: [(37, 13, 2), (300, 70, 5), (50, 33, 8), (1000, 2100, 16), (64, 3000, 17)])
    func denseMatchesOpenBLAS(shape: (Int, Int, Int)) {
        let (outputs, inputs, batch) = shape
        var rng = RandomSource(seed: UInt64(outputs + inputs + batch))
        let w = (0..<(outputs * inputs)).map { _ in Float(rng.normal()) }, b = (0..<outputs).map { _ in Float(rng.normal()) }
        let x = (0..<(batch * inputs)).map { _ in Float(rng.normal()) }
        for threads in [1, 2] {
            for bias in [nil, b] {
                func run(_ zoo: Bool) -> [Float] {
                    var y = [Float](repeating: 0, count: batch * outputs)
                    Engine.exclusive(threads: 1) {
                        y.withUnsafeMutableBufferPointer { yp in
                            Kernels.dense(weights: w, bias: bias, inputs: inputs, outputs: outputs, batch: batch, x, yp.baseAddress!, threads: threads, zooGEMM: zoo)
                        }
                    }
                    return y
                }
                let expected = run(false), got = run(true)
                let scale = expected.map(abs).max()!
                let worst = zip(expected, got).map { abs($0 - $1) }.max()!
                #expect(worst <= 1e-5 * scale, "\(shape), \(threads) threads, bias \(bias != nil): off by \(worst)")
            }
        }
    }

    /// The dot-product kernel for fully-connected layers at small batches, against sums in Double:
    /// every group width (1–8 samples, and 9–16 in two groups), row counts that leave a partial
    /// group of rows, a first row past 0, k with and without a tail of fewer than 16.
    @Test func denseDotsAgainstDoubleSums() throws {
        try #require(PackedMatrices.available)
        var rng = RandomSource(seed: 7)
        for (rows, k) in [(23, 45), (8, 16), (13, 100)] {
            let w = (0..<(rows * k)).map { _ in Float(rng.normal()) }, bias = (0..<rows).map { _ in Float(rng.normal()) }
            for n in 1...16 {
                let x = (0..<(n * k)).map { _ in Float(rng.normal()) }
                for (first, count) in [(0, rows), (3, rows - 5)] {
                    for useBias in [false, true] {
                        var y = [Float](repeating: .nan, count: n * rows)
                        y.withUnsafeMutableBufferPointer { yp in
                            bias.withUnsafeBufferPointer { bp in
                                zoo_dense_dots(w, k, Int32(k), Int32(first), Int32(count), x, k, Int32(n), yp.baseAddress!, rows,
                                               useBias ? bp.baseAddress! : nil)
                            }
                        }
                        for j in 0..<n {
                            for i in 0..<rows {
                                let got = y[j * rows + i]
                                guard (first..<(first + count)).contains(i) else {
                                    #expect(got.isNaN, "row \(i) outside the share was written (n \(n))")
                                    continue
                                }
                                var sum = useBias ? Double(bias[i]) : 0
                                for t in 0..<k { sum += Double(w[i * k + t]) * Double(x[j * k + t]) }
                                #expect(abs(Double(got) - sum) <= 1e-5 * max(1, abs(sum)), "rows \(rows) k \(k) n \(n) row \(i) sample \(j): \(got) vs \(sum)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs `k` as the engine does: workspaces per thread, holding the BLAS lock.
    static func convolve(_ k: ConvolutionKernel, _ x: [Float], batch: Int, threads: Int) -> [Float] {
        let out = batch * k.filters * k.outHeight * k.outWidth
        let y = UnsafeMutablePointer<Float>.allocate(capacity: out)
        defer { y.deallocate() }
        let spaces = (0..<threads).map { _ in
            UnsafeMutablePointer<Float>.allocate(capacity: max(1, k.workspacePerThread(batch: batch, threads: threads), k.workspaceOnOneThread(batch: batch, sizing: threads)))
        }
        defer { spaces.forEach { $0.deallocate() } }
        Engine.exclusive(threads: 1) {
            x.withUnsafeBufferPointer { k.run(batch: batch, threads: threads, $0.baseAddress!, y, workspaces: spaces) }
        }
        return Array(UnsafeBufferPointer(start: y, count: out))
    }
}

/// Convolutions against the direct sum in Double (independent of im2col and of any GEMM), on
/// every CPU: rows wide enough for im2col's vectorised stride-2 gather, a layer whose columns
/// take several bands of output rows (`cacheBand`), and a 5 × 5 layer that Winograd F(4×4, 3×3)
/// runs as four 3 × 3 pieces where AVX-512 does.
struct DirectSumTests {
    @Test(arguments: [
        (3, 19, 37, 16, 5, 2, 2),    // stride 2, wide rows
        (4, 11, 25, 8, 5, 2, 2),     // stride 2, a row's end inside the second of the two loads
        (15, 30, 100, 16, 7, 1, 3),  // 735 × 100 columns per output row: several bands
        (32, 30, 100, 16, 5, 1, 2),  // 5 × 5: Winograd's pieces
        (64, 29, 35, 32, 3, 2, 1),   // 3 × 3 / 2: Winograd's phases (tiles past the map's edges)
    ])
    func convolutionMatchesTheDirectSum(_ shape: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (c, h, w, f, k, stride, pad) = shape
        var builder = NetworkBuilder("direct", input: [c, h, w])
        builder.conv("c", filters: f, kernel: k, stride: stride, padding: pad)
        let model = try Model.randomlyInitialised(builder.build(), seed: 8)
        let kernel = model.parameters["c"]!["kernel"]!.data, bias = model.parameters["c"]!["bias"]!.data
        var rng = RandomSource(seed: 3)
        let x = (0..<(c * h * w)).map { _ in Float(rng.normal()) }
        let info = model.layerInfos[0]
        let (oh, ow) = (info.output.height, info.output.width)
        var expected = [Double](repeating: 0, count: f * oh * ow)
        for o in 0..<f {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum = Double(bias[o])
                    for i in 0..<c {
                        for ky in 0..<k {
                            let yy = oy * stride - pad + ky
                            guard yy >= 0 && yy < h else { continue }
                            for kx in 0..<k {
                                let xx = ox * stride - pad + kx
                                guard xx >= 0 && xx < w else { continue }
                                sum += Double(kernel[((o * c + i) * k + ky) * k + kx]) * Double(x[(i * h + yy) * w + xx])
                            }
                        }
                    }
                    expected[(o * oh + oy) * ow + ox] = sum
                }
            }
        }
        for threads in [1, 2] {
            let y = try Engine(model: model, threads: threads).run(Tensor(shape: [1, c, h, w], data: x))["c"]!.data
            let worst = zip(expected, y).map { abs($0 - Double($1)) }.max()!
            #expect(worst <= 1e-4, "\(shape), \(threads) threads: off by \(worst)")
        }
        if PackedMatrices.enabled {
            guard case .convolution(let conv, _, _) = try Engine(model: model, threads: 1).steps[0].operation else { return }
            if c == 15 { #expect(conv.winograd == nil && conv.rowsPerBand() < oh, "several bands") }
            if c == 32 { #expect((conv.winograd?.depth == 4 * c) == (cpuHasAVX512 && !WinogradKernel.onlySmallTiles), "5 × 5 by Winograd") }
        }
    }
}
