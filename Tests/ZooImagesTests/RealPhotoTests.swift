import Foundation
import Testing
@testable import ZooImages

/// scikit-image's sample photos, fetched by `tools/fetch-skimage-data.sh` into the git-ignored
/// `.cache/data/skimage/`. Skipped when the cache is absent (CI does not run the script). The
/// references in `skimage-expected.json` were written by Pillow (`tools/make_image_fixtures.py`).
struct RealPhotoTests {
    static let cache = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".cache/data/skimage")
    static let present = FileManager.default.fileExists(atPath: cache.appendingPathComponent("chelsea.png").path)

    struct Reference: Decodable {
        var width: Int?
        var height: Int?
        var channels: Int?
        var samples: [[Double]]
    }
    static func references() throws -> [String: Reference] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("skimage-expected.json")))
        return try JSONDecoder().decode([String: Reference].self, from: data)
    }

    @Test(.enabled(if: present, "scikit-image data absent: run tools/fetch-skimage-data.sh"),
          arguments: ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "brick.png", "grass.png", "gravel.png"])
    func realPhotosDecodeLikePillow(_ name: String) throws {
        let image = try Image(contentsOf: Self.cache.appendingPathComponent(name).path)
        let r = try Self.references()[name]!
        #expect(image.width == r.width && image.height == r.height && image.channels == r.channels)
        var worst = 0
        for s in r.samples {
            let (x, y) = (Int(s[0]), Int(s[1]))
            for c in 0..<image.channels { worst = max(worst, abs(Int(image[x, y, c]) - Int(s[2 + c]))) }
        }
        print("\(name) \(image.width)×\(image.height)×\(image.channels): max difference from Pillow at 64 pixels \(worst)")
        #expect(worst <= (name.hasSuffix(".jpg") ? 2 : 0))
    }

    /// The `torch` preset against torchvision's pipeline (Resize(256), CenterCrop(224), ToTensor,
    /// Normalize) written with Pillow: Pillow rounds the resized image to 8 bits and we do not, so
    /// values may differ by about 1/255/0.225 ≈ 0.018.
    @Test(.enabled(if: present, "scikit-image data absent: run tools/fetch-skimage-data.sh"),
          arguments: ["chelsea.png", "rocket.jpg"])
    func torchPresetMatchesTorchvisionsPipeline(_ name: String) throws {
        let image = try Image(contentsOf: Self.cache.appendingPathComponent(name).path)
        let x = try Preprocessing.preset("torch", height: 224, width: 224).apply(to: image)
        var worst: Float = 0
        for s in try Self.references()["torch-" + name]!.samples {
            worst = max(worst, abs(x[0, Int(s[0]), Int(s[1]), Int(s[2])] - Float(s[3])))
        }
        print("torch preset on \(name): max difference from Pillow + torchvision's transforms at 64 values \(worst)")
        #expect(worst <= 0.02)
    }
}
