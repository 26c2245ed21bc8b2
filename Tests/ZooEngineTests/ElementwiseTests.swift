import Foundation
import Testing
import ZooCore
@testable import ZooEngine

/// The vectorised tanh against libm's `tanhf`, on a fine grid and at the branch points.
struct ElementwiseTests {
    @Test func tanhMatchesLibm() {
        var xs = stride(from: Float(-12), through: 12, by: 0.0007).map { $0 }
        xs += [0, -0, 0.4, -0.4, 0.399_999_98, 0.400_000_02, 9, -9, 8.999_999, 1e-30, -1e-30, 100, -100, .leastNonzeroMagnitude]
        var ys = [Float](repeating: .nan, count: xs.count)
        Elementwise.tanh(xs, &ys, count: xs.count)
        var worst: Float = 0, at: Float = 0
        for (x, y) in zip(xs, ys) {
            let e = abs(y - tanhf(x))
            if e > worst { worst = e; at = x }
        }
        #expect(worst <= 2.4e-7, "max |tanh − tanhf| = \(worst) at \(at)")
        // Odd, and exact where tanh is exactly 0 or saturates.
        #expect(ys[xs.count - 3] == 1 && ys[xs.count - 2] == -1 && ys[xs.count - 5] == 1e-30)
        var scaled = [Float](repeating: 0, count: 3)
        Elementwise.tanh([1, -1, 0.3], &scaled, count: 3, a: 1.7159, s: 2.0 / 3)
        for (v, x) in zip(scaled, [Float(1), -1, 0.3]) { #expect(abs(v - 1.7159 * tanhf(2.0 / 3 * x)) < 5e-7) }
    }
}

/// Max pooling 3 wide with stride 1 or 2 (its own vectorised path) against windows taken by hand,
/// on maps wide enough for the 8- and 16-wide loads and odd enough for every remainder and
/// clipped window (ceil rounding, padding).
struct MaxPoolTests {
    @Test(arguments: [(37, 41, 2, 0, true), (37, 41, 2, 1, true), (36, 40, 2, 1, false), (19, 35, 1, 1, false), (20, 33, 1, 0, false),
                      (112, 112, 2, 0, true), (7, 7, 1, 1, false), (2, 2, 1, 1, false), (28, 28, 1, 1, true)])
    func threeWideWindowsMatchByHand(_ c: (Int, Int, Int, Int, Bool)) throws {
        let (h, w, stride, padding, ceil) = c
        var b = NetworkBuilder("pool", input: [3, h, w])
        b.maxPool("p", kernel: 3, stride: stride, padding: padding, rounding: ceil ? .ceil : .floor)
        let model = try Model.randomlyInitialised(b.build(), seed: 1)
        let info = model.layerInfos[0]
        var rng = RandomSource(seed: UInt64(h * w))
        let x = (0..<(3 * h * w)).map { _ in Float(rng.normal()) }
        for threads in [1, 2] {
            let y = try Engine(model: model, threads: threads).run(Tensor(shape: [1, 3, h, w], data: x))["p"]!
            let (oh, ow) = (info.output.height, info.output.width)
            #expect(y.shape == [1, 3, oh, ow])
            for ch in 0..<3 {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var m = -Float.infinity
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let yy = oy * stride - padding + ky, xx = ox * stride - padding + kx
                                if yy >= 0 && yy < h && xx >= 0 && xx < w { m = max(m, x[(ch * h + yy) * w + xx]) }
                            }
                        }
                        #expect(y.data[(ch * oh + oy) * ow + ox] == m, "\(c) at \(ch), \(oy), \(ox)")
                    }
                }
            }
        }
    }

}

struct AveragePoolTests {
    /// Global average pooling, in Swift and in C, against the mean in Double; and an average pool
    /// whose window is the whole map (GoogLeNet's pool5), which takes the same path.
    @Test(arguments: [(5, 49), (3, 1), (2, 17), (4, 196)])
    func globalAverageIsTheMean(_ shape: (Int, Int)) throws {
        let (channels, side) = (shape.0, shape.1)
        var b = NetworkBuilder("gap", input: [channels, side, 1])
        b.add("g", .globalAveragePooling)
        let info = try Model.randomlyInitialised(b.build(), seed: 1).layerInfos[0]
        var rng = RandomSource(seed: UInt64(side))
        let x = (0..<(channels * side)).map { _ in Float(rng.normal()) }
        for inC in PackedMatrices.available ? [false, true] : [false] {
            var y = [Float](repeating: 7, count: channels)
            Kernels.globalAverage(info: info, x, &y, inC: inC)
            for c in 0..<channels {
                let mean = x[(c * side)..<((c + 1) * side)].reduce(0.0) { $0 + Double($1) } / Double(side)
                #expect(abs(Double(y[c]) - mean) <= 1e-6, "\(shape), in C \(inC): channel \(c)")
            }
        }
        // The same as an average pool whose window is the map, through the engine.
        var pool = NetworkBuilder("pool", input: [channels, side, 1])
        pool.add("p", .pooling(Pooling(mode: .average, kernel: Size2(side, 1))))
        let model = try Model.randomlyInitialised(pool.build(), seed: 1)
        let y = try Engine(model: model, threads: 1).run(Tensor(shape: [1, channels, side, 1], data: x))["p"]!
        #expect(y.shape == [1, channels, 1, 1])
        for c in 0..<channels {
            let mean = x[(c * side)..<((c + 1) * side)].reduce(0.0) { $0 + Double($1) } / Double(side)
            #expect(abs(Double(y.data[c]) - mean) <= 1e-6, "\(shape), pooling: channel \(c)")
        }
    }
}
