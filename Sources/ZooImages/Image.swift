import Foundation
import ZooCore

/// A decoded 8-bit image: `height × width × channels` bytes, interleaved (HWC, row-major, top row
/// first), with 1 (grey), 3 (RGB) or 4 (RGBA) channels. `FloatImage` is the same layout in Float.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// `pixels[(y · width + x) · channels + c]`.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && channels > 0 && pixels.count == width * height * channels,
                     "Image: \(pixels.count) values for \(width)×\(height)×\(channels)")
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// The value of channel `c` at column `x`, row `y`.
    public subscript(x: Int, y: Int, c: Int) -> UInt8 { pixels[(y * width + x) * channels + c] }

    /// Reads and decodes a PNG or JPEG file, recognised by its first bytes, not its name. JPEGs are
    /// turned upright by their EXIF orientation unless `applyingOrientation` is false.
    ///
    /// Throws a `ZooError` naming `path` and the cause for a missing, empty, unknown, truncated or
    /// damaged file.
    public init(contentsOf path: String, applyingOrientation: Bool = true) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ZooError("\(path): cannot read the file (\((error as NSError).localizedFailureReason ?? error.localizedDescription))")
        }
        try self.init(data: data, name: path, applyingOrientation: applyingOrientation)
    }

    /// Decodes PNG or JPEG bytes; `name` is what error messages call them.
    public init(data: Data, name: String = "<image>", applyingOrientation: Bool = true) throws {
        try self.init(bytes: [UInt8](data), name: name, applyingOrientation: applyingOrientation)
    }

    /// Decodes PNG or JPEG bytes; `name` is what error messages call them.
    public init(bytes: [UInt8], name: String = "<image>", applyingOrientation: Bool = true) throws {
        guard !bytes.isEmpty else { throw ZooError("\(name): the file is empty (0 bytes)") }
        switch ImageFormat.detect(bytes) {
        case .png:
            self = try PNGDecoder.decode(bytes, name: name)
        case .jpeg:
            let image = try JPEGDecoder.decode(bytes, name: name)
            self = applyingOrientation ? image.oriented(EXIFOrientation.orientation(inJPEG: bytes) ?? 1) : image
        case let other?:
            throw ZooError("\(name): a \(other.rawValue.uppercased()) image; Zoo decodes PNG and JPEG only: convert it first")
        case nil:
            let head = bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw ZooError("\(name): not a PNG or JPEG image (its first bytes are \(head); PNG starts 89 50 4e 47, JPEG ff d8 ff)")
        }
    }

    /// Refuses sizes no real photo has (over 2^28 pixels, 1 GiB as RGBA) before allocating.
    static func checkSize(width: Int, height: Int, channels: Int, name: String, format: String) throws {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20, width * height <= 1 << 28 else {
            throw ZooError("\(name): implausible \(format) size \(width)×\(height) (Zoo accepts up to 2^28 pixels)")
        }
    }
}
