import ArgumentParser
import Foundation
import ZooCore
import ZooHDF5
import ZooWeights

struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Inspect, check, create and convert weight files (Zoo native, Keras .h5, Keras 3 .weights.h5).",
        subcommands: [Inspect.self, Check.self, Init.self, Convert.self])

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a file's format, groups, datasets (shape, type, size) and attributes.")
        @Argument(help: "An HDF5 file.") var file: String
        @Option(help: "Show at most this many attribute values per object.") var attributes: Int = 8

        func run() throws {
            try reporting {
                let h5: HDF5File
                do { h5 = try HDF5File(reading: file) } catch let e as HDF5Error { throw ZooError("\(e)") }
                let format = (try? WeightFormat.detect(h5).0).map(\.rawValue) ?? "not a weight file Zoo knows"
                let tree: HDF5Node
                do { tree = try h5.root.tree() } catch let e as HDF5Error { throw ZooError("\(e)") }
                print("\(file): \(format)")
                func show(_ node: HDF5Node, depth: Int) {
                    let indent = String(repeating: "  ", count: depth)
                    let name = node.path == "/" ? "/" : String(node.path.split(separator: "/").last ?? "")
                    switch node.kind {
                    case .group: print("\(indent)\(name == "/" ? "/" : name + "/")")
                    case .dataset(let shape, let type):
                        print("\(indent)\(name)  \(shape)  \(type)  \(Summary.grouped(shape.reduce(1, *))) values")
                    case .other: print("\(indent)\(name)  (other object)")
                    }
                    for (k, v) in node.attributes.prefix(attributes) {
                        var text = v.description
                        if text.count > 100 { text = String(text.prefix(97)) + "…" }
                        print("\(indent)  @\(k) = \(text)")
                    }
                    for child in node.children { show(child, depth: depth + 1) }
                }
                show(tree, depth: 0)
                print("total: \(Summary.grouped(tree.valueCount)) values in datasets")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Match a file against a network layer by layer: what loads, what is missing, extra or mis-shaped.")
        @Argument(help: "A network of the zoo or a definition file.") var name: String
        @Argument(help: "The weight file.") var file: String

        func run() throws {
            try reporting {
                let network = try Catalogue.network(name)
                do {
                    let report = try WeightLoader.load(network, from: file, options: .init(allowMissing: true))
                    for (layer, from) in report.loaded { print("✓ \(layer)" + (layer == from ? "" : " ← \(from)")) }
                    for layer in report.initialised { print("✗ \(layer): missing from the file") }
                    for layer in report.unused { print("? \(layer): in the file, used by no layer of \(network.name)") }
                    print(report.description)
                    if !report.initialised.isEmpty { throw ExitCode(1) }
                } catch let error as ZooError {
                    print("✗ \(error)")
                    throw ExitCode(1)
                }
            }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write seeded random weights (He/Glorot) for a network in Zoo's format.")
        @Argument(help: "A network of the zoo or a definition file.") var name: String
        @Option(name: .shortAndLong, help: "The file to write.") var output: String
        @Option(help: "Seed.") var seed: UInt64 = 0
        @Option(help: "Preprocessing preset to record (caffe, torch, lenet, raw; default: the definition's).") var preprocessing: String?
        @Flag(help: "Overwrite an existing file.") var force = false

        func run() throws {
            try reporting {
                let network = try Catalogue.network(name)
                let model = try Model.randomlyInitialised(network, seed: seed)
                var attributes: [String: HDF5AttributeValue] = ["seed": .int(Int(truncatingIfNeeded: seed)), "origin": .string("zoo weights init")]
                if let p = preprocessing ?? network.info.preprocessing { attributes["preprocessing_preset"] = .string(p) }
                try WeightWriter.write(model, to: output, overwrite: force, attributes: attributes)
                print("wrote \(output): \(network.name), \(Summary.grouped(try Summary(network).parameters)) values, seed \(seed)")
            }
        }
    }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Convert a Keras weight file into Zoo's format for a network of the zoo.")
        @Argument(help: "The input file (Keras .h5 or .weights.h5, or a Zoo file).") var input: String
        @Option(name: .shortAndLong, help: "The Zoo file to write.") var output: String
        @Option(help: "The network the file is for.") var arch: String
        @Option(help: "Preprocessing preset to record (default: the definition's).") var preprocessing: String?
        @Flag(help: "Overwrite an existing output file.") var force = false

        func run() throws {
            try reporting {
                let network = try Catalogue.network(arch)
                let report = try WeightLoader.load(network, from: input)
                var attributes: [String: HDF5AttributeValue] = ["origin": .string("converted from \(URL(fileURLWithPath: input).lastPathComponent) (\(report.format.rawValue))")]
                if let p = preprocessing ?? network.info.preprocessing { attributes["preprocessing_preset"] = .string(p) }
                try WeightWriter.write(report.model, to: output, overwrite: force, attributes: attributes)
                print(report.description)
                print("wrote \(output)")
            }
        }
    }
}
