import Foundation
import ZooCore
import ZooEngine
import ZooHDF5
import ZooImages
import ZooWeights

/// Feature extraction ("CNN codes"): images in, the activations of chosen layers out, written as
/// they come into an HDF5 code file that a later run can resume. See docs/transfer-learning.md.
public struct Extraction: Sendable {
    public enum Pooling: String, Sendable { case none, avg, max }

    public var model: Model
    public var weightsPath: String?
    public var layers: [String]
    public var pooling: Pooling = .none
    public var preprocessing: Preprocessing
    public var batch = 16
    public var threads: Int?

    public init(model: Model, weightsPath: String?, layers: [String], preprocessing: Preprocessing) {
        self.model = model; self.weightsPath = weightsPath; self.layers = layers; self.preprocessing = preprocessing
    }

    public struct Progress: Sendable {
        public var done: Int
        public var total: Int
        public var failed: Int
        public var imagesPerSecond: Double
    }

    public struct Result: Sendable {
        public var written: Int
        public var failed: [(path: String, reason: String)]
        public var resumedFrom: Int
        public var dimensions: [String: Int]
    }

    /// The vector each image gives for `layer`: a map pooled (avg/max over positions) or flattened.
    func vectorSize(_ layer: String) throws -> Int {
        guard let name = model.network.resolve(layer), let info = model.layerInfos.first(where: { $0.name == name }) else {
            let near = Network.nearest(layer, among: model.layerInfos.map(\.name) + Array(model.network.info.blocks.keys))
            throw ZooError("`\(layer)` is not a layer of `\(model.network.name)`", hint: near.map { "did you mean `\($0)`?" })
        }
        return pooling != .none && info.output.isMap ? info.output.channels : info.output.count
    }

    /// Row `n` of a layer's output as the code vector: pooled per channel, or flattened.
    public func vector(_ t: Tensor, row n: Int) -> [Float] {
        let sample = t.count / t.batch
        let slice = Array(t.data[(n * sample)..<((n + 1) * sample)])
        guard pooling != .none, t.shape.count == 4 else { return slice }
        let c = t.shape[1], area = t.shape[2] * t.shape[3]
        return (0..<c).map { ch in
            let values = slice[(ch * area)..<((ch + 1) * area)]
            return pooling == .avg ? values.reduce(0, +) / Float(area) : values.max()!
        }
    }

    static func sha256(_ path: String) -> String { SHA256.hex(ofFile: path) ?? "unreadable" }

    /// Runs the extraction into `output` (an .h5 code file). An existing file is resumed when it
    /// describes the same run, refused otherwise; `force` starts afresh. `shouldStop` is polled
    /// between batches (Ctrl-C): the file then holds every finished batch.
    public func run(inputs: InputList, output: String, force: Bool = false, shard: String = "0/1",
                    shouldStop: @Sendable () -> Bool = { false }, progress: (Progress) -> Void = { _ in }) throws -> Result {
        let dims = try Dictionary(uniqueKeysWithValues: layers.map { ($0, try vectorSize($0)) })
        let identity: [String: HDF5AttributeValue] = [
            "network": .string(model.network.name),
            "layers": .strings(layers),
            "pool": .string(pooling.rawValue),
            "weights": .string(weightsPath.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "random"),
            "weights_sha256": .string(weightsPath.map(Self.sha256) ?? "random"),
            "inputs": .string(inputs.fingerprint),
            "shard": .string(shard),
            "preprocessing": .string(preprocessing.preset),
        ]
        let file = try CodeFile.openOrCreate(output, identity: identity, dimensions: dims, layers: layers, inputs: inputs,
                                             preprocessing: preprocessing, force: force)
        let start = file.processed
        var failed: [(String, String)] = []
        let engine = try Engine(model: model, threads: threads)
        let began = Date()
        var done = start
        var position = start
        // Decode the next batch while the network runs on this one.
        let decoder = DispatchQueue(label: "zoo.decode")
        let tensors = TensorRows()
        let sample = [preprocessing.channels, preprocessing.height, preprocessing.width]
        func decode(_ range: Range<Int>) -> [(Int, Swift.Result<[Float], Error>)] {
            range.map { i in
                (i, Swift.Result {
                    let path = inputs.paths[i]
                    if let hash = path.range(of: ".npy#", options: .backwards) {
                        return try tensors.row(String(path[..<hash.lowerBound]) + ".npy", Int(path[hash.upperBound...]) ?? 0, shape: sample)
                    }
                    return try preprocessing.apply(Image(contentsOf: path))
                })
            }
        }
        var pending: DispatchWorkItem?
        nonisolated(unsafe) var next: [(Int, Swift.Result<[Float], Error>)] = []
        func schedule(_ from: Int) {
            let range = from..<min(from + batch, inputs.paths.count)
            guard !range.isEmpty else { pending = nil; return }
            let item = DispatchWorkItem { next = decode(range) }
            decoder.async(execute: item)
            pending = item
        }
        schedule(position)
        while position < inputs.paths.count {
            guard let item = pending else { break }
            item.wait()
            pending = nil          // a work item may be waited on once
            let decoded = next
            let end = position + decoded.count
            if shouldStop() { break }
            schedule(end)
            var good: [(Int, [Float])] = []
            var bad: [(String, String)] = []
            for (i, r) in decoded {
                switch r {
                case .success(let v): good.append((i, v))
                case .failure(let e): bad.append((inputs.paths[i], "\(e)"))
                }
            }
            var rows: [String: [Float]] = [:]
            if !good.isEmpty {
                let x = Tensor(shape: [good.count, preprocessing.channels, preprocessing.height, preprocessing.width], data: good.flatMap(\.1))
                let out = try engine.run(x, outputs: layers)
                for layer in layers {
                    let t = out[layer]!
                    rows[layer] = (0..<good.count).flatMap { vector(t, row: $0) }
                }
            }
            try file.append(rows: rows, paths: good.map { inputs.paths[$0.0] }, labels: inputs.labels.map { l in good.map { l[$0.0] } },
                            failed: bad, processed: end)
            failed += bad
            position = end
            done = end
            let rate = Double(done - start) / max(Date().timeIntervalSince(began), 1e-9)
            progress(Progress(done: done, total: inputs.paths.count, failed: failed.count, imagesPerSecond: rate))
        }
        pending?.wait()
        let complete = position >= inputs.paths.count
        try file.finish(complete: complete)
        return Result(written: file.rows, failed: failed, resumedFrom: start, dimensions: dims)
    }
}

/// Rows of `.npy` inputs, each file read once.
final class TensorRows: @unchecked Sendable {
    private var cache: [String: Tensor] = [:]
    private let lock = NSLock()

    func row(_ path: String, _ n: Int, shape: [Int]) throws -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        let t: Tensor
        if let cached = cache[path] { t = cached } else { t = try NPY.read(path); cache = [path: t] }
        let dims = t.shape.count == 4 ? Array(t.shape.dropFirst()) : t.shape
        guard dims == shape else {
            throw ZooError("\(path): rows of shape \(dims), the network takes \(shape) (already preprocessed tensors are used as they are)")
        }
        let size = shape.reduce(1, *)
        return Array(t.data[(n * size)..<((n + 1) * size)])
    }
}
