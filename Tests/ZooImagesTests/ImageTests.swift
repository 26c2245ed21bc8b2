import Foundation
import Testing
import ZooCore
@testable import ZooImages

struct ImageTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/images")
    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    struct Expected: Decodable {
        var width: Int
        var height: Int
        var channels: Int?
        var pixels: [Int]?
        var pixels_16bit: [Int]?
    }
    static let expected: [String: Expected] = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("expected.json"))
        return try! JSONDecoder().decode([String: Expected].self, from: data)
    }()

    @Test(arguments: ["grey.png", "rgb.png", "rgba.png", "palette.png"])
    func pngPixelsExactly(_ name: String) throws {
        let image = try Image(contentsOf: Self.path(name))
        let e = Self.expected[name]!
        #expect(image.width == e.width && image.height == e.height && image.channels == e.channels)
        #expect(image.pixels.map(Int.init) == e.pixels!)
    }

    @Test func sixteenBitPNGIsReducedToEightBits() throws {
        let image = try Image(contentsOf: Self.path("grey16.png"))
        let e = Self.expected["grey16.png"]!
        #expect(image.channels == 1 && image.width == 3 && image.height == 2)
        // The high byte, rounded: v/257.
        for (got, v) in zip(image.pixels, e.pixels_16bit!) {
            #expect(Int(got) == Int((Double(v) / 257).rounded()), "16-bit \(v) → \(got)")
        }
    }

    @Test(arguments: ["rgb.jpg", "grey.jpg"])
    func jpegWithinTheDecodersTolerance(_ name: String) throws {
        let image = try Image(contentsOf: Self.path(name))
        let e = Self.expected[name]!
        #expect(image.width == e.width && image.height == e.height && image.channels == e.channels)
        let diff = zip(image.pixels, e.pixels!).map { abs(Int($0) - $1) }.max()!
        #expect(diff <= 2, "max difference from Pillow's decoder: \(diff)")
    }

    @Test func exifOrientationIsApplied() throws {
        let image = try Image(contentsOf: Self.path("exif6.jpg"))
        let e = Self.expected["exif6.jpg"]!
        #expect(image.width == 8 && image.height == 16)
        let diff = zip(image.pixels, e.pixels!).map { abs(Int($0) - $1) }.max()!
        #expect(diff <= 2)
    }

    @Test func badFilesAreClearErrors() {
        #expect { try Image(contentsOf: Self.path("truncated.png")) } throws: { "\($0)".contains("truncated.png: the PNG data is damaged or truncated") }
        #expect { try Image(contentsOf: Self.path("truncated.jpg")) } throws: { "\($0)".contains("truncated.jpg") && "\($0)".contains("JPEG") }
        #expect { try Image(contentsOf: Self.path("text.png")) } throws: { "\($0)".contains("text.png: not a PNG or JPEG") }
        #expect { try Image(contentsOf: Self.path("empty.jpg")) } throws: { "\($0)".contains("empty.jpg: the file is empty") }
        #expect { try Image(contentsOf: Self.path("missing.png")) } throws: { "\($0)".contains("cannot read") }
    }

    @Test(arguments: ["shrink", "enlarge"])
    func bilinearResizeMatchesPillow(_ label: String) throws {
        let source = FloatImage(try Image(contentsOf: Self.path("resize-source.png")))
        let e = Self.expected["resize-" + label]!
        let ours = source.resized(width: e.width, height: e.height)
        // Pillow rounds to 8 bits and computes in fixed point: within 1 of our Float result.
        let diff = zip(ours.values, e.pixels!).map { abs($0 - Float($1)) }.max()!
        #expect(diff <= 1.0, "max difference from Pillow: \(diff)")
    }

    @Test func centreCropGeometry() {
        // A 6×4 image whose value is its x coordinate: shorter side 4 stays, centre crop 2 takes x = 2, 3.
        let values = (0..<4).flatMap { _ in (0..<6).map(Float.init) }
        let image = FloatImage(width: 6, height: 4, channels: 1, values: values)
        let crop = image.resizedAndCentreCropped(shorterSide: 4, crop: 2)
        #expect(crop.width == 2 && crop.height == 2)
        #expect(crop.values == [2, 3, 2, 3])
        // Odd margin: 5 wide, crop 2 → offset round(1.5) = 2.
        let five = FloatImage(width: 5, height: 2, channels: 1, values: (0..<2).flatMap { _ in (0..<5).map(Float.init) })
        #expect(five.cropped(x: Int((Double(5 - 2) / 2).rounded()), y: 0, width: 2, height: 2).values == [2, 3, 2, 3])
    }

    @Test func presetsOnAHandComputedPixel() throws {
        let red = Image(width: 1, height: 1, channels: 3, pixels: [255, 0, 0])
        var caffe = try Preprocessing.preset("caffe", height: 1, width: 1)
        caffe.resize = nil
        let c = caffe.apply(red)
        #expect(abs(c[0] - (0 - 103.939)) < 1e-4 && abs(c[1] - (0 - 116.779)) < 1e-4 && abs(c[2] - (255 - 123.68)) < 1e-3)
        var torch = try Preprocessing.preset("torch", height: 1, width: 1)
        torch.resize = nil
        let t = torch.apply(red)
        #expect(abs(t[0] - (1 - 0.485) / 0.229) < 1e-5 && abs(t[1] - (0 - 0.456) / 0.224) < 1e-5)
        // LeNet: a 28×28 white digit on black → 1.175 inside the centred field, −0.1 in the border.
        let digit = Image(width: 28, height: 28, channels: 1, pixels: [UInt8](repeating: 255, count: 784))
        let l = try Preprocessing.preset("lenet", height: 32, width: 32).apply(digit)
        #expect(abs(l[0] - (-0.1)) < 1e-6 && abs(l[16 * 32 + 16] - 1.175) < 1e-5)
        #expect(throws: ZooError.self) { try Preprocessing.preset("imagenet", height: 224, width: 224) }
    }

    @Test func batchStacking() throws {
        let images = [Image(width: 300, height: 200, channels: 3, pixels: [UInt8](repeating: 100, count: 180_000)),
                      Image(width: 50, height: 80, channels: 1, pixels: [UInt8](repeating: 100, count: 4000))]
        let batch = try Preprocessing.preset("caffe", height: 224, width: 224).batch(images)
        #expect(batch.shape == [2, 3, 224, 224])
        #expect(abs(batch[1, 2, 100, 100] - (100 - 123.68)) < 1e-3)   // grey → RGB, channel 2 is R under BGR
    }
}
