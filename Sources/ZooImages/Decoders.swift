import CPNG
import CTurboJPEG
import ZooCore

/// PNG through libpng's simplified API (no setjmp): grey, grey+alpha, RGB, RGBA, palette and 16-bit
/// images, delivered as 8-bit grey, RGB or RGBA (16-bit samples become v/257, rounded; 16-bit images
/// with alpha go through libpng's 8-bit sRGB conversion).
enum PNGDecoder {
    static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, bytes.count) }
        guard begun != 0 else { throw ZooError("\(name): not a readable PNG (\(message(&image)))") }
        let hasColor = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        // 16-bit files: read the samples as they are (libpng's "linear" 16-bit format; asking for
        // 8 bits would apply an sRGB encoding) and keep the high byte, rounded: v/257.
        let sixteen = image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0 && !hasAlpha
        let channels = hasColor ? (hasAlpha ? 4 : 3) : (hasAlpha ? 4 : 1)
        image.format = (hasColor || hasAlpha ? UInt32(PNG_FORMAT_FLAG_COLOR) | (hasAlpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0) : 0)
            | (sixteen ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= 1 << 28 else { throw ZooError("\(name): implausible PNG size \(width)×\(height)") }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished: Int32
        if sixteen {
            var wide = [UInt16](repeating: 0, count: width * height * channels)
            finished = wide.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            for i in 0..<wide.count { pixels[i] = UInt8((UInt32(wide[i]) + 128) / 257) }
        } else {
            finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        }
        guard finished != 0 else { throw ZooError("\(name): the PNG data is damaged or truncated (\(message(&image)))") }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// JPEG through libjpeg-turbo's TurboJPEG API: grey JPEGs decode to one channel, colour ones to RGB.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        guard let handle = tjInitDecompress() else { throw ZooError("\(name): cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        var mutableBytes = bytes
        let header = mutableBytes.withUnsafeMutableBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw ZooError("\(name): not a readable JPEG (\(errorText(handle)))") }
        guard colorspace != Int32(TJCS_CMYK.rawValue), colorspace != Int32(TJCS_YCCK.rawValue) else {
            throw ZooError("\(name): CMYK JPEGs are not supported; convert the image to RGB")
        }
        let grey = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = grey ? 1 : 3
        guard width > 0, height > 0, Int(width) * Int(height) <= 1 << 28 else { throw ZooError("\(name): implausible JPEG size \(width)×\(height)") }
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let status = mutableBytes.withUnsafeMutableBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(bytes.count), dst.baseAddress, width, 0, height,
                              grey ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), Int32(TJFLAG_ACCURATEDCT))
            }
        }
        if status != 0 {
            // A warning (e.g. premature end of data) still decodes what there is; an error does not.
            let fatal = tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue)
            if fatal { throw ZooError("\(name): the JPEG data is damaged or truncated (\(errorText(handle)))") }
            let text = errorText(handle)
            if text.contains("Premature end") || text.contains("Corrupt") {
                throw ZooError("\(name): the JPEG data is damaged or truncated (\(text))")
            }
        }
        return Image(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }

    private static func errorText(_ handle: tjhandle) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: text)
    }

    /// The EXIF orientation (1–8) of a JPEG's APP1 segment, or 1 when absent or unreadable.
    static func exifOrientation(_ b: [UInt8]) -> Int {
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            let marker = b[i + 1]
            if marker == 0xDA || marker == 0xD9 { break }   // start of scan / end of image
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { break }
            if marker == 0xE1, length >= 16, Array(b[(i + 4)..<(i + 10)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                let tiff = i + 10
                let little = b[tiff] == 0x49
                func u16(_ o: Int) -> Int { o + 2 <= b.count ? (little ? Int(b[o]) | Int(b[o + 1]) << 8 : Int(b[o]) << 8 | Int(b[o + 1])) : 0 }
                func u32(_ o: Int) -> Int { o + 4 <= b.count ? (little ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2)) : 0 }
                let ifd = tiff + u32(tiff + 4)
                let entries = u16(ifd)
                for e in 0..<min(entries, 256) {
                    let entry = ifd + 2 + e * 12
                    if u16(entry) == 0x0112 { let v = u16(entry + 8); return (1...8).contains(v) ? v : 1 }
                }
                return 1
            }
            i += 2 + length
        }
        return 1
    }
}
