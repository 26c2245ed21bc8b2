import Foundation
import ZooCore
import ZooHDF5
import ZooWeights

/// A trained head (`zoo fit`) saved in Zoo's HDF5 style: attributes `zoo_head`, `classes`,
/// `network`, `layer`, `pool`, `preprocessing_preset`; datasets `weights` [classes, D], `bias`,
/// `mean`, `std` (the standardisation).
public enum HeadFile {
    public struct Head: Sendable {
        public var classifier: LinearClassifier
        public var network: String
        public var layer: String
        public var pooling: Extraction.Pooling
    }

    public static func write(_ head: LinearClassifier, to path: String, overwrite: Bool, source: [String: HDF5AttributeValue]) throws {
        try AtomicFile.write(to: path, overwrite: overwrite) { tmp in
            do {
                let file = try HDF5File(creating: tmp, overwrite: true)
                let root = try file.root
                try root.setAttribute("zoo_head", .int(1))
                try root.setAttribute("classes", .strings(head.classes))
                for key in ["network", "weights", "weights_sha256", "pool", "preprocessing_preset"] {
                    if let v = source[key] { try root.setAttribute(key, v) }
                }
                try root.setAttribute("layer", .string(source["layers"]?.strings?.first ?? ""))
                try root.createDataset("weights", shape: [head.classes.count, head.features], data: head.weights)
                try root.createDataset("bias", shape: [head.classes.count], data: head.bias)
                try root.createDataset("mean", shape: [head.features], data: head.mean)
                try root.createDataset("std", shape: [head.features], data: head.std)
                file.close()
            } catch let e as HDF5Error { throw ZooError("\(e)") }
        }
    }

    public static func read(_ path: String) throws -> Head {
        do {
            let root = try HDF5File(reading: path).root
            guard try root.attribute("zoo_head") != nil else { throw ZooError("\(path) is not a head made by `zoo fit`") }
            let classes = try root.attribute("classes")?.strings ?? []
            let classifier = LinearClassifier(classes: classes, mean: try root.dataset("mean").readFloats(), std: try root.dataset("std").readFloats(),
                                              weights: try root.dataset("weights").readFloats(), bias: try root.dataset("bias").readFloats())
            return Head(classifier: classifier, network: try root.attribute("network")?.string ?? "",
                        layer: try root.attribute("layer")?.string ?? "",
                        pooling: Extraction.Pooling(rawValue: try root.attribute("pool")?.string ?? "none") ?? .none)
        } catch let e as HDF5Error { throw ZooError("\(e)") }
    }
}

/// Joins the shard files of one extraction (`--shard I/N`), shard by shard.
public enum CodeMerger {
    public static func merge(_ shards: [String], into output: String, overwrite: Bool) throws -> Int {
        guard !shards.isEmpty else { throw ZooError("give the shard files to merge") }
        let parts = try shards.map { try Codes.read($0) }
        let identityKeys = ["network", "layers", "pool", "weights_sha256", "inputs", "preprocessing"]
        for (path, p) in zip(shards, parts) {
            for key in identityKeys where p.attributes[key] != parts[0].attributes[key] {
                throw ZooError("\(path) comes from another run than \(shards[0]) (\(key) differs)")
            }
            guard p.attributes["complete"]?.int == 1 else { throw ZooError("\(path) is not complete: resume its extraction first") }
        }
        let ordered = zip(shards, parts).sorted { ($0.1.attributes["shard"]?.string ?? "") < ($1.1.attributes["shard"]?.string ?? "") }
        let n = Int(parts[0].attributes["shard"]?.string?.split(separator: "/").last ?? "1") ?? 1
        let got = Set(parts.compactMap { $0.attributes["shard"]?.string })
        guard got.count == n, parts.count == n else { throw ZooError("expected \(n) distinct shards (0/\(n) … \(n - 1)/\(n)), got \(got.sorted().joined(separator: ", "))") }
        let d = parts[0].dimension
        try AtomicFile.write(to: output, overwrite: overwrite) { tmp in
            do {
                let file = try HDF5File(creating: tmp, overwrite: true)
                let root = try file.root
                for (k, v) in parts[0].attributes where k != "shard" { try root.setAttribute(k, v) }
                try root.setAttribute("shard", .string("merged from \(n)"))
                let total = parts.reduce(0) { $0 + $1.count }
                try root.setAttribute("rows", .int(total))
                try root.createDataset("codes", shape: [total, d], data: ordered.flatMap(\.1.values), chunks: [64, d])
                try root.createDataset("paths", strings: ordered.flatMap(\.1.paths), chunks: 256)
                if parts[0].labels != nil { try root.createDataset("labels", shape: [total], ints: ordered.flatMap { $0.1.labels ?? [] }, chunks: [256]) }
                file.close()
            } catch let e as HDF5Error { throw ZooError("\(e)") }
        }
        return parts.reduce(0) { $0 + $1.count }
    }
}
