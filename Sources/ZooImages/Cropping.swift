/// Cropping, "shorter side to S, centre crop C", and fitting into a square field.
extension FloatImage {
    /// The `w × h` window whose top-left pixel is (`x`, `y`); it must lie inside the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> FloatImage {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
                     "cropped: window \(w)×\(h) at (\(x), \(y)) outside a \(width)×\(height) image")
        if x == 0 && y == 0 && w == width && h == height { return self }
        var out = [Float](); out.reserveCapacity(w * h * channels)
        for row in y..<(y + h) {
            let start = (row * width + x) * channels
            out += values[start..<(start + w * channels)]
        }
        return FloatImage(width: w, height: h, channels: channels, values: out)
    }

    /// The size after scaling the shorter side to `side` and the other in proportion, truncated
    /// as torchvision's `Resize(side)` does: a 500×375 image with side 256 becomes 341×256.
    public static func shorterSideSize(width: Int, height: Int, side: Int) -> (width: Int, height: Int) {
        if width <= height {
            return (side, max(1, Int(Double(side) * Double(height) / Double(width))))
        }
        return (max(1, Int(Double(side) * Double(width) / Double(height))), side)
    }

    /// The offset of a centred window of `crop` pixels in `size`: round((size − crop) / 2) with
    /// ties to even, as torchvision's `CenterCrop` (Python's `round`): 117 / 2 = 58.5 → 58.
    public static func centreOffset(size: Int, crop: Int) -> Int {
        (Double(size - crop) / 2).rounded(.toNearestOrEven).asInt
    }

    /// Shorter side to `side` (see `shorterSideSize`), then the centred `cropWidth × cropHeight`
    /// window (see `centreOffset`); only the kept pixels are computed. When the resized image is
    /// smaller than the window in a dimension (`side` < crop), that dimension is resized to the
    /// crop instead.
    public func resizedAndCentreCropped(shorterSide side: Int, cropWidth: Int, cropHeight: Int) -> FloatImage {
        var (w, h) = FloatImage.shorterSideSize(width: width, height: height, side: side)
        w = max(w, cropWidth); h = max(h, cropHeight)
        let x = FloatImage.centreOffset(size: w, crop: cropWidth), y = FloatImage.centreOffset(size: h, crop: cropHeight)
        return resized(width: w, height: h, keeping: x..<(x + cropWidth), y..<(y + cropHeight))
    }

    /// Shorter side to `side`, then the centred `crop × crop` square.
    public func resizedAndCentreCropped(shorterSide side: Int, crop: Int) -> FloatImage {
        resizedAndCentreCropped(shorterSide: side, cropWidth: crop, cropHeight: crop)
    }

    /// Scaled, aspect ratio kept, so that the longer side is `field` (the other rounded, at least 1),
    /// then placed in a `width × height` canvas of `background` with the field's centre at the
    /// canvas's centre (offsets truncated: (canvas − size) / 2). LeNet-5's 28×28 field in 32×32.
    public func fitted(into field: Int, centredIn canvasWidth: Int, _ canvasHeight: Int, background: Float) -> FloatImage {
        precondition(field > 0 && field <= canvasWidth && field <= canvasHeight)
        let (w, h): (Int, Int) = width >= height
            ? (field, max(1, (Double(field) * Double(height) / Double(width)).rounded().asInt))
            : (max(1, (Double(field) * Double(width) / Double(height)).rounded().asInt), field)
        let scaled = resized(width: w, height: h)
        var canvas = [Float](repeating: background, count: canvasWidth * canvasHeight * channels)
        let ox = (canvasWidth - w) / 2, oy = (canvasHeight - h) / 2
        for row in 0..<h {
            let to = ((row + oy) * canvasWidth + ox) * channels, from = row * w * channels
            canvas.replaceSubrange(to..<(to + w * channels), with: scaled.values[from..<(from + w * channels)])
        }
        return FloatImage(width: canvasWidth, height: canvasHeight, channels: channels, values: canvas)
    }
}

extension Double {
    fileprivate var asInt: Int { Int(self) }
}
