import Foundation
import ZooCore

/// A decoded 8-bit image: `height × width × channels` values, interleaved (HWC), channels 1 (grey),
/// 3 (RGB) or 4 (RGBA).
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels)
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    public subscript(x: Int, y: Int, c: Int) -> UInt8 { pixels[(y * width + x) * channels + c] }

    /// Reads and decodes a PNG or JPEG file (detected from its first bytes, not its name). JPEGs
    /// are turned upright according to their EXIF orientation.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ZooError("\(path): cannot read the file")
        }
        try self.init(data: data, name: path)
    }

    public init(data: Data, name: String = "<image>") throws {
        let bytes = [UInt8](data)
        guard !bytes.isEmpty else { throw ZooError("\(name): the file is empty") }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = try PNGDecoder.decode(bytes, name: name)
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = try JPEGDecoder.decode(bytes, name: name).oriented(JPEGDecoder.exifOrientation(bytes))
        } else {
            throw ZooError("\(name): not a PNG or JPEG image (unrecognised first bytes \(bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")))")
        }
    }

    /// The image turned upright for an EXIF orientation 1…8.
    public func oriented(_ orientation: Int) -> Image {
        guard (2...8).contains(orientation) else { return self }
        let swap = orientation >= 5
        let (w, h) = swap ? (height, width) : (width, height)
        var out = [UInt8](repeating: 0, count: pixels.count)
        for y in 0..<h {
            for x in 0..<w {
                // (x, y) in the upright image ← (sx, sy) in the stored one.
                let (sx, sy): (Int, Int)
                switch orientation {
                case 2: (sx, sy) = (width - 1 - x, y)
                case 3: (sx, sy) = (width - 1 - x, height - 1 - y)
                case 4: (sx, sy) = (x, height - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, height - 1 - x)
                case 7: (sx, sy) = (width - 1 - y, height - 1 - x)
                default: (sx, sy) = (width - 1 - y, x)   // 8
                }
                for c in 0..<channels { out[(y * w + x) * channels + c] = pixels[(sy * width + sx) * channels + c] }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }
}
