import Foundation

/// Resampling and cropping on Float images (HWC, values as decoded: 0–255).
public struct FloatImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var values: [Float]

    public init(width: Int, height: Int, channels: Int, values: [Float]) {
        precondition(values.count == width * height * channels)
        self.width = width; self.height = height; self.channels = channels; self.values = values
    }

    public init(_ image: Image) {
        self.init(width: image.width, height: image.height, channels: image.channels, values: image.pixels.map(Float.init))
    }

    public subscript(x: Int, y: Int, c: Int) -> Float { values[(y * width + x) * channels + c] }

    /// Bilinear resampling to `width × height`, antialiased when shrinking: a triangle filter whose
    /// radius is max(1, scale) input pixels, pixel centres at i + 0.5, weights renormalised at the
    /// borders (the convention of PIL's and torchvision's antialiased bilinear resize).
    public func resized(width newWidth: Int, height newHeight: Int) -> FloatImage {
        guard newWidth != width || newHeight != height else { return self }
        // Rows first (horizontal pass), then columns.
        let horizontal = FloatImage.weights(from: width, to: newWidth)
        var tmp = [Float](repeating: 0, count: newWidth * height * channels)
        for y in 0..<height {
            for x in 0..<newWidth {
                let (start, w) = horizontal[x]
                for c in 0..<channels {
                    var s: Float = 0
                    for k in 0..<w.count { s += w[k] * values[(y * width + start + k) * channels + c] }
                    tmp[(y * newWidth + x) * channels + c] = s
                }
            }
        }
        let vertical = FloatImage.weights(from: height, to: newHeight)
        var out = [Float](repeating: 0, count: newWidth * newHeight * channels)
        for y in 0..<newHeight {
            let (start, w) = vertical[y]
            for x in 0..<newWidth {
                for c in 0..<channels {
                    var s: Float = 0
                    for k in 0..<w.count { s += w[k] * tmp[((start + k) * newWidth + x) * channels + c] }
                    out[(y * newWidth + x) * channels + c] = s
                }
            }
        }
        return FloatImage(width: newWidth, height: newHeight, channels: channels, values: out)
    }

    /// For each output index: the first input index and the normalised weights from there on.
    static func weights(from n: Int, to m: Int) -> [(Int, [Float])] {
        let scale = Double(n) / Double(m)
        let support = max(scale, 1)
        return (0..<m).map { i in
            let centre = (Double(i) + 0.5) * scale
            let first = max(0, Int((centre - support).rounded(.down)))
            let last = min(n - 1, Int((centre + support).rounded(.up)))
            var w: [Double] = []
            for j in first...last {
                let t = abs((Double(j) + 0.5 - centre) / support)
                w.append(max(0, 1 - t))
            }
            let sum = w.reduce(0, +)
            return (first, w.map { Float($0 / (sum > 0 ? sum : 1)) })
        }
    }

    /// The `w × h` window whose top-left corner is (`x`, `y`).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> FloatImage {
        var out = [Float](repeating: 0, count: w * h * channels)
        for row in 0..<h {
            let src = ((y + row) * width + x) * channels
            for k in 0..<(w * channels) { out[row * w * channels + k] = values[src + k] }
        }
        return FloatImage(width: w, height: h, channels: channels, values: out)
    }

    /// Shorter side to `side` (the other in proportion, rounded), then the centred `crop × crop`
    /// (offsets rounded as torchvision's CenterCrop: round((size − crop) / 2)).
    public func resizedAndCentreCropped(shorterSide side: Int, crop: Int) -> FloatImage {
        let (w, h): (Int, Int) = width <= height
            ? (side, max(1, Int((Double(height) * Double(side) / Double(width)).rounded())))
            : (max(1, Int((Double(width) * Double(side) / Double(height)).rounded())), side)
        let r = resized(width: w, height: h)
        let cw = min(crop, w), ch = min(crop, h)
        let c = r.cropped(x: Int((Double(w - cw) / 2).rounded()), y: Int((Double(h - ch) / 2).rounded()), width: cw, height: ch)
        return cw == crop && ch == crop ? c : c.resized(width: crop, height: crop)
    }

    /// Grey from RGB(A) by ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B); RGB from grey by copying.
    public func converted(toChannels target: Int) -> FloatImage {
        if target == channels { return self }
        let n = width * height
        var out = [Float](repeating: 0, count: n * target)
        for i in 0..<n {
            let p = i * channels
            if target == 1 {
                out[i] = channels >= 3 ? 0.299 * values[p] + 0.587 * values[p + 1] + 0.114 * values[p + 2] : values[p]
            } else {
                for c in 0..<target {
                    out[i * target + c] = channels >= 3 ? (c < 3 ? values[p + c] : 255) : values[p]
                }
            }
        }
        return FloatImage(width: width, height: height, channels: target, values: out)
    }
}
