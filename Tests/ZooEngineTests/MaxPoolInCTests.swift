import CZooGEMM
import Testing
import ZooCore
@testable import ZooEngine

/// Max pooling in C: 3-wide windows with column stride 2 (`zoo_max_pool3_stride2`, AlexNet's,
/// GoogLeNet's and ResNet's pools) and 3 × 3 windows with stride 1 and padding 1
/// (`zoo_max_pool3_same`, the inception blocks'), against the maximum taken window by window, and
/// worked by hand.
struct MaxPoolInCTests {
    /// The window maximum, what lies outside the plane skipped (−∞ where nothing is inside).
    static func reference(_ x: [Float], h: Int, w: Int, oh: Int, ow: Int, kh: Int, sh: Int, pt: Int, pl: Int, sw: Int = 2) -> [Float] {
        var y = [Float](repeating: -.infinity, count: oh * ow)
        for oy in 0..<oh {
            for ox in 0..<ow {
                for r in (oy * sh - pt)..<(oy * sh - pt + kh) where r >= 0 && r < h {
                    for c in (sw * ox - pl)..<(sw * ox - pl + 3) where c >= 0 && c < w { y[oy * ow + ox] = max(y[oy * ow + ox], x[r * w + c]) }
                }
            }
        }
        return y
    }

    /// Plane sizes with 1–3 blocks of 16 outputs and a partial one, windows past the right and
    /// bottom edges (ceil rounding), padding on the left and top, any kernel height and row stride.
    @Test func matchesTheWindowMaximum() {
        guard PackedMatrices.available else { return }
        var rng = RandomSource(seed: 7)
        for (h, w) in [(7, 9), (28, 28), (13, 35), (56, 57), (5, 70)] {
            for (kh, sh) in [(3, 2), (1, 1), (2, 3), (5, 2)] {
                for (pt, pl) in [(0, 0), (1, 1), (0, 1), (2, 0)] where pt < kh {
                    let x = (0..<(h * w)).map { _ in Float(rng.normal()) }
                    let oh = (h + pt - 1) / sh + 1, ow = (w + pl - 1) / 2 + 1   // the last window starts inside
                    let expected = Self.reference(x, h: h, w: w, oh: oh, ow: ow, kh: kh, sh: sh, pt: pt, pl: pl)
                    var y = [Float](repeating: .nan, count: oh * ow + 32)
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer {
                            zoo_max_pool3_stride2(xp.baseAddress!, Int32(h), Int32(w), Int32(oh), Int32(ow), Int32(kh), Int32(sh), Int32(pt),
                                                  Int32(pl), $0.baseAddress!)
                        }
                    }
                    #expect(Array(y[0..<(oh * ow)]) == expected, "\(h)×\(w), kernel height \(kh), stride \(sh), padding \(pt), \(pl)")
                    let past = y[(oh * ow)...].filter { !$0.isNaN }.count
                    #expect(past == 0, "\(h)×\(w): written past the output")
                }
            }
        }
    }

    /// 3 × 3, stride 1, padding 1 (`zoo_max_pool3_same`): planes of one row or column, narrower
    /// than a vector (16 lanes spanning several rows), and wider.
    @Test func sameSizeWindowsMatchTheWindowMaximum() {
        guard PackedMatrices.available else { return }
        var rng = RandomSource(seed: 9)
        for (h, w) in [(1, 1), (1, 5), (5, 1), (2, 2), (3, 17), (7, 7), (14, 14), (13, 35), (28, 28)] {
            let x = (0..<(h * w)).map { _ in Float(rng.normal()) }
            let expected = Self.reference(x, h: h, w: w, oh: h, ow: w, kh: 3, sh: 1, pt: 1, pl: 1, sw: 1)
            var y = [Float](repeating: .nan, count: h * w + 32)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { zoo_max_pool3_same(xp.baseAddress!, Int32(h), Int32(w), $0.baseAddress!) } }
            #expect(Array(y[0..<(h * w)]) == expected, "\(h)×\(w)")
            let past = y[(h * w)...].filter { !$0.isNaN }.count
            #expect(past == 0, "\(h)×\(w): written past the output")
        }
    }

    func pool(_ side: Int, kernel: Int, stride: Int, padding: Int, rounding: Rounding) throws -> [Float] {
        var b = NetworkBuilder("t", input: [1, side, side])
        b.maxPool("p", kernel: kernel, stride: stride, padding: padding, rounding: rounding)
        let engine = try Engine(model: try Model(network: b.build(), parameters: [:]), threads: 1)
        let x = Tensor(shape: [1, 1, side, side], data: (0..<(side * side)).map(Float.init))
        return try engine.run(x)["p"]!.data
    }

    /// A plane whose value at (r, c) is side·r + c: each window's maximum is at its last row and
    /// column inside the plane.
    @Test func workedByHand() throws {
        // 5 × 5, 3 × 3 / 2: windows at rows and columns 0–2 and 2–4.
        let inside = try pool(5, kernel: 3, stride: 2, padding: 0, rounding: .exact)
        #expect(inside == [12, 14, 22, 24])
        // 4 × 4, 3 × 3 / 2, padding 1, ceil: windows −1…1, 1…3, 3…5, so last rows and columns 1, 3, 3.
        let padded = try pool(4, kernel: 3, stride: 2, padding: 1, rounding: .ceil)
        #expect(padded == [5, 7, 7, 13, 15, 15, 13, 15, 15])
    }
}
