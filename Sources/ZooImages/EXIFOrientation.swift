/// EXIF orientation (TIFF tag 0x0112) read from a JPEG's APP1 "Exif" segment, since TurboJPEG 2.1
/// does not apply it, and the eight transforms that turn a stored image upright.
///
/// Values, as the EXIF/TIFF specifications define them (the stored image's row 0 / column 0 are
/// shown at): 1 top/left (upright), 2 mirrored left–right, 3 turned 180°, 4 mirrored top–bottom,
/// 5 transposed (mirrored along the main diagonal), 6 to be turned 90° clockwise, 7 transversed
/// (mirrored along the anti-diagonal), 8 to be turned 90° counter-clockwise.
public enum EXIFOrientation {
    /// The orientation 1…8 recorded in the first Exif APP1 segment of `jpeg`, or nil when there is
    /// none or it is unreadable (a damaged Exif block never fails the decoding).
    public static func orientation(inJPEG jpeg: [UInt8]) -> Int? {
        guard jpeg.count >= 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { return nil }
        var i = 2
        while i + 4 <= jpeg.count {
            guard jpeg[i] == 0xFF else { return nil }
            let marker = jpeg[i + 1]
            if marker == 0xFF { i += 1; continue }                         // fill byte
            if marker == 0xDA || marker == 0xD9 { return nil }             // start of scan, end of image
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }   // no length
            let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            guard length >= 2, i + 2 + length <= jpeg.count else { return nil }
            let payload = (i + 4)..<(i + 2 + length)
            if marker == 0xE1, payload.count > 14, jpeg[payload.lowerBound..<(payload.lowerBound + 6)].elementsEqual([0x45, 0x78, 0x69, 0x66, 0, 0]) {
                return orientation(inTIFF: jpeg[(payload.lowerBound + 6)..<payload.upperBound])
            }
            i += 2 + length
        }
        return nil
    }

    /// The orientation tag of IFD0 in a TIFF structure (byte order `II` or `MM`).
    static func orientation(inTIFF tiff: ArraySlice<UInt8>) -> Int? {
        let base = tiff.startIndex
        let little: Bool
        switch (tiff.first, tiff.dropFirst().first) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 2 <= tiff.count else { return nil }
            let a = Int(tiff[base + offset]), b = Int(tiff[base + offset + 1])
            return little ? a | b << 8 : a << 8 | b
        }
        func u32(_ offset: Int) -> Int? {
            guard let lo = u16(little ? offset : offset + 2), let hi = u16(little ? offset + 2 : offset) else { return nil }
            return hi << 16 | lo
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for entry in 0..<min(count, 512) {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at), let type = u16(at + 2) else { return nil }
            guard tag == 0x0112 else { continue }
            let value = type == 4 ? u32(at + 8) : u16(at + 8)    // SHORT as specified; LONG tolerated
            guard let value, (1...8).contains(value) else { return nil }
            return value
        }
        return nil
    }
}

extension Image {
    /// The image turned upright for an EXIF orientation 1…8 (other values: unchanged). Orientations
    /// 5–8 swap width and height.
    public func oriented(_ orientation: Int) -> Image {
        guard (2...8).contains(orientation) else { return self }
        let swaps = orientation >= 5
        let (w, h) = swaps ? (height, width) : (width, height)
        var out = [UInt8](repeating: 0, count: pixels.count)
        let (W, H) = (width, height)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        // Upright (x, y) comes from stored (sx, sy).
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case 2: (sx, sy) = (W - 1 - x, y)
                        case 3: (sx, sy) = (W - 1 - x, H - 1 - y)
                        case 4: (sx, sy) = (x, H - 1 - y)
                        case 5: (sx, sy) = (y, x)
                        case 6: (sx, sy) = (y, H - 1 - x)
                        case 7: (sx, sy) = (W - 1 - y, H - 1 - x)
                        default: (sx, sy) = (W - 1 - y, x)    // 8
                        }
                        let from = (sy * W + sx) * channels, to = (y * w + x) * channels
                        for c in 0..<channels { dst[to + c] = src[from + c] }
                    }
                }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }
}
