import Foundation
import Testing
import ZooCore
import ZooEngine
import ZooHDF5
@testable import ZooWeights

/// Real Keras files (tools/make_keras_fixtures.py) loaded into the same network written as a Zoo
/// definition, run by the engine, and compared with Keras's own output.
struct WeightLoaderTests {
    static let keras = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras")
    static func path(_ name: String) -> String { keras.appendingPathComponent(name).path }

    static func network() throws -> Network {
        try DefinitionFile(contentsOf: keras.appendingPathComponent("definition.yaml")).network(named: "kerasnet")
    }

    func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.data.map(abs).max()!
        return zip(a.data, b.data).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: ["legacy_weights.h5", "legacy_model.h5", "keras3.weights.h5"])
    func kerasFilesGiveKerasOutputs(_ file: String) throws {
        let report = try WeightLoader.load(Self.network(), from: Self.path(file))
        #expect(report.format == (file.hasPrefix("keras3") ? .keras3 : .kerasLegacy))
        #expect(report.loaded.map(\.layer) == ["conv1", "bn1", "conv2", "fc1_linear", "predictions"])
        #expect(report.unused.isEmpty && report.initialised.isEmpty)
        let out = try Engine(model: report.model, threads: 1).run(try NPY.read(Self.path("input.npy")), outputs: ["prob", "fc1"])
        let expected = try NPY.read(Self.path("expected.npy"))
        #expect(out["prob"]!.shape == expected.shape)
        #expect(Self.relativeError(out["prob"]!, expected) <= 1e-5)
        #expect(Self.relativeError(out["fc1"]!, try NPY.read(Self.path("expected_fc1.npy"))) <= 1e-5)
    }

    @Test func kerasToNativeRoundTrip() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keras = try WeightLoader.load(Self.network(), from: Self.path("legacy_weights.h5")).model
        let native = dir.appendingPathComponent("net.h5").path
        try WeightWriter.write(keras, to: native, attributes: ["preprocessing_preset": .string("raw")])
        let back = try WeightLoader.load(Self.network(), from: native)
        #expect(back.format == .zoo)
        #expect(back.attributes["architecture"] == .string("kerasnet"))
        #expect(back.attributes["preprocessing_preset"] == .string("raw"))
        for (layer, tensors) in keras.parameters { for (name, t) in tensors { #expect(back.model.parameters[layer]![name] == t, "\(layer).\(name)") } }
        // Never overwritten without asking; a failed write leaves nothing behind.
        #expect { try WeightWriter.write(keras, to: native) } throws: { "\($0)".contains("refusing to overwrite") }
        try WeightWriter.write(keras, to: native, overwrite: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["net.h5"])
        #expect { try WeightWriter.write(keras, to: dir.appendingPathComponent("no/such/dir.h5").path) } throws: { "\($0)".contains("does not exist") }
    }

    @Test func randomInitialisationRoundTrip() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let network = try Catalogue.network("lenet5")
        let model = try Model.randomlyInitialised(network, seed: 5)
        let path = dir.appendingPathComponent("lenet5.h5").path
        try WeightWriter.write(model, to: path)
        let loaded = try WeightLoader.load(network, from: path).model
        #expect(loaded.parameters["C3"]!["kernel"] == model.parameters["C3"]!["kernel"])
        #expect(loaded.parameters["OUTPUT"]!["prototypes"] == model.parameters["OUTPUT"]!["prototypes"])
    }

    @Test func mismatchedShapesNameTheLayerAndPath() throws {
        // The same file into a network whose first convolution has 8 filters instead of 4.
        let text = try String(contentsOf: Self.keras.appendingPathComponent("definition.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "filters: 4", with: "filters: 8")
        let network = try DefinitionFile(text: text, path: "wide.yaml").network(named: "kerasnet")
        #expect { try WeightLoader.load(network, from: Self.path("legacy_weights.h5")) } throws: {
            let s = "\($0)"
            return s.contains("layer `conv1`") && s.contains("/block1_conv1/block1_conv1/kernel:0 has shape [3, 3, 3, 4]") && s.contains("[3, 3, 3, 8]")
        }
    }

    @Test func missingLayersAndANotopFile() throws {
        // A network with one more dense layer than the file has.
        let text = try String(contentsOf: Self.keras.appendingPathComponent("definition.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  - {name: prob, type: softmax}", with: "  - {name: extra, type: dense, units: 3}\n  - {name: prob, type: softmax}")
        let network = try DefinitionFile(text: text, path: "extra.yaml").network(named: "kerasnet")
        #expect { try WeightLoader.load(network, from: Self.path("keras3.weights.h5")) } throws: {
            "\($0)".contains("no weights for `extra`") && "\($0)".contains("_notop")
        }
        // Allowed: the missing layer is initialised at random and reported; skipping works by name.
        let report = try WeightLoader.load(network, from: Self.path("keras3.weights.h5"), options: .init(allowMissing: true))
        #expect(report.initialised == ["extra"])
        let skipped = try WeightLoader.load(Self.network(), from: Self.path("keras3.weights.h5"), options: .init(skip: ["predictions"]))
        #expect(skipped.initialised == ["predictions"] && skipped.unused == ["predictions"])
    }

    @Test func badFiles() throws {
        let hdf5 = Self.keras.deletingLastPathComponent().appendingPathComponent("hdf5")
        #expect { try WeightLoader.load(Self.network(), from: hdf5.appendingPathComponent("not-hdf5.h5").path) } throws: { "\($0)".contains("not an HDF5 file") }
        #expect { try WeightLoader.load(Self.network(), from: hdf5.appendingPathComponent("truncated.h5").path) } throws: { "\($0)".contains("truncated") }
        // kinds.h5 carries a Keras-style `layer_names` attribute but not the groups it names.
        #expect { try WeightLoader.load(Self.network(), from: hdf5.appendingPathComponent("kinds.h5").path) } throws: { "\($0)".contains("`layer_names` lists `block1_conv1` but the file has no group") }
        #expect { try WeightLoader.load(Self.network(), from: hdf5.appendingPathComponent("ordered.h5").path) } throws: { "\($0)".contains("not a weight file Zoo knows") }
        // A weight that is strings, not numbers.
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.h5").path
        do {
            let f = try HDF5File(creating: path)
            let root = try f.root
            try root.setAttribute("zoo_format", .string("zoo-weights"))
            let conv1 = try root.createGroup("conv1")
            try conv1.createDataset("kernel", strings: ["not", "numbers"])
            try conv1.createDataset("bias", shape: [4], data: [0, 0, 0, 0])
        }
        #expect { try WeightLoader.load(Self.network(), from: path) } throws: { "\($0)".contains("/conv1/kernel: holds string values, not numbers") }
    }

    @Test func kerasWeightNamesOfEveryGeneration() {
        #expect(WeightReaders.kerasRole("block1_conv1/kernel:0", layer: "block1_conv1") == "kernel")
        #expect(WeightReaders.kerasRole("kernel", layer: "x") == "kernel")
        #expect(WeightReaders.kerasRole("block1_conv1_W_1:0", layer: "block1_conv1") == "kernel")
        #expect(WeightReaders.kerasRole("block1_conv1_b_1:0", layer: "block1_conv1") == "bias")
        #expect(WeightReaders.kerasRole("bn_running_std_3:0", layer: "bn") == "moving_variance")
        #expect(WeightReaders.kerasRole("bn/moving_mean:0", layer: "bn") == "moving_mean")
    }
}

/// The weights Zoo ships (trained by `zoo train` on 4,000 real MNIST digits) classify real held-out
/// digits (Tests/Fixtures/mnist, made by tools/make_mnist_sample.py).
struct ShippedWeightsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: ["lenet5-common", "lenet5"])
    func shippedLeNetReadsDigits(_ name: String) throws {
        let report = try WeightLoader.load(Catalogue.network(name), from: Self.root.appendingPathComponent("Weights/\(name).h5").path)
        #expect(report.attributes["preprocessing_preset"] == .string("lenet"))
        #expect(report.attributes["history"]?.doubles?.count == 20 * 6)
        let digits = try NPY.read(Self.root.appendingPathComponent("Tests/Fixtures/mnist/test-digits.npy").path)
        let out = try Engine(model: report.model).run(digits)[report.model.network.output.name]!
        let rbf = name == "lenet5"   // distances: the smallest wins
        let predicted = (0..<10).map { i -> Int in
            let row = Array(out.data[(i * 10)..<((i + 1) * 10)])
            return rbf ? row.indices.min { row[$0] < row[$1] }! : row.indices.max { row[$0] < row[$1] }!
        }
        #expect(zip(predicted, 0..<10).filter { $0 == $1 }.count >= 9, "predicted \(predicted)")
    }
}
