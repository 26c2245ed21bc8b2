import Foundation
import ZooCore
import ZooHDF5
import ZooImages

/// The HDF5 file an extraction writes (docs/transfer-learning.md): `codes` [N, D] (or one dataset
/// per layer under `codes/` when several layers are asked for), `paths`, `labels` and the `classes`
/// attribute when known, `failed/paths` and `failed/reasons`; attributes naming the network,
/// layers, weights (and their SHA-256), preprocessing, inputs and Zoo version. Every dataset is
/// chunked and grows batch by batch; the attributes `processed` and `rows` are the commit point a
/// resumed run starts from.
final class CodeFile {
    let file: HDF5File
    let root: HDF5Group
    let layers: [String]
    private(set) var processed: Int
    private(set) var rows: Int
    let path: String

    static let version = "zoo 0.1"

    private init(file: HDF5File, layers: [String], path: String) throws {
        self.file = file
        self.root = try file.root
        self.layers = layers
        self.path = path
        processed = try root.attribute("processed")?.int ?? 0
        rows = try root.attribute("rows")?.int ?? 0
    }

    func codes(_ layer: String) throws -> HDF5Dataset {
        layers.count == 1 ? try root.dataset("codes") : try root.dataset("codes/" + layer)
    }

    static func openOrCreate(_ path: String, identity: [String: HDF5AttributeValue], dimensions: [String: Int], layers: [String],
                             inputs: InputList, preprocessing: Preprocessing, force: Bool) throws -> CodeFile {
        do {
            if FileManager.default.fileExists(atPath: path) && !force {
                let file = try HDF5File(reading: path, writable: true)
                let root = try file.root
                guard try root.attribute("zoo_codes") != nil else {
                    throw ZooError("\(path) exists and is not a Zoo code file; refusing to overwrite it", hint: "choose another -o, or --force")
                }
                for (key, value) in identity.sorted(by: { $0.key < $1.key }) where try root.attribute(key) != value {
                    throw ZooError("\(path) holds another run (\(key): \(try root.attribute(key)?.description ?? "none") here, \(value) now); refusing to mix them",
                                   hint: "use another -o, or --force to start again")
                }
                let codeFile = try CodeFile(file: file, layers: layers, path: path)
                // Drop rows written after the last commit (a run killed mid-batch).
                for layer in layers { try codeFile.codes(layer).setRows(codeFile.rows) }
                try root.dataset("paths").setRows(codeFile.rows)
                if root.contains("labels") { try root.dataset("labels").setRows(codeFile.rows) }
                return codeFile
            }
            if force && FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            let file = try HDF5File(creating: path)
            let root = try file.root
            try root.setAttribute("zoo_codes", .int(1))
            for (key, value) in identity { try root.setAttribute(key, value) }
            for (key, value) in preprocessing.attributes { try root.setAttribute(key, .string(value)) }
            try root.setAttribute("zoo_version", .string(version))
            try root.setAttribute("total", .int(inputs.paths.count))
            try root.setAttribute("processed", .int(0))
            try root.setAttribute("rows", .int(0))
            try root.setAttribute("complete", .int(0))
            if layers.count == 1 {
                try root.createDataset("codes", shape: [0, dimensions[layers[0]]!], data: [], chunks: [64, dimensions[layers[0]]!])
            } else {
                let g = try root.createGroup("codes")
                for layer in layers { try g.createDataset(layer, shape: [0, dimensions[layer]!], data: [], chunks: [64, dimensions[layer]!]) }
            }
            try root.createDataset("paths", strings: [], chunks: 256)
            if inputs.labels != nil {
                try root.createDataset("labels", shape: [0], ints: [], chunks: [256])
                try root.setAttribute("classes", .strings(inputs.classes))
            }
            let failed = try root.createGroup("failed")
            try failed.createDataset("paths", strings: [], chunks: 64)
            try failed.createDataset("reasons", strings: [], chunks: 64)
            try file.flush()
            return try CodeFile(file: file, layers: layers, path: path)
        } catch let e as HDF5Error {
            throw ZooError("\(e)")
        }
    }

    func append(rows newRows: [String: [Float]], paths: [String], labels: [Int]?, failed: [(String, String)], processed: Int) throws {
        do {
            if !paths.isEmpty {
                for layer in layers { try codes(layer).append(rows: newRows[layer]!) }
                try root.dataset("paths").append(strings: paths)
                if let labels, root.contains("labels") { try root.dataset("labels").append(ints: labels) }
            }
            if !failed.isEmpty {
                try root.dataset("failed/paths").append(strings: failed.map(\.0))
                try root.dataset("failed/reasons").append(strings: failed.map(\.1))
            }
            rows += paths.count
            self.processed = processed
            try root.setAttribute("rows", .int(rows))
            try root.setAttribute("processed", .int(processed))
            try file.flush()
        } catch let e as HDF5Error {
            throw ZooError("\(e)")
        }
    }

    func finish(complete: Bool) throws {
        do {
            try root.setAttribute("complete", .int(complete ? 1 : 0))
            try file.flush()
            file.close()
        } catch let e as HDF5Error {
            throw ZooError("\(e)")
        }
    }
}

/// Reading a code file back (for `zoo fit` and merging).
public struct Codes: Sendable {
    public var values: [Float]
    public var dimension: Int
    public var labels: [Int]?
    public var classes: [String]
    public var paths: [String]
    public var attributes: [String: HDF5AttributeValue]
    public var count: Int { paths.count }

    public static func read(_ path: String, layer: String? = nil) throws -> Codes {
        do {
            let file = try HDF5File(reading: path)
            let root = try file.root
            guard try root.attribute("zoo_codes") != nil else { throw ZooError("\(path) is not a Zoo code file (made by `zoo extract`)") }
            let layers = try root.attribute("layers")?.strings ?? []
            let dataset: HDF5Dataset
            if root.kind(of: "codes") == .dataset {
                dataset = try root.dataset("codes")
            } else {
                guard let layer = layer ?? layers.first, root.contains("codes/" + layer) else {
                    throw ZooError("\(path) holds the layers \(layers.joined(separator: ", ")); choose one with --layer")
                }
                dataset = try root.dataset("codes/" + layer)
            }
            var attributes: [String: HDF5AttributeValue] = [:]
            for name in try root.attributeNames() { attributes[name] = try root.attribute(name) }
            let shape = dataset.shape
            return Codes(values: try dataset.readFloats(), dimension: shape.count > 1 ? shape[1] : 1,
                         labels: root.contains("labels") ? try root.dataset("labels").readInts() : nil,
                         classes: try root.attribute("classes")?.strings ?? [], paths: try root.dataset("paths").readStrings(),
                         attributes: attributes)
        } catch let e as HDF5Error {
            throw ZooError("\(e)")
        }
    }
}
