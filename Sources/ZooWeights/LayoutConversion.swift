import ZooCore

/// Layout changes between the frameworks' conventions and Zoo's (convolution OIHW, dense (out, in),
/// flatten in C, H, W order). Each function makes the one copy a layout change needs.
public enum LayoutConversion {
    /// A Keras/TensorFlow convolution kernel `[kh, kw, in, out]` (HWIO) → OIHW `[out, in, kh, kw]`.
    public static func oihw(fromHWIO source: [Float], shape: [Int]) -> [Float] {
        precondition(shape.count == 4 && source.count == shape.reduce(1, *))
        let (kh, kw, ci, co) = (shape[0], shape[1], shape[2], shape[3])
        var out = [Float](repeating: 0, count: source.count)
        source.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for y in 0..<kh { for x in 0..<kw { for i in 0..<ci {
                    let row = ((y * kw + x) * ci + i) * co
                    for j in 0..<co { o[((j * ci + i) * kh + y) * kw + x] = s[row + j] }
                } } }
            }
        }
        return out
    }

    /// A Keras dense kernel `[in, out]` → Zoo's `[out, in]`. When the dense layer reads the flatten of
    /// a channels-last `h×w×c` map (`flattenedFrom` = Zoo's `[c, h, w]`), its input rows are also
    /// permuted from Keras's (h, w, c) flatten order to Zoo's (c, h, w).
    public static func outIn(fromInOut source: [Float], inputs: Int, outputs: Int, flattenedFrom map: Shape? = nil) -> [Float] {
        precondition(source.count == inputs * outputs)
        var out = [Float](repeating: 0, count: source.count)
        // kerasRow(i): the Keras input row that feeds Zoo's input i.
        let kerasRow: (Int) -> Int
        if let map, map.isMap, map.count == inputs {
            let (c, h, w) = (map.channels, map.height, map.width)
            precondition(c * h * w == inputs)
            kerasRow = { i in
                let ch = i / (h * w), rest = i % (h * w)
                return rest * c + ch
            }
        } else {
            kerasRow = { $0 }
        }
        source.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<inputs {
                    let r = kerasRow(i) * outputs
                    for j in 0..<outputs { o[j * inputs + i] = s[r + j] }
                }
            }
        }
        return out
    }

    /// The inverse of `oihw(fromHWIO:)`, for writing Keras-layout files and for tests.
    public static func hwio(fromOIHW source: [Float], shape oihw: [Int]) -> [Float] {
        let (co, ci, kh, kw) = (oihw[0], oihw[1], oihw[2], oihw[3])
        var out = [Float](repeating: 0, count: source.count)
        for j in 0..<co { for i in 0..<ci { for y in 0..<kh { for x in 0..<kw {
            out[((y * kw + x) * ci + i) * co + j] = source[((j * ci + i) * kh + y) * kw + x]
        } } } }
        return out
    }
}
