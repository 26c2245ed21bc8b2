import CBLAS
import CZooGEMM
import Foundation
import Synchronization
import ZooCore

/// Runs a `Model` forward on the CPU. Prepared once (BN folded into the convolution before it,
/// ReLUs fused, buffers planned), then `run` any number of batches.
///
/// ```swift
/// let engine = try Engine(model: try Model.randomlyInitialised(Catalogue.network("vgg16"), seed: 1))
/// let codes = try engine.run(batch, outputs: ["fc7"])["fc7"]!     // [N, 4096]
/// ```
public final class Engine: @unchecked Sendable {
    /// The network it runs (the engine keeps its parameters in its own prepared forms).
    public let network: Network
    public let threads: Int
    public let mode: Mode
    /// Batches may run as image streams (`streamsImages`).
    let allowsImageStreams: Bool
    let steps: [Step]
    let index: [String: Int]
    /// For each layer, the steps that read it.
    let consumers: [[Int]]
    /// Activation buffers and workspaces, reused across layers and runs.
    let pool = BufferPool()
    /// What the engine has learned about running ready steps side by side.
    let rounds = RoundChoices()
    /// Concats whose inputs are written straight into their output (`ZOO_CONCAT=copy`: false).
    var writesConcatsInPlace = !Engine.copiedConcats
    /// How many concats have been done in place (tests).
    let concatsDoneInPlace = Atomic<Int>(0)
    /// Fused residual adds written over their shortcut where nothing else reads it
    /// (`ZOO_ADD=copy`: false).
    var writesAddsInPlace = !Engine.copiedAdds
    /// How many fused adds have been written over their shortcut (tests).
    let addsDoneInPlace = Atomic<Int>(0)
    /// OpenBLAS's thread count is process-wide, and changing it while another thread is inside a BLAS
    /// call gives wrong results: every use of BLAS holds this lock (one run at a time, each with the
    /// thread count it asked for).
    private static let lock = NSLock()

    /// Runs `body` holding the BLAS lock, with OpenBLAS set to `threads` threads.
    static func exclusive<T>(threads: Int, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = blasKernels
        openblas_set_num_threads(Int32(threads))
        return try body()
    }

    /// The kernels OpenBLAS runs ("SkylakeX", "Haswell", …), chosen before the first BLAS call:
    /// OpenBLAS 0.3.21 falls back to its oldest x86-64 kernels ("Prescott", SSE3) on CPUs it does
    /// not know, 5× slower on an AVX-512 Xeon; then Zoo picks SkylakeX or Haswell by the CPU's
    /// features instead. An explicit `OPENBLAS_CORETYPE` is always respected.
    public static let blasKernels: String = {
        let switched = zoo_blas_choose_kernels() == 1
        let name = zoo_blas_kernels().map { String(cString: $0) } ?? "unknown"
        return switched ? "\(name) (chosen by Zoo)" : name
    }()

    /// How batch norm and dropout behave.
    public enum Mode: Sendable, Equatable {
        /// Batch norm from its moving statistics (folded into the convolution before it where
        /// possible), dropout passes its input on.
        case inference
        /// Batch norm from the statistics of the batch (except the layers in `frozen`, which keep
        /// using their moving statistics), dropout zeroes each value with probability `rate` and
        /// scales the others by 1/(1 − rate), with masks drawn from `seed` (see `dropoutMask`).
        case training(seed: UInt64, frozen: Set<String> = [])
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
        /// y = γ·(x − μ_batch)/√(σ²_batch + ε) + β per channel (training batch norm).
        case batchStatistics(gamma: [Float], beta: [Float], epsilon: Float)
        /// Training dropout: y = x · mask.
        case dropout(rate: Double, seed: UInt64)
        case relu, tanh, scaledTanh(Float, Float), sigmoid, softmax
        /// Passes the input on: dropout at inference, identity, flatten.
        case alias
        case dense(weights: [Float], bias: [Float]?)
        case concat, add
        case padShortcut(PadShortcut)
        case rbf(prototypes: [Float])
    }

    /// A class, not a struct: the executor hands steps around on every run, and copying a struct
    /// of arrays and kernels retained each of them (retain/release: 2.7 → 0.9 % of GoogLeNet's
    /// samples).
    final class Step: @unchecked Sendable {
        let info: LayerInfo
        let inputs: [Int]      // step indices; empty = the network input
        let operation: Operation
        var name: String { info.name }

        init(info: LayerInfo, inputs: [Int], operation: Operation) {
            self.info = info
            self.inputs = inputs
            self.operation = operation
        }
    }

    /// The threads an engine uses unless told: the CPUs this process may run on (its affinity, as
    /// `nproc` counts: `taskset -c 0 zoo run …` runs on one thread), else every core.
    public static var defaultThreads: Int {
        let allowed = Int(zoo_allowed_cpus())
        return allowed > 0 ? allowed : ProcessInfo.processInfo.activeProcessorCount
    }

    /// - Parameters:
    ///   - threads: threads for OpenBLAS and for the per-sample kernels (default: `defaultThreads`).
    ///   - foldBatchNorm: fold a batch norm into the convolution it follows (inference).
    ///   - mode: inference, or training (batch statistics, dropout masks; nothing is folded).
    ///   - imageStreams: let batches run as image streams (`streamsImages`; false: always layer
    ///     by layer on the whole batch).
    ///
    /// At inference, convolutions hold their filters packed for Zoo's GEMM (where it runs) and
    /// drop the model's copy as they go: a caller that hands its model over (`Engine(model:
    /// consume model)`, or a temporary) never holds both copies, as VGG-16's memory budget needs.
    public init(model: consuming Model, threads: Int? = nil, foldBatchNorm: Bool = true, mode: Mode = .inference,
                imageStreams: Bool = true) throws {
        network = model.network
        let infos = model.layerInfos
        var parameters = model.parameters
        _ = consume model
        self.mode = mode
        allowsImageStreams = imageStreams
        var foldBatchNorm = foldBatchNorm
        if case .training = mode { foldBatchNorm = false }
        self.threads = max(1, threads ?? Engine.defaultThreads)
        var index: [String: Int] = [:]
        for (i, info) in infos.enumerated() { index[info.name] = i }
        var consumers = [[Int]](repeating: [], count: infos.count)
        for (i, info) in infos.enumerated() { for input in info.layer.inputs { consumers[index[input]!].append(i) } }
        var steps: [Step] = []
        for (i, info) in infos.enumerated() {
            let p = parameters[info.name] ?? [:]
            let inputs = info.layer.inputs.map { index[$0]! }
            var op: Operation
            switch info.layer.kind {
            case .convolution(let c):
                // Winograd or packed filters at inference; a batch norm that follows folds into
                // them as a scale per filter applied when C is stored (`folding`), so that the
                // folded form and the raw one — for whoever requests the unnormalised output —
                // share one prepared copy of the filters.
                var prepared = ConvolutionKernel(c, info: info, kernel: p["kernel"]!, bias: p["bias"])
                if mode == .inference { prepared.prepare() }
                var folded: ConvolutionKernel?, into: Int?
                if foldBatchNorm, consumers[i].count == 1, case .batchNorm(let bn) = infos[consumers[i][0]].layer.kind {
                    let (scale, shift) = Engine.bnAffine(bn, parameters[infos[consumers[i][0]].name]!)
                    folded = prepared.folding(scale: scale, shift: shift)
                    into = consumers[i][0]
                }
                op = .convolution(raw: prepared, folded: folded, foldedInto: into)
                // The packed filters or Winograd's U replace the model's.
                if prepared.packed != nil || prepared.winograd != nil { parameters[info.name] = nil }
            case .pooling(let pool): op = .pool(pool)
            case .subsampling(let s): op = .subsample(s, coefficient: p["coefficient"]!.data, bias: p["bias"]!.data)
            case .globalAveragePooling: op = .globalAverage
            case .localResponseNorm(let n): op = .lrn(n)
            case .batchNorm(let bn) where mode.usesBatchStatistics(info.name):
                op = .batchStatistics(gamma: p["gamma"]!.data, beta: p["beta"]!.data, epsilon: Float(bn.epsilon))
            case .dropout(let rate) where mode != .inference:
                if case .training(let seed, _) = mode { op = .dropout(rate: rate, seed: Engine.layerSeed(seed, i)) } else { op = .alias }
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
        streamCut = Engine.cut(steps)
        self.index = index
        self.consumers = consumers
    }

    static func bnAffine(_ bn: BatchNorm, _ p: [String: Tensor]) -> ([Float], [Float]) {
        let gamma = p["gamma"]!.data, beta = p["beta"]!.data, mean = p["moving_mean"]!.data, variance = p["moving_variance"]!.data
        let scale = (0..<gamma.count).map { gamma[$0] / (variance[$0] + Float(bn.epsilon)).squareRoot() }
        let shift = (0..<gamma.count).map { beta[$0] - mean[$0] * scale[$0] }
        return (scale, shift)
    }

    /// The seed of layer `index`'s dropout mask in a training run seeded with `seed`.
    static func layerSeed(_ seed: UInt64, _ index: Int) -> UInt64 { seed &+ UInt64(index + 1) &* 0xD1B5_4A32_D192_ED03 }

    /// Inverted dropout's mask for `count` values: 0 with probability `rate`, else 1/(1 − rate).
    static func dropoutMask(seed: UInt64, count: Int, rate: Double) -> [Float] {
        var rng = RandomSource(seed: seed)
        let keep = Float(1 / (1 - rate))
        return (0..<count).map { _ in rng.uniform() < rate ? 0 : keep }
    }

    /// Per-channel mean and biased variance of `x` (`batch` samples of `channels` maps of `area`
    /// values), accumulated in Float64.
    static func channelStatistics(_ x: UnsafePointer<Float>, batch: Int, channels: Int, area: Int) -> (mean: [Double], variance: [Double]) {
        var mean = [Double](repeating: 0, count: channels), variance = [Double](repeating: 0, count: channels)
        let m = Double(batch * area)
        for c in 0..<channels {
            var s = 0.0
            for n in 0..<batch { let p = x + (n * channels + c) * area; for i in 0..<area { s += Double(p[i]) } }
            let mu = s / m
            var v = 0.0
            for n in 0..<batch { let p = x + (n * channels + c) * area; for i in 0..<area { let d = Double(p[i]) - mu; v += d * d } }
            mean[c] = mu; variance[c] = v / m
        }
        return (mean, variance)
    }

    /// Names of the layers, in execution order.
    public var layerNames: [String] { steps.map(\.name) }

    /// Runs `input` (`[N, C, H, W]`, or `[N, D]` for a vector input) and returns copies of the
    /// requested layers' outputs (`[N, …]`); with no names, the network's output.
    public func run(_ input: Tensor, outputs requested: [String] = []) throws -> [String: Tensor] {
        let sample = network.input
        guard input.shape.count == sample.rank + 1, Array(input.shape.dropFirst()) == sample.dims, input.batch > 0 else {
            throw ZooError("input has shape \(input.shape); `\(network.name)` takes [N, \(sample.dims.map(String.init).joined(separator: ", "))]",
                           hint: "resize or crop the images to \(sample), or summarise another input size with --input")
        }
        var wanted: [Int: String] = [:]
        for name in requested.isEmpty ? [network.output.name] : requested {
            guard let resolved = network.resolve(name), let i = index[resolved] else {
                let near = Network.nearest(name, among: steps.map(\.name))
                throw ZooError("`\(name)` is not a layer of `\(network.name)`", hint: near.map { "did you mean `\($0)`?" })
            }
            wanted[i] = name
        }
        // OpenBLAS runs single-threaded: the engine shares each layer's work among its threads
        // itself (each thread calling SGEMM on its own share).
        return try Engine.exclusive(threads: 1) {
            streamsImages(batch: input.batch) ? try executeStreams(input, wanted: wanted) : try execute(input, wanted: wanted, threads: threads)
        }
    }

    /// Whether a batch runs as image streams: the engine's threads each take the next image not yet
    /// taken and run it, on that one thread, through the network up to `streamCut`
    /// (the layer before the first fully-connected one; all of it where there is none); the
    /// fully-connected tail then runs layer by layer on the whole batch on all threads, so that its
    /// big matrices (AlexNet's, VGG's) are read once per batch, not once per image. Each image's
    /// activations stay in cache from one layer to the next and a layer needs no hand-offs between
    /// threads. Inference only: training's batch statistics need the whole batch.
    /// `ZOO_STREAMS=0` turns it off (to compare).
    public func streamsImages(batch: Int) -> Bool {
        batch > 1 && mode == .inference && allowsImageStreams && !Engine.noStreams
    }

    static let noStreams = ProcessInfo.processInfo.environment["ZOO_STREAMS"] == "0"

    /// Where image streams end: the step whose output feeds the first fully-connected layer, when
    /// every later step reads only it and steps after it (a tail such as flatten → fc6 → … → prob);
    /// nil (stream the whole network) where there is no such layer or no such cut.
    let streamCut: Int?

    /// Where a batch's image streams end: the last layer they run (`streamCut`; the layers after
    /// it run layer by layer on the joined batch), "" where they run the whole network, nil where
    /// the batch does not run as image streams.
    public func streamEnd(batch: Int) -> String? {
        guard streamsImages(batch: batch) else { return nil }
        return streamCut.map { steps[$0].name } ?? ""
    }

    /// Plans of the runs so far, by what they were asked for (`plan`).
    private let plans = Mutex<[PlanKey: Plan]>([:])
    var planCount: Int { plans.withLock { $0.count } }

    static func cut(_ steps: [Step]) -> Int? {
        guard let first = steps.firstIndex(where: { if case .dense = $0.info.layer.kind { return true } else { return false } }),
              let c = steps[first].inputs.first else { return nil }
        for j in (c + 1)..<steps.count where steps[j].inputs.isEmpty || steps[j].inputs.contains(where: { $0 < c }) { return nil }
        return c
    }

    /// Runs the batch as image streams (`streamsImages`) up to `streamCut`, then the tail on the
    /// joined batch.
    private func executeStreams(_ input: Tensor, wanted: [Int: String]) throws -> [String: Tensor] {
        let batch = input.batch, streams = min(threads, batch), imageSize = input.data.count / batch
        let dims = Array(input.shape.dropFirst())
        let cut = streamCut ?? steps.count - 1
        // The cut's output under its requested name, or one no layer can have.
        let cutName = wanted[cut] ?? "\u{0}cut"
        let head = wanted.filter { $0.key < cut }.merging([cut: cutName]) { a, _ in a }
        let tail = wanted.filter { $0.key > cut }
        let parts = StreamResults(count: batch), failure = FirstError()
        // Each stream takes the next image when it is done with one, so that a stream on a slower
        // core does fewer images rather than keeping the other waiting (`ZOO_BALANCE=0`: each
        // stream a fixed run of images, to compare).
        let next = Counter(), dynamic = WorkerPool.balanced
        shareOut(dynamic ? streams : batch, parts: streams) { _, run in
            var fixed = run.makeIterator()
            while let n = dynamic ? next.next(below: batch) : fixed.next() {
                do {
                    let image = Tensor(shape: [1] + dims, data: Array(input.data[(n * imageSize)..<((n + 1) * imageSize)]))
                    parts.set(n, try self.execute(image, wanted: head, threads: 1, through: cut))
                } catch {
                    failure.record(error)
                }
            }
        }
        if let error = failure.error { throw error }
        var joined: [String: Tensor] = [:]
        for name in head.values {
            let pieces = parts.results.map { $0![name]! }
            joined[name] = Tensor(shape: [batch] + Array(pieces[0].shape.dropFirst()), data: pieces.flatMap(\.data))
        }
        guard !tail.isEmpty else { return joined.filter { $0.key != "\u{0}cut" } }
        let rest = try execute(joined[cutName]!, wanted: tail, threads: threads, after: cut)
        if wanted[cut] == nil { joined[cutName] = nil }
        return joined.merging(rest) { a, _ in a }
    }

    /// What a run decides before its first step, from what it is asked for alone: which batch
    /// norms fold, which ReLUs and residual adds fuse, each step's count of inputs to wait for, the
    /// workspace, the concats written in place. The same for every run asked the same (one plan
    /// cost 0.41–0.48 ms, 2–3 % of GoogLeNet's time): kept per request in `plans`.
    struct Plan {
        var useFolded: Set<Int>, fusedRelu: Set<Int>, reluAliases: Set<Int>
        var fusedAdds: [Int: (shortcut: Int, add: Int)], addAliases: [Int: Int], extraConsumers: [[Int]]
        var pending: [Int], workspaceCount: Int
        var slices: [Int: (concat: Int, offset: Int)], concatsInPlace: Set<Int>
    }

    struct PlanKey: Hashable {
        var wanted: [Int], batch: Int, threads: Int, start: Int?, end: Int?, concatsInPlace: Bool
    }

    /// The plan of runs asked for `wanted` (plans are made once per request and kept).
    private func plan(wanted: [Int: String], batch: Int, threads: Int, start: Int?, end: Int?) -> Plan {
        let key = PlanKey(wanted: wanted.keys.sorted(), batch: batch, threads: threads, start: start, end: end,
                          concatsInPlace: writesConcatsInPlace)
        if let known = plans.withLock({ $0[key] }) { return known }
        // Per-run decisions: fold a BN only when the raw convolution is not requested; fuse a ReLU
        // only when what it reads is not requested and nothing else reads it.
        var useFolded = Set<Int>()
        for (i, step) in steps.enumerated() {
            if case .convolution(_, _?, _?) = step.operation, wanted[i] == nil { useFolded.insert(i) }
        }
        var fusedRelu = Set<Int>()   // convolutions and residual adds that apply the ReLU themselves
        var reluAliases = Set<Int>()  // ReLUs that then just pass their input on
        for (i, step) in steps.enumerated() {
            guard case .relu = step.operation, let j = step.inputs.first, consumers[j] == [i], wanted[j] == nil else { continue }
            var conv: Int?
            if case .convolution = steps[j].operation { conv = j }
            if case .add = steps[j].operation { conv = j }
            if case .batchNorm(_, _, let from?) = steps[j].operation, useFolded.contains(from) { conv = from }
            guard let conv else { continue }
            fusedRelu.insert(conv)
            reluAliases.insert(i)
        }
        // A residual add fused into the convolution on one of its sides (through a folded BN): the
        // convolution adds the other side (the shortcut) before its ReLU — the add's ReLU, when
        // fused — and the add passes the convolution's output on. Only where nothing in between
        // is requested or read by another step, and not for Winograd. The convolution then waits
        // for the shortcut too.
        var fusedAdds: [Int: (shortcut: Int, add: Int)] = [:]  // convolution → its shortcut and add
        var addAliases: [Int: Int] = [:]                         // fused add → the side it passes on
        var extraConsumers = [[Int]](repeating: [], count: steps.count)
        var pending = steps.map(\.inputs.count)
        if let start {
            // Steps up to `start` are done (never run); `start`'s output is the input.
            for j in 0...start { pending[j] = -1 }
            for j in (start + 1)..<steps.count { pending[j] -= steps[j].inputs.filter { $0 == start }.count }
        }
        // Steps past `end` never become ready.
        if let end { for j in (end + 1)..<steps.count { pending[j] = Int.max / 2 } }
        if !Engine.unfusedAdds && start == nil {
            for (i, step) in steps.enumerated() {
                guard case .add = step.operation, step.inputs.count == 2, step.inputs[0] != step.inputs[1] else { continue }
                for (side, other) in [(step.inputs[0], step.inputs[1]), (step.inputs[1], step.inputs[0])] {
                    var conv = side
                    if case .batchNorm(_, _, let from?) = steps[side].operation, useFolded.contains(from) { conv = from }
                    guard case .convolution(let raw, let folded, _) = steps[conv].operation, fusedAdds[conv] == nil,
                          wanted[side] == nil, wanted[conv] == nil, consumers[side] == [i],
                          conv == side || consumers[conv] == [side] else { continue }
                    let kernel = useFolded.contains(conv) ? folded! : raw
                    guard kernel.winograd == nil else { continue }
                    fusedAdds[conv] = (other, i)
                    addAliases[i] = side
                    extraConsumers[other].append(conv)
                    pending[conv] += 1
                    break
                }
            }
        }
        // Whichever form runs (the folded one may be Winograd where the raw one is not).
        let workspaceCount = steps.compactMap { step -> Int? in
            guard case .convolution(let raw, let folded, _) = step.operation else { return nil }
            return [raw, folded].compactMap { $0 }.map {
                max($0.workspacePerThread(batch: batch, threads: threads), $0.workspaceOnOneThread(batch: batch, sizing: threads))
            }.max()
        }.max() ?? 0

        // Concatenation in place (one image at a time: layer by layer at batch 1, and in image
        // streams): where each input of a concat is read by nothing else, the step that computes it
        // (through the aliases between: a fused ReLU, a folded batch norm) writes straight into its
        // slice of the concat's output — in NCHW one image's channels are one run of memory — and
        // the concat itself has nothing left to do (GoogLeNet copied 6 MB per image; `ZOO_CONCAT=copy`
        // to compare).
        var slices: [Int: (concat: Int, offset: Int)] = [:]   // computing step → where it writes
        var concatsInPlace = Set<Int>()
        if batch == 1 && mode == .inference && writesConcatsInPlace {
            for (c, step) in steps.enumerated() {
                guard case .concat = step.operation, end.map({ c <= $0 }) ?? true, !step.inputs.isEmpty,
                      Set(step.inputs).count == step.inputs.count else { continue }
                var found: [(Int, Int)] = [], offset = 0
                for (member, size) in zip(step.inputs, step.info.inputs.map(\.count)) {
                    // Back from the input through the aliases to the step whose buffer it is: each
                    // read only by the next, requested by no one, added as no one's shortcut.
                    var at = member, reader = c, producer: Int?
                    while at > (start ?? -1), consumers[at] == [reader], wanted[at] == nil, extraConsumers[at].isEmpty,
                          !steps[at].inputs.isEmpty {
                        if addAliases[at] != nil || isAlias(at, steps[at], useFolded: useFolded, reluAliases: reluAliases) {
                            reader = at
                            at = addAliases[at] ?? steps[at].inputs[0]
                            continue
                        }
                        if case .concat = steps[at].operation { break }
                        producer = at
                        break
                    }
                    guard let producer, steps[producer].info.output.count == size else { found = []; break }
                    found.append((producer, offset))
                    offset += size
                }
                guard found.count == step.inputs.count else { continue }
                for (producer, offset) in found { slices[producer] = (c, offset) }
                concatsInPlace.insert(c)
            }
        }
        let made = Plan(useFolded: useFolded, fusedRelu: fusedRelu, reluAliases: reluAliases, fusedAdds: fusedAdds, addAliases: addAliases,
                        extraConsumers: extraConsumers, pending: pending, workspaceCount: workspaceCount, slices: slices,
                        concatsInPlace: concatsInPlace)
        // (Bounded: a caller asking for ever new sets of layers starts the table afresh.)
        plans.withLock { if $0.count >= 64 { $0.removeAll() }; $0[key] = made }
        return made
    }

    /// Set ZOO_PROFILE=1 to print each layer's time to standard error (for finding hot spots).
    static let profiling = ProcessInfo.processInfo.environment["ZOO_PROFILE"] == "1"

    /// Runs the batch layer by layer on `threads` threads (the engine's, or 1 in an image stream).
    /// With `after`, `input` is that step's output and only the steps after it run (they read
    /// nothing before it: `streamCut`); with `through`, the steps after that one do not run.
    private func execute(_ input: Tensor, wanted: [Int: String], threads: Int, after start: Int? = nil,
                         through end: Int? = nil) throws -> [String: Tensor] {
        let batch = input.batch
        let inputBuffer = pool.take(count: input.data.count)
        input.data.withUnsafeBufferPointer { inputBuffer.pointer.update(from: $0.baseAddress!, count: $0.count) }
        var values = [Buffer?](repeating: nil, count: steps.count)
        if let start { values[start] = inputBuffer }
        var results: [String: Tensor] = [:]
        let plan = self.plan(wanted: wanted, batch: batch, threads: threads, start: start, end: end)
        let useFolded = plan.useFolded, fusedRelu = plan.fusedRelu, reluAliases = plan.reluAliases
        let fusedAdds = plan.fusedAdds, addAliases = plan.addAliases, extraConsumers = plan.extraConsumers
        var pending = plan.pending
        let slices = plan.slices, concatsInPlace = plan.concatsInPlace
        let workspaces = (0..<threads).map { _ in pool.take(count: plan.workspaceCount) }
        var concatBuffers: [Int: Buffer] = [:]
        func output(_ i: Int) -> Buffer {
            guard let slice = slices[i] else { return pool.take(count: steps[i].info.output.count * batch) }
            if concatBuffers[slice.concat] == nil { concatBuffers[slice.concat] = pool.take(count: steps[slice.concat].info.output.count) }
            return Buffer(viewOf: concatBuffers[slice.concat]!, offset: slice.offset, count: steps[i].info.output.count)
        }

        // Steps run when their inputs are done: one at a time on all threads, or — where several
        // are ready at once (the branches of an inception block) and their work divides evenly —
        // side by side, each on one thread with whole GEMMs (or one after the other after all, where
        // the engine has measured that faster: `RoundChoices`). A buffer goes back to the pool when
        // its last reader is done (an alias holds its source's buffer; a concat's inputs written in
        // place, views of its buffer).
        var readersLeft = consumers.map(\.count)
        var ready = (0..<steps.count).filter { pending[$0] == 0 }
        func finished(_ i: Int) {
            let step = steps[i]
            if let name = wanted[i] {
                results[name] = Tensor(shape: [batch] + step.info.output.dims, data: values[i]!.array(count: step.info.output.count * batch))
            }
            for j in step.inputs {
                readersLeft[j] -= 1
                if readersLeft[j] == 0 { values[j] = nil }
            }
            if consumers[i].isEmpty { values[i] = nil }
            for c in consumers[i] + extraConsumers[i] {
                pending[c] -= 1
                guard pending[c] == 0 else { continue }
                if concatsInPlace.contains(c) {
                    values[c] = concatBuffers.removeValue(forKey: c)
                    concatsDoneInPlace.add(1, ordering: .relaxed)
                    finished(c)
                } else if addAliases[c] != nil || isAlias(c, steps[c], useFolded: useFolded, reluAliases: reluAliases) {
                    values[c] = values[addAliases[c] ?? steps[c].inputs[0]]
                    finished(c)
                } else {
                    ready.append(c)
                }
            }
        }
        // A convolution with a fused residual add writes over its shortcut's buffer where nothing
        // else will read that buffer (the add, which passes the convolution's output on, is its
        // last reader) and the kernel can (`ConvolutionKernel.overwritesItsAddend`): a fresh
        // buffer's lines are fetched from memory before they are written, the shortcut's are in
        // cache as the epilogue reads them (its 56 × 56 conv_c layers write 3.2 MB and add 3.2 MB;
        // ResNet-50 0.99× the time on one thread, 0.98× on two, 40 pairs each).
        func overShortcut(_ i: Int) -> Buffer? {
            guard writesAddsInPlace, let shortcut = fusedAdds[i]?.shortcut, let buffer = values[shortcut], buffer !== inputBuffer,
                  buffer.parent == nil, case .convolution(let raw, let folded, _) = steps[i].operation,
                  (useFolded.contains(i) ? folded! : raw).overwritesItsAddend else { return nil }
            var readers = 0
            for (j, value) in values.enumerated() {
                guard let value else { continue }
                if value === buffer { readers += readersLeft[j] } else if value.parent === buffer { return nil }
            }
            guard readers == 1 else { return nil }
            addsDoneInPlace.add(1, ordering: .relaxed)
            return buffer
        }
        // Aliases of the network input (a flatten or dropout first) are done at once.
        let inputAliases = ready.filter { isAlias($0, steps[$0], useFolded: useFolded, reluAliases: reluAliases) }
        ready.removeAll { inputAliases.contains($0) }
        for i in inputAliases { values[i] = inputBuffer }
        for i in inputAliases { finished(i) }

        while !ready.isEmpty {
            ready.sort()
            let rule = rounds.rule
            var groups = threads > 1 && ready.count > 1 && rule != .oneAtATime ? sideBySide(ready, threads: threads) : nil
            // Whether such a round goes faster side by side or one step at a time on all threads is
            // learned from the engine's own runs (`RoundChoices`) where the numbers are the same
            // either way; then a round run one at a time runs all its steps, one after the other.
            var alone = [ready[0]], learned: [Int]?
            if let g = groups, rule == .learned, g.joined().allSatisfy({ splitsExactly(steps[$0], folded: useFolded.contains($0)) }) {
                let key = g.flatMap { $0 }.sorted()
                learned = key
                if !rounds.sideBySide(key) { groups = nil; alone = key }
            }
            let round = groups.map { $0.flatMap { $0 } } ?? alone
            ready.removeAll { round.contains($0) }
            let outputs = Dictionary(uniqueKeysWithValues: round.map { ($0, overShortcut($0) ?? output($0)) })
            let sources = Dictionary(uniqueKeysWithValues: round.map { i in
                (i, steps[i].inputs.isEmpty ? [inputBuffer] : steps[i].inputs.map { values[$0]! })
            })
            let folds = useFolded, fuses = fusedRelu
            let addends = Dictionary(uniqueKeysWithValues: round.compactMap { i in fusedAdds[i].map { (i, (values[$0.shortcut]!, fusedRelu.contains($0.add))) } })
            let work = { @Sendable (i: Int, threads: Int, workspaces: [Buffer]) throws in
                let step = self.steps[i]
                let started = Engine.profiling ? DispatchTime.now().uptimeNanoseconds : 0
                let addend = addends[i]
                try self.compute(i, step, sources: sources[i]!, inSize: step.info.inputs.map(\.count), outSize: step.info.output.count,
                                 batch: batch, out: outputs[i]!, folded: folds.contains(i), fuseRelu: fuses.contains(i) || addend?.1 == true,
                                 addend: addend?.0, workspaces: workspaces, threads: threads, sizing: threads)
                if Engine.profiling {
                    let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                    FileHandle.standardError.write(Data("\(step.name)\t\(step.info.layer.kind.typeName)\t\(String(format: "%.2f", ms)) ms\n".utf8))
                }
            }
            if let groups {
                let failure = FirstError()
                let started = DispatchTime.now().uptimeNanoseconds
                shareOut(groups.count, parts: groups.count) { g, _ in
                    for i in groups[g] {
                        do { try work(i, 1, [workspaces[g]]) } catch { failure.record(error) }
                    }
                }
                if let error = failure.error { throw error }
                if let learned { rounds.record(learned, together: DispatchTime.now().uptimeNanoseconds - started) }
            } else {
                // A learned round one step at a time keeps each step's time alone (no other step's).
                for i in round {
                    let started = learned == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                    try work(i, threads, workspaces)
                    if learned != nil { rounds.record(i, alone: DispatchTime.now().uptimeNanoseconds - started) }
                }
            }
            for i in round {
                values[i] = outputs[i]
                finished(i)
            }
        }
        return results
    }

    /// `ZOO_FUSED_ADD=0` runs residual adds as steps of their own (to compare the two).
    static let unfusedAdds = ProcessInfo.processInfo.environment["ZOO_FUSED_ADD"] == "0"
    static let copiedAdds = ProcessInfo.processInfo.environment["ZOO_ADD"] == "copy"

    /// `ZOO_CONCAT=copy` copies each input of a concat into its output (to compare with the
    /// inputs written in place).
    static let copiedConcats = ProcessInfo.processInfo.environment["ZOO_CONCAT"] == "copy"

    /// How rounds of several ready steps (an inception block's branches) share the threads.
    public enum RoundRule: String, Sendable, CaseIterable {
        /// Side by side or one step at a time, whichever this engine has measured faster for that
        /// round (`RoundChoices`; where a round's numbers would depend on it, side by side).
        case learned
        /// Side by side wherever the steps' multiply-adds divide evenly among the threads.
        case sideBySide = "side-by-side"
        /// Every step alone on all threads.
        case oneAtATime = "one-at-a-time"
    }

    /// The rule this engine's runs follow; `ZOO_SIDE_BY_SIDE=1` / `=0` start it at side-by-side /
    /// one-at-a-time instead of learned.
    public var roundRule: RoundRule {
        get { rounds.rule }
        set { rounds.rule = newValue }
    }

    static let defaultRoundRule: RoundRule = switch ProcessInfo.processInfo.environment["ZOO_SIDE_BY_SIDE"] {
    case "0": .oneAtATime
    case "1": .sideBySide
    default: .learned
    }

    /// Whether a step gives the same numbers on one thread as shared among several, wherever
    /// the cut: Zoo's own kernels do (each output's sum in the same order); OpenBLAS's SGEMM and
    /// SGEMV do not (their sums depend on where a share begins), so rounds with such steps keep
    /// the fixed rule — a run must give the numbers of the last.
    private func splitsExactly(_ step: Step, folded: Bool) -> Bool {
        switch step.operation {
        case .convolution(let raw, let foldedKernel, _):
            let kernel = folded ? foldedKernel! : raw
            return kernel.winograd.map { $0.packed != nil } ?? (kernel.packed != nil)
        case .dense: return false
        default: return true
        }
    }

    /// The cost of a step for sharing a round: its multiply-adds, at least its output size.
    private func cost(_ i: Int) -> Int { max(steps[i].info.macs, steps[i].info.output.count) }

    /// How `ready` steps divide among `threads` threads, each running its group on one thread
    /// (longest first to the least loaded), or nil when the costliest group would take more than
    /// 1.25× an even share: then the steps go one at a time, each on all threads.
    func sideBySide(_ ready: [Int], threads: Int) -> [[Int]]? {
        var groups = [[Int]](repeating: [], count: threads), load = [Int](repeating: 0, count: threads)
        for i in ready.sorted(by: { cost($0) > cost($1) }) {
            let g = load.indices.min { load[$0] < load[$1] }!
            groups[g].append(i)
            load[g] += cost(i)
        }
        let total = load.reduce(0, +)
        guard total > 0, Double(load.max()!) <= 1.25 * Double(total) / Double(threads) else { return nil }
        return groups.filter { !$0.isEmpty }
    }

    /// Splits 0..<count among the threads in contiguous chunks (element-wise kernels); one chunk
    /// when the work is too small to be worth a thread hand-off.
    private func chunks(_ count: Int, threads: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) {
        shareBalanced(count, parts: count >= 32_768 ? threads : 1) { _, range in body(range) }
    }

    private func isAlias(_ i: Int, _ step: Step, useFolded: Set<Int>, reluAliases: Set<Int>) -> Bool {
        switch step.operation {
        case .alias: return true
        case .batchNorm(_, _, let from?): return useFolded.contains(from)
        case .relu: return reluAliases.contains(i)
        default: return false
        }
    }

    /// One step on `threads` threads (1 inside a side-by-side round); its workspaces are sized as
    /// for `sizing` threads (the run's).
    private func compute(_ i: Int, _ step: Step, sources: [Buffer], inSize: [Int], outSize: Int, batch: Int, out: Buffer,
                         folded: Bool, fuseRelu: Bool, addend: Buffer? = nil, workspaces: [Buffer], threads: Int, sizing: Int) throws {
        let x = sources[0].pointer, y = out.pointer
        let info = step.info
        let perSample = { (body: @escaping @Sendable (Int) -> Void) in
            if batch > 1 && threads > 1 {
                shareOut(batch, parts: min(threads, batch)) { _, images in for n in images { body(n) } }
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
            // Whole images or bands of output rows per thread, several images per GEMM where they
            // fit; OpenBLAS threads the GEMMs only where the work cannot be shared out.
            // A fused residual add's shortcut is added before the ReLU.
            let first = workspaces[0].count > 0 ? workspaces[0].pointer : nil
            let target = Destination(output: y, addend: addend.map { UnsafePointer($0.pointer) })
            if threads == 1 {
                kernel.run(batch: batch, x, target, workspace: first, threads: sizing)
            } else if kernel.sharing(batch: batch, threads: threads) == .single {
                openblas_set_num_threads(Int32(threads))
                kernel.run(batch: batch, x, target, workspace: first)
                openblas_set_num_threads(1)
            } else {
                kernel.run(batch: batch, threads: threads, x, y, workspaces: workspaces.map(\.pointer), addend: target.addend)
            }
        case .pool(let p):
            if batch == 1 && threads > 1 {
                shareBalanced(info.output.channels, parts: threads) { _, range in Kernels.pool(p, info: info, xs.pointer, ys.pointer, channels: range) }
            } else {
                perSample { n in Kernels.pool(p, info: info, xs.pointer + n * inCount, ys.pointer + n * outSize) }
            }
        case .subsample(let s, let coefficient, let bias):
            perSample { n in Kernels.subsample(s, info: info, coefficient: coefficient, bias: bias, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .globalAverage:
            perSample { n in Kernels.globalAverage(info: info, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .lrn(let l):
            if batch == 1 && threads > 1 {
                shareBalanced(info.output.height * info.output.width, parts: threads) { _, range in Kernels.lrn(l, info: info, xs.pointer, ys.pointer, positions: range) }
            } else {
                perSample { n in Kernels.lrn(l, info: info, xs.pointer + n * inCount, ys.pointer + n * outSize) }
            }
        case .batchNorm(let scale, let shift, _):
            let channels = info.output.channels, area = outSize / channels
            perSample { n in Kernels.batchNorm(scale: scale, shift: shift, channels: channels, area: area, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .batchStatistics(let gamma, let beta, let epsilon):
            let channels = info.output.channels, area = outSize / channels
            let (mean, variance) = Engine.channelStatistics(x, batch: batch, channels: channels, area: area)
            let scale = (0..<channels).map { gamma[$0] / (Float(variance[$0]) + epsilon).squareRoot() }
            let shift = (0..<channels).map { beta[$0] - Float(mean[$0]) * scale[$0] }
            perSample { n in Kernels.batchNorm(scale: scale, shift: shift, channels: channels, area: area, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .dropout(let rate, let seed):
            let mask = Engine.dropoutMask(seed: seed, count: outSize * batch, rate: rate)
            for k in 0..<(outSize * batch) { y[k] = x[k] * mask[k] }
        case .relu:
            chunks(outSize * batch, threads: threads) { range in
                let y = ys.pointer, x = xs.pointer
                for k in range { y[k] = max(x[k], 0) }
            }
        case .tanh:
            Elementwise.tanh(x, y, count: outSize * batch)
        case .scaledTanh(let a, let s):
            Elementwise.tanh(x, y, count: outSize * batch, a: a, s: s)
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
            Kernels.dense(weights: weights, bias: bias, inputs: inCount, outputs: outSize, batch: batch, x, y, threads: threads)
        case .concat:
            var offset = 0
            for (source, size) in zip(sources, inSize) {
                for n in 0..<batch { (y + n * outSize + offset).update(from: source.pointer + n * size, count: size) }
                offset += size
            }
        case .add:
            let others = sources.dropFirst().map { UnsafeSendable($0.pointer) }
            let relu = fuseRelu
            chunks(outSize * batch, threads: threads) { range in
                let y = ys.pointer, x = xs.pointer
                for k in range { y[k] = x[k] }
                for source in others {
                    let a = source.pointer
                    for k in range { y[k] += a[k] }
                }
                if relu { for k in range { y[k] = max(y[k], 0) } }
            }
        case .padShortcut(let p):
            perSample { n in Kernels.padShortcut(p, info: info, xs.pointer + n * inCount, ys.pointer + n * outSize) }
        case .rbf(let prototypes):
            for n in 0..<batch { Kernels.rbf(units: outSize, inputs: inCount, prototypes: prototypes, x + n * inCount, y + n * outSize) }
        case .alias:
            y.update(from: x, count: outSize * batch)
        }
    }
}

extension Engine.Mode {
    /// Whether batch norm layer `name` normalises with the batch's statistics.
    func usesBatchStatistics(_ name: String) -> Bool {
        if case .training(_, let frozen) = self { return !frozen.contains(name) }
        return false
    }
}

/// An activation buffer: back to its pool (or freed) when the last reference goes; or a view of
/// part of another buffer (a slice of a concat's output), which keeps that one alive.
final class Buffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    /// The floats asked for; `capacity` may be more (a recycled buffer).
    let count: Int
    let capacity: Int
    private let pool: BufferPool?
    /// The buffer this one is a view of (a concat's slice), nil for a buffer of its own.
    let parent: Buffer?
    init(count: Int) {
        self.count = count
        capacity = max(count, 1)
        pointer = .allocate(capacity: capacity)
        pool = nil
        parent = nil
    }
    fileprivate init(pointer: UnsafeMutablePointer<Float>, count: Int, capacity: Int, pool: BufferPool) {
        self.pointer = pointer; self.count = count; self.capacity = capacity; self.pool = pool; parent = nil
    }
    /// Floats offset ..< offset + count of `parent`.
    init(viewOf parent: Buffer, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= parent.count)
        pointer = parent.pointer + offset; self.count = count; capacity = count; pool = nil; self.parent = parent
    }
    func array(count: Int) -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    deinit {
        if parent != nil { return }
        if let pool { pool.give(pointer, capacity: capacity) } else { pointer.deallocate() }
    }
}

/// The engine's activation memory, kept from one layer and one run to the next: a fresh
/// allocation of a large buffer is fresh pages, and faulting them in cost GoogLeNet a tenth of its
/// time. Best fit among the free buffers; a new allocation when none is large enough.
final class BufferPool: @unchecked Sendable {
    private var free: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []
    private let lock = NSLock()

    func take(count: Int) -> Buffer {
        let needed = max(count, 1)
        lock.lock()
        var best: Int?
        for (i, b) in free.enumerated() where b.capacity >= needed && b.capacity <= 2 * needed + 4096 {
            if best == nil || b.capacity < free[best!].capacity { best = i }
        }
        let found = best.map { free.remove(at: $0) }
        lock.unlock()
        if let found { return Buffer(pointer: found.pointer, count: count, capacity: found.capacity, pool: self) }
        return Buffer(pointer: .allocate(capacity: needed), count: count, capacity: needed, pool: self)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        lock.lock()
        free.append((pointer, capacity))
        lock.unlock()
    }

    deinit { for b in free { b.pointer.deallocate() } }
}

/// Each image's outputs from the image streams (`Engine.streamsImages`).
final class StreamResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [[String: Tensor]?]
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ n: Int, _ r: [String: Tensor]) { lock.lock(); results[n] = r; lock.unlock() }
}

/// The first error thrown on any of several threads.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}

/// A pointer handed to worker threads that write disjoint ranges.
struct UnsafeSendable: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ p: UnsafeMutablePointer<Float>) { pointer = p }
}
