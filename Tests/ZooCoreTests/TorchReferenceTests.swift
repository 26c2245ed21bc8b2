import Foundation
import Testing
@testable import ZooCore

/// Every architecture against an independent reference: what PyTorch (torchvision's models, or the
/// papers transcribed into plain torch.nn by tools/torch_reference.py) reports for each layer when it
/// runs a batch of one. The JSON files under Tests/Fixtures/reference/ are made by that script.
///
/// The comparison walks the weighted layers (convolutions and fully-connected layers) in execution
/// order — torchvision's forward passes run them in the same order as our topological order — and
/// requires the same output shape, parameter count and MACs for each, then the same totals.
struct TorchReferenceTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/reference")

    /// Reference file → our network.
    static let pairs: [(reference: String, network: String)] = [
        ("lenet5_common", "lenet5-common"),
        ("alexnet_paper", "alexnet"), ("alexnet_ungrouped", "alexnet-ungrouped"), ("alexnet", "alexnet-torchvision"),
        ("zfnet", "zfnet"), ("zfnet_b", "zfnet-b"),
        ("vgg11", "vgg11"), ("vgg13", "vgg13"), ("vgg16", "vgg16"), ("vgg19", "vgg19"),
        ("googlenet_paper", "googlenet"), ("googlenet", "googlenet-torchvision"),
        ("resnet18", "resnet18-v1.5"), ("resnet34", "resnet34-v1.5"), ("resnet50", "resnet50-v1.5"),
        ("resnet101", "resnet101-v1.5"), ("resnet152", "resnet152-v1.5"),
        ("resnet18_optionA", "resnet18-a"), ("resnet34_optionA", "resnet34-a"),
        ("resnet50_v1", "resnet50"), ("resnet101_v1", "resnet101"), ("resnet152_v1", "resnet152"),
    ]

    struct Reference: Decodable {
        struct Record: Decodable {
            var module: String
            var type: String
            var output: [Int]
            var params: Int
            var macs: Int?
        }
        struct Totals: Decodable {
            var params: Int
            var trainable: Int?
            var buffers: Int?
            var macs: Int?
            var input: [Int]
        }
        var layers: [Record]
        var totals: Totals
    }

    static func load(_ name: String) throws -> Reference {
        let url = directory.appendingPathComponent(name + ".json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    @Test func everyReferenceIsPaired() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".json") }
        #expect(!files.isEmpty, "no reference JSON in \(Self.directory.path): run tools/torch_reference.py")
        for pair in Self.pairs {
            #expect(files.contains(pair.reference + ".json"), "missing reference \(pair.reference).json")
        }
    }

    @Test(arguments: pairs)
    func layerByLayer(reference: String, network name: String) throws {
        let ref = try Self.load(reference)
        let network = try Catalogue.network(name)
        #expect(network.input.dims == ref.totals.input, "\(name): input")
        let infos = try network.infer()
        // Torch's weighted leaves in call order, each called once per forward (auxiliary heads excluded).
        let theirs = ref.layers.filter { ["Conv2d", "Linear"].contains($0.type) }
        let ours = infos.filter {
            switch $0.layer.kind {
            case .convolution, .dense: return true
            default: return false
            }
        }
        #expect(theirs.count == ours.count, "\(name): \(ours.count) weighted layers, reference \(reference) has \(theirs.count)")
        for (t, o) in zip(theirs, ours) {
            #expect(o.output.dims == t.output, "\(name).\(o.name) vs \(t.module): output")
            #expect(o.parameterCount == t.params, "\(name).\(o.name) vs \(t.module): params")
            if let macs = t.macs { #expect(o.macs == macs, "\(name).\(o.name) vs \(t.module): MACs") }
        }
        let summary = try Summary(network)
        #expect(summary.trainable == (ref.totals.trainable ?? ref.totals.params), "\(name): trainable parameters")
        if let buffers = ref.totals.buffers { #expect(summary.nonTrainable == buffers, "\(name): BN statistics") }
        if let macs = ref.totals.macs { #expect(summary.macs == macs, "\(name): MACs") }
        // Every layer that changes the shape in torch changes it the same way in Zoo: compare the
        // sequence of distinct feature-map shapes along the main path.
        let theirShapes = Self.distinct(ref.layers.filter { !$0.module.contains("aux") }.map(\.output))
        let ourShapes = Self.distinct(infos.filter { !$0.name.hasPrefix("aux") }.map(\.output.dims))
        #expect(Set(theirShapes).isSubset(of: Set(ourShapes)), "\(name): shapes torch reports that Zoo never produces: \(Set(theirShapes).subtracting(ourShapes))")
    }

    static func distinct(_ shapes: [[Int]]) -> [[Int]] {
        var out: [[Int]] = []
        for s in shapes where out.last != s { out.append(s) }
        return out
    }
}
