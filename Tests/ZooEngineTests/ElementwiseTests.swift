import Foundation
import Testing
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
