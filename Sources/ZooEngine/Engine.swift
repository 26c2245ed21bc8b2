import CBLAS
import Foundation
import ZooCore

/// Runs a `Model` forward on the CPU. Prepared once (BN folded into the convolution before it,
/// ReLUs fused, buffers planned), then `run` any number of batches.
///
/// ```swift
/// let engine = try Engine(model: try Model.randomlyInitialised(Catalogue.network("vgg16"), seed: 1))
/// let codes = try engine.run(batch, outputs: ["fc7"])["fc7"]!     // [N, 4096]
/// ```
public final class Engine: @unchecked Sendable {
    public let model: Model
    public let threads: Int
    let steps: [Step]
    let index: [String: Int]
    /// For each layer, the steps that read it.
    let consumers: [[Int]]
    /// OpenBLAS's thread count is process-wide, and changing it while another thread is inside a BLAS
    /// call gives wrong results: every use of BLAS holds this lock (one run at a time, each with the
    /// thread count it asked for).
    private static let lock = NSLock()

    /// Runs `body` holding the BLAS lock, with OpenBLAS set to `threads` threads.
    static func exclusive<T>(threads: Int, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        openblas_set_num_threads(Int32(threads))
        return try body()
    }

    /// What one layer does, prepared.
    enum Operation {
        case convolution(raw: ConvolutionKernel, folded: ConvolutionKernel?, foldedInto: Int?)
        case pool(Pooling)
        case subsample(Subsampling, coefficient: [Float], bias: [Float])
        case globalAverage
        case lrn(LocalResponseNorm)
        /// y = x·scale + shift per channel (inference batch norm).
        case batchNorm(scale: [Float], shift: [Float], foldedFrom: Int?)
        case relu, tanh, scaledTanh(Float, Float), sigmoid, softmax
        /// Passes the input on: dropout at inference, identity, flatten.
        case alias
        case dense(weights: [Float], bias: [Float]?)
        case concat, add
        case padShortcut(PadShortcut)
        case rbf(prototypes: [Float])
    }

    struct Step {
        let info: LayerInfo
        let inputs: [Int]      // step indices; empty = the network input
        let operation: Operation
        var name: String { info.name }
    }

    /// - Parameters:
    ///   - threads: threads for OpenBLAS and for the per-sample kernels (default: all cores).
    ///   - foldBatchNorm: fold a batch norm into the convolution it follows (inference).
    public init(model: Model, threads: Int? = nil, foldBatchNorm: Bool = true) throws {
        self.model = model
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let infos = model.layerInfos
        var index: [String: Int] = [:]
        for (i, info) in infos.enumerated() { index[info.name] = i }
        var consumers = [[Int]](repeating: [], count: infos.count)
        for (i, info) in infos.enumerated() { for input in info.layer.inputs { consumers[index[input]!].append(i) } }
        var steps: [Step] = []
        for (i, info) in infos.enumerated() {
            let p = model.parameters[info.name] ?? [:]
            let inputs = info.layer.inputs.map { index[$0]! }
            var op: Operation
            switch info.layer.kind {
            case .convolution(let c):
                let raw = ConvolutionKernel(c, info: info, kernel: p["kernel"]!, bias: p["bias"])
                var folded: ConvolutionKernel?, into: Int?
                if foldBatchNorm, consumers[i].count == 1, case .batchNorm(let bn) = infos[consumers[i][0]].layer.kind {
                    let bnParams = model.parameters[infos[consumers[i][0]].name]!
                    let (scale, shift) = Engine.bnAffine(bn, bnParams)
                    var k = raw
                    let per = k.weights.count / c.filters
                    for f in 0..<c.filters {
                        for j in 0..<per { k.weights[f * per + j] *= scale[f] }
                    }
                    k.bias = (0..<c.filters).map { f in (raw.bias?[f] ?? 0) * scale[f] + shift[f] }
                    folded = k
                    into = consumers[i][0]
                }
                op = .convolution(raw: raw, folded: folded, foldedInto: into)
            case .pooling(let pool): op = .pool(pool)
            case .subsampling(let s): op = .subsample(s, coefficient: p["coefficient"]!.data, bias: p["bias"]!.data)
            case .globalAveragePooling: op = .globalAverage
            case .localResponseNorm(let n): op = .lrn(n)
            case .batchNorm(let bn):
                let (scale, shift) = Engine.bnAffine(bn, p)
                var from: Int?
                if let j = inputs.first, case .convolution(_, _?, let into?) = steps[j].operation, into == i { from = j }
                op = .batchNorm(scale: scale, shift: shift, foldedFrom: from)
            case .relu: op = .relu
            case .tanh: op = .tanh
            case .scaledTanh(let a, let s): op = .scaledTanh(Float(a), Float(s))
            case .sigmoid: op = .sigmoid
            case .softmax: op = .softmax
            case .dropout, .identity, .flatten: op = .alias
            case .dense: op = .dense(weights: p["kernel"]!.data, bias: p["bias"]?.data)
            case .concat: op = .concat
            case .add: op = .add
            case .padShortcut(let ps): op = .padShortcut(ps)
            case .rbf: op = .rbf(prototypes: p["prototypes"]!.data)
            }
            steps.append(Step(info: info, inputs: inputs, operation: op))
        }
        self.steps = steps
        self.index = index
        self.consumers = consumers
    }

    static func bnAffine(_ bn: BatchNorm, _ p: [String: Tensor]) -> ([Float], [Float]) {
        let gamma = p["gamma"]!.data, beta = p["beta"]!.data, mean = p["moving_mean"]!.data, variance = p["moving_variance"]!.data
        let scale = (0..<gamma.count).map { gamma[$0] / (variance[$0] + Float(bn.epsilon)).squareRoot() }
        let shift = (0..<gamma.count).map { beta[$0] - mean[$0] * scale[$0] }
        return (scale, shift)
    }

    /// Names of the layers, in execution order.
    public var layerNames: [String] { steps.map(\.name) }

    /// Runs `input` (`[N, C, H, W]`, or `[N, D]` for a vector input) and returns copies of the
    /// requested layers' outputs (`[N, …]`); with no names, the network's output.
    public func run(_ input: Tensor, outputs requested: [String] = []) throws -> [String: Tensor] {
        let sample = model.network.input
        guard input.shape.count == sample.rank + 1, Array(input.shape.dropFirst()) == sample.dims, input.batch > 0 else {
            throw ZooError("input has shape \(input.shape); `\(model.network.name)` takes [N, \(sample.dims.map(String.init).joined(separator: ", "))]",
                           hint: "resize or crop the images to \(sample), or summarise another input size with --input")
        }
        var wanted: [Int: String] = [:]
        for name in requested.isEmpty ? [model.network.output.name] : requested {
            guard let resolved = model.network.resolve(name), let i = index[resolved] else {
                let near = Network.nearest(name, among: steps.map(\.name))
                throw ZooError("`\(name)` is not a layer of `\(model.network.name)`", hint: near.map { "did you mean `\($0)`?" })
            }
            wanted[i] = name
        }
        Engine.lock.lock()
        defer { Engine.lock.unlock() }
        openblas_set_num_threads(Int32(threads))
        return try execute(input, wanted: wanted)
    }

    /// Set ZOO_PROFILE=1 to print each layer's time to standard error (for finding hot spots).
    static let profiling = ProcessInfo.processInfo.environment["ZOO_PROFILE"] == "1"

    private func execute(_ input: Tensor, wanted: [Int: String]) throws -> [String: Tensor] {
        let batch = input.batch
        let inputBuffer = Buffer(copying: input.data)
        var values = [Buffer?](repeating: nil, count: steps.count)
        // The last step that reads each step's output (requested outputs are copied when made).
        var lastUse = (0..<steps.count).map { consumers[$0].max() ?? -1 }
        var results: [String: Tensor] = [:]
        // Per-run decisions: fold a BN only when the raw convolution is not requested; fuse a ReLU
        // only when what it reads is not requested and nothing else reads it.
        var useFolded = Set<Int>()
        for (i, step) in steps.enumerated() {
            if case .convolution(_, _?, _?) = step.operation, wanted[i] == nil { useFolded.insert(i) }
        }
        var fusedRelu = Set<Int>()   // convolutions that apply the ReLU themselves
        var reluAliases = Set<Int>()  // ReLUs that then just pass their input on
        for (i, step) in steps.enumerated() {
            guard case .relu = step.operation, let j = step.inputs.first, consumers[j] == [i], wanted[j] == nil else { continue }
            var conv: Int?
            if case .convolution = steps[j].operation { conv = j }
            if case .batchNorm(_, _, let from?) = steps[j].operation, useFolded.contains(from) { conv = from }
            guard let conv else { continue }
            fusedRelu.insert(conv)
            reluAliases.insert(i)
        }
        // An alias keeps its source alive as long as it is used (walk backwards for chains of aliases).
        for (i, step) in steps.enumerated().reversed() where isAlias(i, step, useFolded: useFolded, reluAliases: reluAliases) {
            if let j = step.inputs.first { lastUse[j] = max(lastUse[j], lastUse[i]) }
        }
        let workspace = Buffer(count: steps.compactMap { step -> Int? in
            if case .convolution(let raw, _, _) = step.operation { return raw.workspaceSize } else { return nil }
        }.max() ?? 0)

        for (i, step) in steps.enumerated() {
            let sources = step.inputs.isEmpty ? [inputBuffer] : step.inputs.map { values[$0]! }
            let inSize = step.info.inputs.map(\.count)
            let outSize = step.info.output.count
            if isAlias(i, step, useFolded: useFolded, reluAliases: reluAliases) {
                values[i] = sources[0]
            } else {
                let out = Buffer(count: outSize * batch)
                let started = Engine.profiling ? DispatchTime.now().uptimeNanoseconds : 0
                try compute(i, step, sources: sources, inSize: inSize, outSize: outSize, batch: batch, out: out,
                            folded: useFolded.contains(i), fuseRelu: fusedRelu.contains(i), workspace: workspace)
                if Engine.profiling {
                    let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                    FileHandle.standardError.write(Data("\(step.name)\t\(step.info.layer.kind.typeName)\t\(String(format: "%.2f", ms)) ms\n".utf8))
                }
                values[i] = out
            }
            if let name = wanted[i] {
                results[name] = Tensor(shape: [batch] + step.info.output.dims, data: values[i]!.array(count: outSize * batch))
            }
            for j in step.inputs where lastUse[j] <= i { values[j] = nil }
            if lastUse[i] < 0 { values[i] = nil }
        }
        return results
    }

    /// Splits 0..<count into one contiguous range per thread and runs them in parallel.
    private func splitting(_ count: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) {
        let parts = min(threads, max(count, 1))
        DispatchQueue.concurrentPerform(iterations: parts) { t in
            let start = count * t / parts, end = count * (t + 1) / parts
            if start < end { body(start..<end) }
        }
    }

    private func isAlias(_ i: Int, _ step: Step, useFolded: Set<Int>, reluAliases: Set<Int>) -> Bool {
        switch step.operation {
        case .alias: return true
        case .batchNorm(_, _, let from?): return useFolded.contains(from)
        case .relu: return reluAliases.contains(i)
        default: return false
        }
    }

    private func compute(_ i: Int, _ step: Step, sources: [Buffer], inSize: [Int], outSize: Int, batch: Int, out: Buffer,
                         folded: Bool, fuseRelu: Bool, workspace: Buffer) throws {
        let x = sources[0].pointer, y = out.pointer
        let info = step.info
        let perSample = { (body: @escaping @Sendable (Int) -> Void) in
            if batch > 1 && self.threads > 1 {
                DispatchQueue.concurrentPerform(iterations: batch, execute: body)
            } else {
                for n in 0..<batch { body(n) }
            }
        }
        let inCount = inSize.first ?? 0
        let xs = UnsafeSendable(x), ys = UnsafeSendable(y)
        switch step.operation {
        case .convolution(let raw, let foldedKernel, _):
            var kernel = folded ? foldedKernel! : raw
            kernel.relu = fuseRelu
            // One image at a time, OpenBLAS threading each GEMM. (Calling SGEMM from several threads
            // at once corrupted results now and then with Debian's OpenBLAS 0.3.21: don't.)
            for n in 0..<batch {
                kernel.run(x + n * inCount, y + n * outSize, workspace: workspace.count > 0 ? workspace.pointer : nil)
            }
        case .pool(let p):
            if batch == 1 && threads > 1 {
                splitting(info.output.channels) { range in Kernels.pool(p, info: info, xs.pointer, ys.pointer, channels: range) }
            } else {
                perSample { n in Kernels.pool(p, info: info, xs.pointer + n * inCount, ys.pointer + n * outSize) }
            }
        case .subsample(let s, let coefficient, let bias):
            perSample { n in Kernels.subsample(s, info: info, coefficient: coefficient, bias: bias, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .globalAverage:
            perSample { n in Kernels.globalAverage(info: info, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .lrn(let l):
            if batch == 1 && threads > 1 {
                splitting(info.output.height * info.output.width) { range in Kernels.lrn(l, info: info, xs.pointer, ys.pointer, positions: range) }
            } else {
                perSample { n in Kernels.lrn(l, info: info, xs.pointer + n * inCount, ys.pointer + n * outSize) }
            }
        case .batchNorm(let scale, let shift, _):
            let channels = info.output.channels, area = outSize / channels
            perSample { n in Kernels.batchNorm(scale: scale, shift: shift, channels: channels, area: area, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .relu:
            for k in 0..<(outSize * batch) { y[k] = max(x[k], 0) }
        case .tanh:
            for k in 0..<(outSize * batch) { y[k] = tanhf(x[k]) }
        case .scaledTanh(let a, let s):
            for k in 0..<(outSize * batch) { y[k] = a * tanhf(s * x[k]) }
        case .sigmoid:
            for k in 0..<(outSize * batch) { y[k] = 1 / (1 + expf(-x[k])) }
        case .softmax:
            if info.output.isMap {
                // Over channels at each position.
                let c = info.output.channels, area = outSize / c
                for n in 0..<batch {
                    for p in 0..<area {
                        var m = -Float.infinity
                        for ch in 0..<c { m = max(m, x[n * outSize + ch * area + p]) }
                        var sum: Float = 0
                        for ch in 0..<c { let e = expf(x[n * outSize + ch * area + p] - m); y[n * outSize + ch * area + p] = e; sum += e }
                        for ch in 0..<c { y[n * outSize + ch * area + p] /= sum }
                    }
                }
            } else {
                for n in 0..<batch { Kernels.softmax(outSize, x + n * outSize, y + n * outSize) }
            }
        case .dense(let weights, let bias):
            Kernels.dense(weights: weights, bias: bias, inputs: inCount, outputs: outSize, batch: batch, x, y)
        case .concat:
            var offset = 0
            for (source, size) in zip(sources, inSize) {
                for n in 0..<batch { (y + n * outSize + offset).update(from: source.pointer + n * size, count: size) }
                offset += size
            }
        case .add:
            y.update(from: x, count: outSize * batch)
            for source in sources.dropFirst() { for k in 0..<(outSize * batch) { y[k] += source.pointer[k] } }
        case .padShortcut(let p):
            perSample { n in Kernels.padShortcut(p, info: info, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .rbf(let prototypes):
            for n in 0..<batch { Kernels.rbf(units: outSize, inputs: inCount, prototypes: prototypes, x + n * inCount, y + n * outSize) }
        case .alias:
            y.update(from: x, count: outSize * batch)
        }
    }
}

/// An activation buffer, freed when the last reference goes.
final class Buffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
    }
    convenience init(copying values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: values.count) }
    }
    func array(count: Int) -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    deinit { pointer.deallocate() }
}

/// A pointer handed to worker threads that write disjoint ranges.
struct UnsafeSendable: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ p: UnsafeMutablePointer<Float>) { pointer = p }
}
