import Foundation

/// The committed fixtures of `tools/make_image_fixtures.py` and their expected values.
enum Fixtures {
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

    /// The largest absolute difference between two equally long sequences.
    static func maxDifference(_ a: [Float], _ b: [Int]) -> Float {
        precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
        return zip(a, b).map { abs($0 - Float($1)) }.max() ?? 0
    }
}
