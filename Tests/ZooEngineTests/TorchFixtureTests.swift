import Foundation
import Testing
import ZooCore
@testable import ZooEngine

/// The engine against PyTorch (tools/make_fixtures.py): every layer kind with its edge cases and
/// whole small networks. max|ours − torch| / max|torch| ≤ 1e-5 for every output.
struct TorchFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/layers")
    static let cases: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()

    struct Case {
        var model: Model
        var input: Tensor
        var expected: [String: Tensor]
    }

    static func load(_ name: String) throws -> Case {
        let folder = root.appendingPathComponent(name)
        let definition = try String(contentsOf: folder.appendingPathComponent("definition.yaml"), encoding: .utf8)
        let network: Network
        if definition.hasPrefix("zoo: ") {
            network = try Catalogue.network(definition.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines))
        } else {
            let file = try DefinitionFile(text: definition, path: "\(name)/definition.yaml")
            network = try file.network(named: file.entries[0].name)
        }
        var parameters: [String: [String: Tensor]] = [:]
        let paramDir = folder.appendingPathComponent("params").path
        for file in (try? FileManager.default.contentsOfDirectory(atPath: paramDir)) ?? [] {
            let stem = String(file.dropLast(4))               // "layer.name.param"
            let dot = stem.lastIndex(of: ".")!
            parameters[String(stem[..<dot]), default: [:]][String(stem[stem.index(after: dot)...])] = try NPY.read(paramDir + "/" + file)
        }
        var expected: [String: Tensor] = [:]
        let expectedDir = folder.appendingPathComponent("expected").path
        for file in try FileManager.default.contentsOfDirectory(atPath: expectedDir) {
            expected[String(file.dropLast(4))] = try NPY.read(expectedDir + "/" + file)
        }
        return Case(model: try Model(network: network, parameters: parameters),
                    input: try NPY.read(folder.appendingPathComponent("input.npy").path), expected: expected)
    }

    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.data.map(abs).max() ?? 0
        let diff = zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0
        return scale > 0 ? diff / scale : diff
    }

    @Test func fixturesExist() {
        #expect(Self.cases.count >= 25, "tools/make_fixtures.py writes the cases to \(Self.root.path)")
    }

    @Test(arguments: cases)
    func matchesPyTorch(_ name: String) throws {
        let c = try Self.load(name)
        for threads in [1, 2] {
            let engine = try Engine(model: c.model, threads: threads)
            // Every expected output at once (BN folding and ReLU fusion must step aside) …
            let all = try engine.run(c.input, outputs: Array(c.expected.keys))
            for (layer, reference) in c.expected {
                let ours = try #require(all[layer])
                #expect(ours.shape == reference.shape, "\(name) \(layer): shape")
                #expect(Self.relativeError(ours, reference) <= 1e-5, "\(name) \(layer): relative error \(Self.relativeError(ours, reference))")
            }
            // … and each alone (folding and fusion apply where they can).
            for (layer, reference) in c.expected {
                let ours = try #require(try engine.run(c.input, outputs: [layer])[layer])
                #expect(Self.relativeError(ours, reference) <= 1e-5, "\(name) \(layer) alone (threads \(threads)): relative error \(Self.relativeError(ours, reference))")
            }
        }
    }
}
