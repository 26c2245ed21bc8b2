/// Separable bilinear resampling, antialiased when shrinking.
///
/// Convention (that of Pillow's `resize(…, BILINEAR)` and torchvision's `antialias=True`):
/// - pixel i covers [i, i + 1) and has its centre at i + 0.5; output pixel j of a resize from n to
///   m samples the input at x = (j + 0.5) · n / m;
/// - the filter is the triangle 1 − |t| (|t| < 1) stretched by s = max(1, n / m) input pixels:
///   input pixel i weighs max(0, 1 − |i + 0.5 − x| / s). Enlarging (s = 1) is plain bilinear
///   interpolation; shrinking by k averages over 2k input pixels instead of skipping them;
/// - at the edges, taps outside the image are dropped and the remaining weights renormalised to sum
///   to 1 (for an enlargement this equals clamping to the edge pixel);
/// - rows first (a horizontal pass into a Float buffer), then columns; no rounding in between.
public struct ResamplingWeights: Sendable, Equatable {
    /// For output index j: the first input index and the normalised weights from there on.
    public var taps: [(first: Int, weights: [Float])]

    public static func == (a: ResamplingWeights, b: ResamplingWeights) -> Bool {
        a.taps.count == b.taps.count && zip(a.taps, b.taps).allSatisfy { $0.first == $1.first && $0.weights == $1.weights }
    }

    /// Weights for resampling `n` input pixels to `m` output pixels.
    public init(from n: Int, to m: Int) {
        precondition(n > 0 && m > 0)
        let scale = Double(n) / Double(m)
        let support = max(scale, 1)
        taps = (0..<m).map { j in
            let centre = (Double(j) + 0.5) * scale
            let first = max(0, Int((centre - support).rounded(.down)))
            let last = min(n - 1, Int((centre + support).rounded(.up)))
            var w = (first...last).map { i in max(0, 1 - abs(Double(i) + 0.5 - centre) / support) }
            // Trim zero weights at both ends so that loops do no useless work.
            var start = first
            while w.count > 1, w.first == 0 { w.removeFirst(); start += 1 }
            while w.count > 1, w.last == 0 { w.removeLast() }
            let sum = w.reduce(0, +)
            return (start, w.map { Float($0 / sum) })
        }
    }
}

extension FloatImage {
    /// Resampled to `newWidth × newHeight` (see `ResamplingWeights` for the convention).
    public func resized(width newWidth: Int, height newHeight: Int) -> FloatImage {
        resized(width: newWidth, height: newHeight, keeping: 0..<newWidth, 0..<newHeight)
    }

    /// The window `columns × rows` of the image resampled to `newWidth × newHeight`: a resize
    /// followed by a crop, computing only the pixels the crop keeps.
    public func resized(width newWidth: Int, height newHeight: Int, keeping columns: Range<Int>, _ rows: Range<Int>) -> FloatImage {
        precondition(newWidth > 0 && newHeight > 0 && columns.lowerBound >= 0 && columns.upperBound <= newWidth
                     && rows.lowerBound >= 0 && rows.upperBound <= newHeight && !columns.isEmpty && !rows.isEmpty)
        if newWidth == width && newHeight == height {
            return cropped(x: columns.lowerBound, y: rows.lowerBound, width: columns.count, height: rows.count)
        }
        let horizontal = ResamplingWeights(from: width, to: newWidth).taps[columns]
        let vertical = ResamplingWeights(from: height, to: newHeight).taps[rows]
        // Only the input rows the vertical taps reach go through the horizontal pass.
        let firstRow = vertical.map(\.first).min()!
        let lastRow = vertical.map { $0.first + $0.weights.count }.max()!
        let outW = columns.count, outH = rows.count, ch = channels, inW = width
        var tmp = [Float](repeating: 0, count: outW * (lastRow - firstRow) * ch)
        values.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { dst in
                for y in firstRow..<lastRow {
                    for (x, tap) in horizontal.enumerated() {
                        for c in 0..<ch {
                            var s: Float = 0
                            var at = (y * inW + tap.first) * ch + c
                            for w in tap.weights { s += w * src[at]; at += ch }
                            dst[((y - firstRow) * outW + x) * ch + c] = s
                        }
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: outW * outH * ch)
        tmp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let rowLength = outW * ch
                for (y, tap) in vertical.enumerated() {
                    let o = y * rowLength
                    for (k, w) in tap.weights.enumerated() {
                        let r = (tap.first - firstRow + k) * rowLength
                        for i in 0..<rowLength { dst[o + i] += w * src[r + i] }
                    }
                }
            }
        }
        return FloatImage(width: outW, height: outH, channels: ch, values: out)
    }
}
