/// An image in Float: `height × width × channels` values, interleaved (HWC) like `Image`, on the
/// decoded 0–255 scale. Resizing and cropping work on this type, so that no rounding to 8 bits
/// happens between decoding and the network's input.
public struct FloatImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// `values[(y · width + x) · channels + c]`.
    public var values: [Float]

    public init(width: Int, height: Int, channels: Int, values: [Float]) {
        precondition(width > 0 && height > 0 && channels > 0 && values.count == width * height * channels,
                     "FloatImage: \(values.count) values for \(width)×\(height)×\(channels)")
        self.width = width; self.height = height; self.channels = channels; self.values = values
    }

    /// The 8-bit image's values as Float (0–255).
    public init(_ image: Image) {
        self.init(width: image.width, height: image.height, channels: image.channels, values: image.pixels.map(Float.init))
    }

    /// The value of channel `c` at column `x`, row `y`.
    public subscript(x: Int, y: Int, c: Int) -> Float { values[(y * width + x) * channels + c] }

    /// Back to 8 bits: each value rounded to the nearest integer and clamped to 0…255.
    public var quantised: Image {
        Image(width: width, height: height, channels: channels, pixels: values.map { UInt8(max(0, min(255, $0.rounded()))) })
    }

    /// `target` channels: grey (1) from RGB or RGBA by ITU-R BT.601 luma, 0.299 R + 0.587 G +
    /// 0.114 B (Pillow's `convert("L")` weights); RGB (3) from grey by copying, from RGBA by
    /// dropping alpha (no compositing, as Pillow's `convert("RGB")`); RGBA (4) with alpha 255.
    public func converted(toChannels target: Int) -> FloatImage {
        precondition([1, 3, 4].contains(target), "converted(toChannels:): 1, 3 or 4, not \(target)")
        if target == channels { return self }
        let n = width * height
        var out = [Float](repeating: 0, count: n * target)
        let source = channels
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let p = i * source
                    let colour = source >= 3
                    if target == 1 {
                        o[i] = colour ? 0.299 * v[p] + 0.587 * v[p + 1] + 0.114 * v[p + 2] : v[p]
                    } else {
                        for c in 0..<3 { o[i * target + c] = colour ? v[p + c] : v[p] }
                        if target == 4 { o[i * target + 3] = source == 4 ? v[p + 3] : (source == 2 ? v[p + 1] : 255) }
                    }
                }
            }
        }
        return FloatImage(width: width, height: height, channels: target, values: out)
    }
}
