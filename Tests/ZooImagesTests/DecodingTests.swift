import Foundation
import Testing
import ZooCore
@testable import ZooImages

struct DecodingTests {
    @Test(arguments: ["grey.png", "rgb.png", "rgba.png", "palette.png", "palette-transparent.png", "grey-alpha.png", "interlaced.png"])
    func pngPixelsExactly(_ name: String) throws {
        let image = try Image(contentsOf: Fixtures.path(name))
        let e = Fixtures.expected[name]!
        #expect(image.width == e.width && image.height == e.height && image.channels == e.channels)
        #expect(image.pixels.map(Int.init) == e.pixels!)
    }

    /// 16-bit samples become round(v / 257) — colour, grey and alpha alike, with no gamma curve and
    /// no premultiplication (a fully transparent pixel keeps its colour).
    @Test(arguments: ["grey16.png", "rgb16.png", "rgba16.png", "grey-alpha16.png"])
    func sixteenBitPNGsAreRoundedToEightBits(_ name: String) throws {
        let image = try Image(contentsOf: Fixtures.path(name))
        let e = Fixtures.expected[name]!
        #expect(image.width == e.width && image.height == e.height && image.channels == e.channels)
        var wanted = e.pixels_16bit!.map { Int((Double($0) / 257).rounded()) }
        if name == "grey-alpha16.png" {   // grey+alpha → RGBA
            wanted = stride(from: 0, to: wanted.count, by: 2).flatMap { [wanted[$0], wanted[$0], wanted[$0], wanted[$0 + 1]] }
        }
        #expect(image.pixels.map(Int.init) == wanted)
    }

    /// libjpeg-turbo and Pillow's libjpeg both use the accurate integer DCT and fancy upsampling;
    /// the tolerance is the usual ±2, the measured difference is printed.
    @Test(arguments: ["rgb.jpg", "grey.jpg"])
    func jpegWithinTheDecodersTolerance(_ name: String) throws {
        let image = try Image(contentsOf: Fixtures.path(name))
        let e = Fixtures.expected[name]!
        #expect(image.width == e.width && image.height == e.height && image.channels == e.channels)
        let diff = Fixtures.maxDifference(image.pixels.map(Float.init), e.pixels!)
        print("\(name): max difference from Pillow's decoder \(diff)")
        #expect(diff <= 2)
    }

    @Test(arguments: [("exif6.jpg", 6), ("exif3.jpg", 3), ("exif8-motorola.jpg", 8)])
    func exifOrientationIsApplied(_ name: String, _ orientation: Int) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
        #expect(EXIFOrientation.orientation(inJPEG: bytes) == orientation)
        let image = try Image(contentsOf: Fixtures.path(name))
        let e = Fixtures.expected[name]!
        #expect(image.width == e.width && image.height == e.height)
        let diff = Fixtures.maxDifference(image.pixels.map(Float.init), e.pixels!)
        #expect(diff <= 2, "max difference from Pillow's upright image \(diff)")
        // Without orientation: the stored (unturned) size.
        let stored = try Image(contentsOf: Fixtures.path(name), applyingOrientation: false)
        #expect(orientation == 3 ? stored.width == image.width : (stored.width == image.height && stored.height == image.width))
    }

    @Test func noExifMeansNoOrientation() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("rgb.jpg"))))
        #expect(EXIFOrientation.orientation(inJPEG: bytes) == nil)
        // A damaged Exif block is ignored, not fatal.
        #expect(EXIFOrientation.orientation(inJPEG: [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10] + Array("Exif".utf8) + [0, 0, 0x49, 0x49, 0x2A]) == nil)
    }

    /// All eight orientations against Pillow's transposes (ImageOps.exif_transpose's mapping).
    @Test(arguments: 1...8)
    func orientationsMatchPillow(_ orientation: Int) {
        let stored = Image(width: 3, height: 2, channels: 1, pixels: [0, 1, 2, 3, 4, 5])
        let e = Fixtures.expected["orientation-\(orientation)"]!
        let upright = stored.oriented(orientation)
        #expect(upright.width == e.width && upright.height == e.height)
        #expect(upright.pixels.map(Int.init) == e.pixels!)
    }

    @Test func formatIsDetectedFromContentNotName() throws {
        // A PNG's bytes under a .jpg name decode as PNG.
        let png = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("rgb.png")))
        let image = try Image(data: png, name: "photo.jpg")
        #expect(image.width == 4 && image.channels == 3)
        #expect(ImageFormat.detect(Array("GIF89a".utf8)) == .gif)
        #expect(ImageFormat.detect(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == .webp)
        #expect(ImageFormat.detect([0x49, 0x49, 0x2A, 0x00]) == .tiff)
        #expect(ImageFormat.detect([UInt8]()) == nil)
    }

    @Test(arguments: [
        ("truncated.png", "truncated.png: the PNG data is damaged or truncated"),
        ("corrupt.png", "corrupt.png: the PNG data is damaged or truncated"),
        ("truncated.jpg", "truncated.jpg: not a readable JPEG: libjpeg-turbo says “Invalid JPEG file structure: missing SOS marker” (the file ends without JPEG's end-of-image marker: it looks truncated)"),
        ("corrupt.jpg", "corrupt.jpg: not a readable JPEG"),
        ("text.png", "text.png: not a PNG or JPEG image (its first bytes are 6e 6f 74 20"),
        ("empty.jpg", "empty.jpg: the file is empty"),
        ("animation.jpg", "animation.jpg: a GIF image; Zoo decodes PNG and JPEG only"),
        ("missing.png", "missing.png: cannot read the file"),
    ])
    func badFilesAreClearErrors(_ name: String, _ message: String) {
        let error = #expect(throws: ZooError.self) { try Image(contentsOf: Fixtures.path(name)) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains(message), "got: \(text)")
        #expect(text.contains(Fixtures.path(name)), "the message names the file")
    }

    @Test func jpegCutInsideItsScanIsAnError() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("rgb.jpg"))))
        let error = #expect(throws: ZooError.self) { try Image(bytes: Array(bytes.dropLast(100)), name: "cut.jpg") }
        #expect("\(error.map { "\($0)" } ?? "")".contains("cut.jpg: the JPEG data is damaged or truncated: libjpeg-turbo says “Premature end of JPEG file”"))
    }

    /// "Extraneous bytes before marker" is the one libjpeg warning Zoo tolerates: the pixels are
    /// those of the clean file.
    @Test func extraneousBytesBeforeAMarkerAreTolerated() throws {
        let clean = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("rgb.jpg"))))
        let sos = (2..<(clean.count - 1)).first { clean[$0] == 0xFF && clean[$0 + 1] == 0xDA }!
        let padded = Array(clean[..<sos]) + [0x00, 0x11, 0x22] + Array(clean[sos...])
        #expect(try Image(bytes: padded, name: "padded.jpg") == Image(bytes: clean))
    }

    /// Every truncation and a byte flipped at every position of a PNG and a JPEG either decodes or
    /// throws a ZooError — never crashes.
    @Test(arguments: ["rgb.png", "rgb.jpg", "exif6.jpg"])
    func damagedBytesNeverCrash(_ name: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
        var failures = 0, decoded = 0
        func attempt(_ b: [UInt8]) {
            do { let i = try Image(bytes: b, name: name); decoded += 1; #expect(i.pixels.count == i.width * i.height * i.channels) }
            catch is ZooError { failures += 1 } catch { Issue.record("not a ZooError: \(error)") }
        }
        for n in 0..<bytes.count { attempt(Array(bytes.prefix(n))) }
        let truncationFailures = failures
        for i in 0..<bytes.count { var b = bytes; b[i] ^= 0x5A; attempt(b) }
        // Every truncation fails, except those that only cut what follows the image data: a PNG's
        // IEND chunk (12 bytes), a JPEG's end-of-image marker (2 bytes) — Pillow reads those too.
        #expect(truncationFailures >= bytes.count - (name.hasSuffix(".png") ? 12 : 2), "\(truncationFailures) truncations refused")
        print("\(name): \(failures) damaged versions refused, \(decoded) decoded")
    }
}
