import Foundation

/// Element-wise activations over whole buffers, written as plain arithmetic on 8-wide SIMD vectors
/// (no calls into libm per value: `tanhf` was half of LeNet-5's training time).
///
/// tanh(x) for |x| < 0.4 is its odd Taylor series up to x¹⁵ (truncation < 1e-9 relative there); above,
/// 1 − 2/(e^{2|x|} + 1) with e^z = 2^k·p(r), z = k·ln 2 + r, |r| ≤ ln2/2, p the degree-7 Taylor
/// polynomial (relative error < 2e-8 before rounding); |x| ≥ 10 gives ±1 (1 − tanh 10 < 5e-9, less
/// than half Float32's spacing below 1). Measured against `tanhf` over [−12, 12]: max error ≤ 2.4e-7
/// (`ElementwiseTests`).
enum Elementwise {
    typealias V = SIMD8<Float>

    @inline(__always)
    static func exp(_ z: V) -> V {
        // z is in [0, 20] here (2|x| with |x| ≤ 10).
        let log2e: Float = 1.442_695_04, ln2hi: Float = 0.693_145_751_953_125, ln2lo: Float = 1.428_606_765_330_187e-6
        // Round z·log2(e) to an integer k with the 1.5·2²³ trick: adding it leaves k in the low
        // mantissa bits (no float-to-integer conversion, which Swift's SIMD does element by element).
        let magic = V(repeating: 12_582_912)
        let t = z * log2e + magic
        let k = t - magic
        let r = (z - k * ln2hi) - k * ln2lo
        var p = V(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let bits = (unsafeBitCast(t, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: V.self)
    }

    @inline(__always)
    static func tanh(_ x: V) -> V {
        let ax = pointwiseMin(unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: V.self), V(repeating: 10))
        // Large: 1 − 2/(e^{2a} + 1).
        let large = 1 - 2 / (exp(2 * ax) + 1)
        // Small: x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − 1382x¹¹/155925 + 21844x¹³/6081075 − 929569x¹⁵/638512875.
        let x2 = ax * ax
        var s = V(repeating: -929_569.0 / 638_512_875)
        s = s * x2 + 21_844.0 / 6_081_075
        s = s * x2 - 1_382.0 / 155_925
        s = s * x2 + 62.0 / 2_835
        s = s * x2 - 17.0 / 315
        s = s * x2 + 2.0 / 15
        s = s * x2 - 1.0 / 3
        s = s * x2 + 1
        let small = s * ax
        let magnitude = large.replacing(with: small, where: ax .< 0.4)
        return magnitude.replacing(with: -magnitude, where: x .< 0)
    }

    /// y = a·tanh(s·x) for `count` values (a = s = 1: plain tanh). `y` may be `x`.
    static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, a: Float = 1, s: Float = 1) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: a * tanh(s * v), as: V.self)
            i += 8
        }
        if i < count {
            var v = V.zero
            for j in 0..<(count - i) { v[j] = x[i + j] }
            let t = a * tanh(s * v)
            for j in 0..<(count - i) { y[i + j] = t[j] }
        }
    }
}
