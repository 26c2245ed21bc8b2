import CTurboJPEG
import ZooCore

/// JPEG through libjpeg-turbo's TurboJPEG 2.x API (`tjDecompressHeader3`, `tjDecompress2`), with
/// the accurate integer DCT and fancy upsampling (libjpeg's defaults, as Pillow uses them).
///
/// Grey JPEGs decode to 1 channel, YCbCr and RGB ones to RGB; CMYK/YCCK are refused. A truncated or
/// damaged file is an error; the one warning tolerated is "extraneous bytes before marker", which
/// libjpeg recovers from exactly (Pillow accepts it too). TurboJPEG 2.1 does not apply EXIF
/// orientation: `EXIFOrientation` does that afterwards.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        guard let handle = tjInitDecompress() else { throw ZooError("\(name): cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colourspace)
        }
        guard header == 0 || (tolerable(handle) && width > 0 && height > 0) else {
            throw ZooError("\(name): not a readable JPEG: libjpeg-turbo says “\(errorText(handle))”\(truncationHint(bytes))")
        }
        guard colourspace != Int32(TJCS_CMYK.rawValue), colourspace != Int32(TJCS_YCCK.rawValue) else {
            throw ZooError("\(name): a CMYK JPEG; Zoo decodes grey and RGB JPEGs only: convert it to RGB first")
        }
        let grey = colourspace == Int32(TJCS_GRAY.rawValue)
        let channels = grey ? 1 : 3
        try Image.checkSize(width: Int(width), height: Int(height), channels: channels, name: name, format: "JPEG")
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let format = grey ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue)
        let status = bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, width, 0, height, format,
                              Int32(TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS))
            }
        }
        if status != 0 {
            if !tolerable(handle) {
                let text = errorText(handle)
                throw ZooError("\(name): the JPEG data is damaged or truncated: libjpeg-turbo says “\(text)”\(truncationHint(bytes))")
            }
        }
        return Image(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }

    /// Whether the last message is the warning "Corrupt JPEG data: N extraneous bytes before
    /// marker 0xXX", which libjpeg recovers from exactly (it skips the bytes).
    private static func tolerable(_ handle: tjhandle) -> Bool {
        tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) && errorText(handle).contains("extraneous bytes before marker")
    }

    /// A hint when the bytes do not end with the end-of-image marker FF D9.
    private static func truncationHint(_ bytes: [UInt8]) -> String {
        bytes.suffix(2).elementsEqual([0xFF, 0xD9]) ? "" : " (the file ends without JPEG's end-of-image marker: it looks truncated)"
    }

    private static func errorText(_ handle: tjhandle) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: text)
    }
}
