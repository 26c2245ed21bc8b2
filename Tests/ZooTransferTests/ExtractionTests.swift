import Foundation
import Testing
import ZooCore
import ZooImages
import ZooEngine
@testable import ZooTransfer

/// Extraction on real photos (scikit-image's brick, grass and gravel textures cut into patches by
/// tools/make_texture_patches.py) with a small seeded network: codes, labels, failures, stop and
/// resume, shards and merging, and a classifier on the codes.
struct ExtractionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let textures = fixtures.appendingPathComponent("textures").path

    static func job() throws -> Extraction {
        let network = try DefinitionFile(text: """
            name: tiny
            input: [1, 32, 32]
            layers:
              - {name: conv1, type: conv, filters: 8, kernel: 3, padding: 1}
              - {name: relu1, type: relu}
              - {name: pool1, type: maxpool, kernel: 2}
              - {name: conv2, type: conv, filters: 16, kernel: 3, padding: 1}
              - {name: relu2, type: relu}
              - {name: gap, type: gap}
              - {name: flatten, type: flatten}
            """, path: "tiny.yaml").network(named: "tiny")
        var prep = try Preprocessing.preset("raw", height: 32, width: 32)
        prep.order = .grey; prep.mean = [128]; prep.std = [64]; prep.resize = nil
        var job = Extraction(model: try Model.randomlyInitialised(network, seed: 3), weightsPath: nil, layers: ["flatten", "conv2"], preprocessing: prep)
        job.batch = 8
        job.threads = 1
        job.pooling = .avg
        return job
    }

    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-extract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func codesLabelsAndAClassifier() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = try InputList.collect([Self.textures])
        #expect(inputs.paths.count == 36 && inputs.classes == ["brick", "grass", "gravel"])
        let out = dir.appendingPathComponent("codes.h5").path
        let result = try Self.job().run(inputs: inputs, output: out)
        #expect(result.written == 36 && result.failed.isEmpty && result.dimensions == ["flatten": 16, "conv2": 16])
        let codes = try Codes.read(out, layer: "flatten")
        #expect(codes.count == 36 && codes.dimension == 16 && codes.labels == inputs.labels)
        #expect(codes.attributes["complete"] == .int(1))
        let split = try StratifiedSplit(labels: codes.labels!, holdout: 0.25, seed: 1)
        func rows(_ idx: [Int]) -> [Float] { idx.flatMap { codes.values[($0 * 16)..<(($0 + 1) * 16)] } }
        let (head, _) = try LinearClassifier.fit(codes: rows(split.train), labels: split.train.map { codes.labels![$0] }, classes: codes.classes, l2: 1e-3)
        let accuracy = ConfusionMatrix(classes: codes.classes, truth: split.holdout.map { codes.labels![$0] }, predicted: try head.predict(rows(split.holdout))).accuracy
        #expect(accuracy > 0.5, "hold-out accuracy \(accuracy) on three texture classes (chance: 0.33)")
    }

    @Test func aCorruptImageIsListedAndSkipped() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("images")
        try FileManager.default.copyItem(atPath: Self.textures, toPath: images.path)
        try Data("not an image".utf8).write(to: images.appendingPathComponent("grass/99.png"))
        let out = dir.appendingPathComponent("codes.h5").path
        let result = try Self.job().run(inputs: try InputList.collect([images.path]), output: out)
        #expect(result.written == 36 && result.failed.count == 1 && result.failed[0].path.hasSuffix("grass/99.png"))
        #expect(result.failed[0].reason.contains("not a PNG or JPEG"))
    }

    @Test func stopAndResumeGiveTheSameCodes() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = try InputList.collect([Self.textures])
        let whole = dir.appendingPathComponent("whole.h5").path
        _ = try Self.job().run(inputs: inputs, output: whole)
        let resumed = dir.appendingPathComponent("resumed.h5").path
        final class Counter: @unchecked Sendable { var calls = 0 }
        let counter = Counter()
        let first = try Self.job().run(inputs: inputs, output: resumed, shouldStop: { counter.calls += 1; return counter.calls > 2 })
        #expect(first.written == 16)                           // two batches of 8, then the stop
        #expect(try Codes.read(resumed, layer: "flatten").count == 16)   // a valid file holding them
        let second = try Self.job().run(inputs: inputs, output: resumed)
        #expect(second.resumedFrom == 16 && second.written == 36)
        let a = try Codes.read(whole, layer: "conv2"), b = try Codes.read(resumed, layer: "conv2")
        #expect(a.values == b.values && a.paths == b.paths)
        // Another layer set is another run: refused, not mixed.
        var other = try Self.job()
        other.layers = ["flatten"]
        #expect { try other.run(inputs: inputs, output: resumed) } throws: { "\($0)".contains("holds another run") }
    }

    @Test func shardsMergeIntoTheWhole() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = try InputList.collect([Self.textures])
        var job = try Self.job()
        job.layers = ["flatten"]
        var files: [String] = []
        for i in 0..<3 {
            let path = dir.appendingPathComponent("shard\(i).h5").path
            _ = try job.run(inputs: try inputs.shard(i, of: 3), output: path, shard: "\(i)/3")
            files.append(path)
        }
        let merged = dir.appendingPathComponent("all.h5").path
        #expect(try CodeMerger.merge(files, into: merged, overwrite: false) == 36)
        #expect(Set(try Codes.read(merged).paths) == Set(inputs.paths))
        #expect { try CodeMerger.merge(Array(files.prefix(2)), into: merged, overwrite: true) } throws: { "\($0)".contains("expected 3 distinct shards") }
        #expect(throws: ZooError.self) { try inputs.shard(3, of: 3) }
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Data(String(repeating: "a", count: 1000).utf8)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

struct TensorInputTests {
    @Test func npyRowsAreInputs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let npy = dir.appendingPathComponent("x.npy").path
        try NPY.write(Tensor(shape: [3, 1, 32, 32], data: (0..<3072).map { sin(Float($0)) }), to: npy)
        let inputs = try InputList.collect([npy])
        #expect(inputs.paths == ["\(npy)#0", "\(npy)#1", "\(npy)#2"])
        var job = try ExtractionTests.job()
        job.layers = ["flatten"]
        let out = dir.appendingPathComponent("codes.h5").path
        let result = try job.run(inputs: inputs, output: out)
        #expect(result.written == 3 && result.failed.isEmpty)
        // The same rows through the engine directly give the same codes.
        let direct = try ZooEngine.Engine(model: job.model, threads: 1).run(try NPY.read(npy), outputs: ["flatten"])["flatten"]!
        #expect(try Codes.read(out).values == direct.data)
        // A tensor of the wrong shape is a failure of that input, not a crash.
        let bad = dir.appendingPathComponent("bad.npy").path
        try NPY.write(Tensor(shape: [1, 3, 8, 8], data: [Float](repeating: 0, count: 192)), to: bad)
        let r = try job.run(inputs: try InputList.collect([bad]), output: dir.appendingPathComponent("bad.h5").path)
        #expect(r.failed.count == 1 && r.failed[0].reason.contains("rows of shape [3, 8, 8]"))
    }
}

/// The end-to-end run on real photos with a zoo network: ResNet-18 (seeded random weights)
/// codes of scikit-image's texture patches, a classifier on them, and a prediction through the head.
struct ResNetEndToEndTests {
    @Test func resnet18CodesSeparateRealTextures() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-r18-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let network = try Catalogue.network("resnet18")
        let model = try Model.randomlyInitialised(network, seed: 7)
        var job = Extraction(model: model, weightsPath: nil, layers: ["conv5_2"],
                             preprocessing: try Preprocessing.preset("caffe", height: 224, width: 224))
        job.pooling = .avg
        job.batch = 12
        let inputs = try InputList.collect([ExtractionTests.textures])
        let out = dir.appendingPathComponent("codes.h5").path
        let result = try job.run(inputs: inputs, output: out)
        #expect(result.written == 36 && result.dimensions == ["conv5_2": 512])
        let codes = try Codes.read(out)
        let split = try StratifiedSplit(labels: codes.labels!, holdout: 1.0 / 3, seed: 2)
        func rows(_ idx: [Int]) -> [Float] { idx.flatMap { codes.values[($0 * 512)..<(($0 + 1) * 512)] } }
        let (head, report) = try LinearClassifier.fit(codes: rows(split.train), labels: split.train.map { codes.labels![$0] },
                                                      classes: codes.classes, l2: 1e-3)
        #expect(report.converged)
        let m = ConfusionMatrix(classes: codes.classes, truth: split.holdout.map { codes.labels![$0] }, predicted: try head.predict(rows(split.holdout)))
        #expect(m.accuracy >= 0.75, "hold-out accuracy \(m.accuracy) with random ResNet-18 features\n\(m.rendered)")
        // Predict one patch through the head, as `zoo predict --head` does.
        let patch = try Image(contentsOf: ExtractionTests.textures + "/gravel/07.png")
        let x = job.preprocessing.batch([patch])
        let act = try ZooEngine.Engine(model: model).run(x, outputs: ["conv5_2"])["conv5_2"]!
        let p = try head.probabilities(job.vector(act, row: 0))
        #expect(p.count == 3 && abs(p.reduce(0, +) - 1) < 1e-4)
    }
}
