import CPNG
import ZooCore

/// PNG through libpng's simplified API (`png_image_*`), which reports errors in
/// `png_image.message` instead of longjmp-ing (Swift cannot call setjmp).
///
/// Every PNG colour type and bit depth decodes to 8 bits: grey → 1 channel; RGB → 3; RGBA,
/// grey+alpha and palettes with a transparent entry → RGBA (grey copied into R, G and B);
/// other palettes → RGB. 16-bit samples become 8-bit as round(v · 255 / 65535) = round(v / 257):
/// a 16-bit file without a gAMA or sRGB chunk is taken to be sRGB-encoded
/// (`PNG_IMAGE_FLAG_16BIT_sRGB`), so no gamma curve is applied and alpha is never premultiplied.
/// A file whose gAMA chunk is far from sRGB's is converted to sRGB by libpng (Pillow ignores gAMA).
enum PNGDecoder {
    static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else {
            throw ZooError("\(name): not a readable PNG: libpng says “\(message(&image))”")
        }
        let colour = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let alpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let channels = alpha ? 4 : (colour ? 3 : 1)
        // 8-bit output in every case; grey with alpha is widened to RGBA.
        image.format = (alpha || colour ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let width = Int(image.width), height = Int(image.height)
        try Image.checkSize(width: width, height: height, channels: channels, name: name, format: "PNG")
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * channels), nil)
        }
        guard finished != 0 else {
            throw ZooError("\(name): the PNG data is damaged or truncated: libpng says “\(message(&image))”")
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// libpng's message (a NUL-terminated `char[64]`).
    private static func message(_ image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return text.isEmpty ? "no message" : text
    }
}
