import Foundation
import Testing
import ZooCore
import ZooEngine
import ZooImages
import ZooWeights
@testable import ZooTransfer

/// What `zoo train` reads (folders of images, .npy pairs), new heads for other class counts, and
/// the optimiser state a checkpoint carries.
struct TrainingDataTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func tiny(input: String = "[1, 8, 8]", preprocessing: String = "raw") throws -> Network {
        try DefinitionFile(text: """
            name: tiny
            input: \(input)
            preprocessing: \(preprocessing)
            layers:
              - {name: conv, type: conv, filters: 4, kernel: 3, padding: 1}
              - {name: act, type: relu}
              - {name: gap, type: gap}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 10}
              - {name: prob, type: softmax}
            """, path: "tiny.yaml").network(named: "tiny")
    }

    /// A little-endian int64 .npy, as NumPy writes labels.
    static func int64NPY(_ values: [Int64]) -> Data {
        var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (\(values.count),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(Data(header.utf8))
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    @Test func npyPairSplitsEachClass() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 30
        let x = Tensor(shape: [n, 8, 8], data: (0..<(n * 64)).map { Float($0 % 7) })
        try NPY.encode(x).write(to: dir.appendingPathComponent("x.npy"))
        try Self.int64NPY((0..<n).map { Int64($0 % 3) }).write(to: dir.appendingPathComponent("y.npy"))
        let data = try TrainingData.load(dir.appendingPathComponent("x.npy").path, labels: dir.appendingPathComponent("y.npy").path, network: Self.tiny())
        #expect(data.classes == ["0", "1", "2"])
        #expect(data.train.count == 24 && data.test.count == 6)
        #expect(data.train.images.shape == [24, 1, 8, 8])
        #expect(data.preprocessing == "raw")
        // Each class's last 20 % (in file order) is the test set: samples 21, 24, 27 of class 0 → two of them.
        #expect(data.test.labels.filter { $0 == 0 }.count == 2)
    }

    @Test func npyPairErrorsNameTheFile() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let xPath = dir.appendingPathComponent("x.npy").path, yPath = dir.appendingPathComponent("y.npy").path
        try NPY.encode(Tensor(shape: [4, 8, 8], data: [Float](repeating: 0, count: 256))).write(to: URL(fileURLWithPath: xPath))
        try Self.int64NPY([0, 1, 2]).write(to: URL(fileURLWithPath: yPath))
        let network = try Self.tiny()
        #expect { try TrainingData.load(xPath, labels: yPath, network: network) } throws: { "\($0)".contains("3 labels for the 4 inputs") }
        #expect { try TrainingData.load(xPath, network: network) } throws: { "\($0)".contains("--labels") }
        try Self.int64NPY([0, 1, -2, 1]).write(to: URL(fileURLWithPath: yPath))
        #expect { try TrainingData.load(xPath, labels: yPath, network: network) } throws: { "\($0)".contains("label 2 is -2.0") }
        try NPY.encode(Tensor(shape: [4, 2, 8, 8], data: [Float](repeating: 0, count: 512))).write(to: URL(fileURLWithPath: xPath))
        try Self.int64NPY([0, 1, 0, 1]).write(to: URL(fileURLWithPath: yPath))
        #expect { try TrainingData.load(xPath, labels: yPath, network: network) } throws: { "\($0)".contains("x.npy has shape [4, 2, 8, 8]") }
        #expect { try TrainingData.load(dir.appendingPathComponent("nope").path, network: network) } throws: { "\($0)".contains("not a named data set") }
    }

    @Test func folderOfClassFolders() throws {
        var prep = try Preprocessing.preset("raw", height: 32, width: 32)
        prep.order = .grey; prep.mean = [128]; prep.std = [64]
        let network = try Self.tiny(input: "[1, 32, 32]")
        let data = try TrainingData.load(Self.fixtures.appendingPathComponent("textures").path, network: network, preprocessing: prep)
        #expect(data.classes == ["brick", "grass", "gravel"])
        #expect(data.train.count + data.test.count == 36)
        #expect(data.test.count == 6)
        #expect(data.train.images.sampleShape == network.input)
        // The values are the preprocessing's: the first image decoded and prepared by hand.
        let first = prep.apply(try Image(contentsOf: Self.fixtures.appendingPathComponent("textures/brick/00.png").path))
        #expect(Array(data.train.images.data[0..<1024]) == first)
    }

    @Test func aCorruptImageStopsTrainingDataWithItsName() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for c in ["a", "b"] { try FileManager.default.createDirectory(at: dir.appendingPathComponent(c), withIntermediateDirectories: true) }
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("textures/brick/00.png"), to: dir.appendingPathComponent("a/1.png"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("images/truncated.png"), to: dir.appendingPathComponent("b/2.png"))
        var prep = try Preprocessing.preset("raw", height: 32, width: 32)
        prep.order = .grey; prep.mean = [0]; prep.std = [1]
        #expect { try TrainingData.load(dir.path, network: Self.tiny(input: "[1, 32, 32]"), preprocessing: prep) } throws: { "\($0)".contains("b/2.png") }
        // A folder without class sub-folders.
        #expect { try TrainingData.load(dir.appendingPathComponent("a").path, network: Self.tiny(input: "[1, 32, 32]"), preprocessing: prep) } throws: {
            "\($0)".contains("class sub-folders")
        }
    }

    @Test func newHeadsForOtherClassCounts() throws {
        let common = try Catalogue.network("lenet5-common")
        #expect(common.classCount == 10)
        let three = try common.withHead(classes: 3)
        #expect(three.classCount == 3)
        #expect(three.head?.name == "OUTPUT")
        let params = try three.infer().flatMap(\.parameters).map(\.count).reduce(0, +)
        #expect(params == 61_706 - 7 * 85)   // 7 fewer output units of 84 weights and a bias
        #expect { try Catalogue.network("lenet5").withHead(classes: 3) } throws: { "\($0)".contains("RBF") }
        #expect(throws: ZooError.self) { try common.withHead(classes: 1) }
    }

    /// A file trained on three classes says so (`classes`): loading it into the ten-class catalogue
    /// network resizes the head; the optimiser state rides along and is not a layer.
    @Test func weightFilesCarryClassesAndOptimizerState() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("three.h5").path
        let three = try Catalogue.network("lenet5-common").withHead(classes: 3)
        let model = try Model.randomlyInitialised(three, seed: 4)
        let velocity: [String: [String: [Float]]] = ["OUTPUT": ["kernel": (0..<252).map { Float($0) / 7 }, "bias": [1, 2, 3]]]
        try WeightWriter.write(model, to: path, attributes: ["classes": .strings(["a", "b", "c"])], optimizerState: velocity)
        let report = try WeightLoader.load(try Catalogue.network("lenet5-common"), from: path)
        #expect(report.adaptedHead?.layer == "OUTPUT" && report.adaptedHead?.from == 10 && report.adaptedHead?.to == 3)
        #expect(report.model.parameters == model.parameters)
        #expect(report.unused.isEmpty)
        #expect(try WeightLoader.optimizerState(in: path)["OUTPUT"]! == velocity["OUTPUT"]!)
        #expect { try WeightLoader.load(try Catalogue.network("lenet5-common"), from: path, options: .init(adaptHead: false)) } throws: {
            "\($0)".contains("OUTPUT")
        }
        // LeNet-5's RBF head cannot follow: the error says which file and why.
        #expect { try WeightLoader.load(try Catalogue.network("lenet5"), from: path) } throws: { "\($0)".contains("3 classes") }
    }
}
