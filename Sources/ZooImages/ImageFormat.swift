/// The file formats Zoo recognises from a file's first bytes (never from its name).
public enum ImageFormat: String, Sendable, Equatable, CaseIterable {
    case png, jpeg
    /// Recognised so that the error can say what the file is; not decoded.
    case gif, bmp, webp, tiff

    /// Whether Zoo decodes this format.
    public var isDecodable: Bool { self == .png || self == .jpeg }

    /// The format whose signature `bytes` starts with, or nil.
    ///
    /// PNG: `89 50 4E 47 0D 0A 1A 0A`; JPEG: `FF D8 FF`; GIF: `GIF8`; BMP: `BM`; WebP: `RIFF····WEBP`;
    /// TIFF: `II*\0` or `MM\0*`.
    public static func detect<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> ImageFormat? {
        let b = Array(bytes.prefix(12))
        func starts(_ signature: [UInt8]) -> Bool { b.starts(with: signature) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("GIF8".utf8)) { return .gif }
        if b.count >= 12, starts(Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) { return .webp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if b.count >= 14, starts(Array("BM".utf8)) { return .bmp }
        return nil
    }
}
