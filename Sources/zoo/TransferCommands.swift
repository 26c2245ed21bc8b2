import ArgumentParser
import Foundation
import ZooCore
import ZooEngine
import ZooHDF5
import ZooImages
import ZooTransfer
import ZooWeights

/// The preprocessing for a network: the flag, else the weight file's record, else the definition's.
func preprocessing(for model: Model, weightsAttributes: [String: HDF5AttributeValue], override: String?) throws -> Preprocessing {
    let name = override ?? weightsAttributes["preprocessing_preset"]?.string ?? model.network.info.preprocessing ?? "raw"
    return try Preprocessing.preset(name, height: model.network.input.height, width: model.network.input.width)
}

/// Loads NAME with --weights (or random weights), and the file's attributes.
func loadForTransfer(_ name: String, weights: String?, skip: [String] = [], seed: UInt64 = 0) throws -> (Model, [String: HDF5AttributeValue]) {
    let network = try Catalogue.network(name)
    if let weights {
        let report = try WeightLoader.load(network, from: weights, options: .init(skip: Set(skip), allowMissing: !skip.isEmpty, seed: seed))
        return (report.model, report.attributes)
    }
    return (try Model.randomlyInitialised(network, seed: seed), [:])
}

/// Set by SIGINT/SIGTERM: finish the batch, write, stop.
nonisolated(unsafe) var stopRequested: Int32 = 0

struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Images in, CNN codes out: the activations of chosen layers for every image, written to an HDF5 code file.",
        discussion: """
            INPUTS are images, folders (read recursively; sub-folder names become labels) or text files listing paths. \
            A corrupt image is reported, listed under `failed` and skipped. Ctrl-C stops after the current batch; running \
            the same command again resumes. --shard I/N (0 ≤ I < N) processes every N-th input from I, for job arrays; \
            `zoo codes merge` joins the shard files.
            """)

    @Argument(help: "A network of the zoo or a definition file.") var name: String
    @Argument(help: "Images, folders, lists of paths or .npy tensors.") var inputs: [String] = []
    @Option(help: "Instead of INPUTS: a named data set (mnist5k, digits; tools/fetch-data.sh), prepared as LeNet-5 reads it, with its labels.")
    var data: String?
    @Option(help: "Folder of the fetched data sets.") var cache: String = ".cache/data"
    @Option(help: "A weight file (default: seeded random weights).") var weights: String?
    @Option(name: .customLong("layer"), parsing: .upToNextOption, help: "Layers to extract (e.g. fc7).") var layers: [String] = []
    @Option(help: "none, avg or max: turn a feature map into one value per channel.") var pool: Extraction.Pooling = .none
    @Option(name: .shortAndLong, help: "The output: FILE.h5 (default codes.h5); --format npy/csv write FILE.npy + FILE.paths.txt or FILE.csv at the end.")
    var output: String = "codes.h5"
    @Option(help: "h5, npy or csv.") var format: String = "h5"
    @Option(help: "Images per batch.") var batch: Int = 16
    @Option(help: "Threads (default: the cores this process may use).") var threads: Int?
    @Option(help: "This run's share: I/N.") var shard: String = "0/1"
    @Option(help: "Preprocessing preset (caffe, torch, lenet, raw; default: the weight file's record, else the definition's).") var preprocessing: String?
    @Option(help: "Seed of random weights.") var seed: UInt64 = 0
    @Flag(help: "Start again, replacing an existing output.") var force = false
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        try reporting {
            guard batch > 0 else { throw ZooError("--batch must be positive") }
            let parts = shard.split(separator: "/").compactMap { Int($0) }
            guard parts.count == 2 else { throw ZooError("--shard takes I/N, e.g. 0/4, got `\(shard)`") }
            guard ["h5", "npy", "csv"].contains(format) else { throw ZooError("--format must be h5, npy or csv") }
            let (model, attributes) = try loadForTransfer(name, weights: weights, seed: seed)
            let chosen = layers.isEmpty ? [model.network.output.name] : layers
            var list: InputList
            if let data {
                // A named data set: its prepared inputs as one .npy beside the output, with labels.
                let set = try Dataset.load(named: data, cache: cache)
                let x = set.lenetInput(field: data == "digits" ? 20 : nil, maximum: data == "digits" ? 16 : 255)
                let npy = output + ".inputs.npy"
                try NPY.write(x, to: npy, overwrite: true)
                list = try InputList.collect([npy])
                list.labels = set.labels
                list.classes = set.classes
            } else {
                guard !inputs.isEmpty else { throw ZooError("give images, folders, lists or .npy files, or --data NAME") }
                list = try InputList.collect(inputs)
            }
            list = try list.shard(parts[0], of: parts[1])
            var job = Extraction(model: model, weightsPath: weights, layers: chosen,
                                 preprocessing: try ZooCommand.preprocessingFor(model, attributes, preprocessing))
            job.pooling = pool
            job.batch = batch
            job.threads = threads
            let h5 = format == "h5" ? output : output + ".partial.h5"
            signal(SIGINT) { _ in stopRequested = 1 }
            signal(SIGTERM) { _ in stopRequested = 1 }
            let terminal = isatty(STDERR_FILENO) != 0
            var lastLine = Date.distantPast
            let started = Date()
            let result = try job.run(inputs: list, output: h5, force: force || format != "h5", shard: shard,
                                     shouldStop: { stopRequested != 0 }) { p in
                guard !quiet else { return }
                let eta = p.imagesPerSecond > 0 ? Double(p.total - p.done) / p.imagesPerSecond : 0
                let line = String(format: "%d/%d images, %.1f images/s, %d failed, ETA %.0f s", p.done, p.total, p.imagesPerSecond, p.failed, eta)
                if terminal {
                    let width = 30, filled = p.total > 0 ? width * p.done / p.total : width
                    FileHandle.standardError.write(Data(("\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] " + line).utf8))
                } else if Date().timeIntervalSince(lastLine) > 5 || p.done == p.total {
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                    lastLine = Date()
                }
            }
            if terminal && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
            for (path, reason) in result.failed { printError("skipped \(path): \(reason)") }
            let elapsed = Date().timeIntervalSince(started)
            if stopRequested != 0 {
                print("stopped after \(result.written) codes; run the same command again to resume")
                throw ExitCode(130)
            }
            if format != "h5" { try convert(h5) }
            print("\(result.written) codes (\(chosen.map { "\($0): \(result.dimensions[$0]!)" }.joined(separator: ", ")) values each)"
                  + (result.resumedFrom > 0 ? ", resumed after \(result.resumedFrom) inputs" : "")
                  + ", \(result.failed.count) failed, \(String(format: "%.1f", elapsed)) s → \(output)")
        }
    }

    func convert(_ h5: String) throws {
        let codes = try Codes.read(h5)
        defer { try? FileManager.default.removeItem(atPath: h5) }
        if format == "npy" {
            let stem = output.hasSuffix(".npy") ? String(output.dropLast(4)) : output
            try NPY.write(Tensor(shape: [codes.count, codes.dimension], data: codes.values), to: stem + ".npy", overwrite: force)
            try AtomicFile.write(to: stem + ".paths.txt", overwrite: force) { tmp in
                try (codes.paths.joined(separator: "\n") + "\n").write(toFile: tmp, atomically: false, encoding: .utf8)
            }
        } else {
            try AtomicFile.write(to: output, overwrite: force) { tmp in
                var text = "path" + (codes.labels != nil ? ",label" : "") + (0..<codes.dimension).map { ",f\($0)" }.joined() + "\n"
                for i in 0..<codes.count {
                    text += "\"\(codes.paths[i].replacingOccurrences(of: "\"", with: "\"\""))\""
                    if let labels = codes.labels { text += "," + codes.classes[labels[i]] }
                    text += codes.values[(i * codes.dimension)..<((i + 1) * codes.dimension)].map { "," + String($0) }.joined() + "\n"
                }
                try text.write(toFile: tmp, atomically: false, encoding: .utf8)
            }
        }
    }
}

extension Extraction.Pooling: ExpressibleByArgument {}

extension ZooCommand {
    static func preprocessingFor(_ model: Model, _ attributes: [String: HDF5AttributeValue], _ override: String?) throws -> Preprocessing {
        try preprocessing(for: model, weightsAttributes: attributes, override: override)
    }
}

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Train a linear classifier (multinomial logistic regression, L-BFGS) on a code file's labelled codes.")

    @Argument(help: "A code file from `zoo extract` with labels (images in class folders).") var codes: String
    @Option(name: .shortAndLong, help: "Where to save the head.") var output: String = "head.h5"
    @Option(help: "Fraction of each class held out for testing.") var holdout: Double = 0.2
    @Option(help: "L2 penalty λ on the weights.") var l2: Double = 1e-3
    @Option(help: "Seed of the hold-out split.") var seed: UInt64 = 0
    @Option(help: "The layer, when the file holds several.") var layer: String?
    @Flag(help: "Overwrite an existing head file.") var force = false

    func run() throws {
        try reporting {
            let data = try Codes.read(codes, layer: layer)
            guard let labels = data.labels, data.classes.count >= 2 else {
                throw ZooError("\(codes) has no labels: extract from a folder whose sub-folders are the classes")
            }
            let split = try StratifiedSplit(labels: labels, holdout: holdout, seed: seed)
            let d = data.dimension
            func rows(_ idx: [Int]) -> [Float] { idx.flatMap { data.values[($0 * d)..<(($0 + 1) * d)] } }
            let (head, report) = try LinearClassifier.fit(codes: rows(split.train), labels: split.train.map { labels[$0] },
                                                          classes: data.classes, l2: l2)
            let trainAccuracy = ConfusionMatrix(classes: data.classes, truth: split.train.map { labels[$0] }, predicted: try head.predict(rows(split.train))).accuracy
            print("\(data.count) codes of \(d) values, \(data.classes.count) classes; train \(split.train.count), hold-out \(split.holdout.count)")
            print(String(format: "L-BFGS: %d iterations%@, objective %.6f", report.iterations, report.converged ? "" : " (not converged)", report.objective))
            print(String(format: "train accuracy %.2f%%", trainAccuracy * 100))
            if !split.holdout.isEmpty {
                let m = ConfusionMatrix(classes: data.classes, truth: split.holdout.map { labels[$0] }, predicted: try head.predict(rows(split.holdout)))
                print(String(format: "hold-out accuracy %.2f%% (%d of %d)", m.accuracy * 100, Int((m.accuracy * Double(split.holdout.count)).rounded()), split.holdout.count))
                print(m.rendered, terminator: "")
            }
            try HeadFile.write(head, to: output, overwrite: force, source: data.attributes)
            print("wrote \(output)")
        }
    }
}

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images: top-k classes with probabilities, by the network's own output or a head from `zoo fit`.")

    @Argument(help: "A network of the zoo or a definition file.") var name: String
    @Argument(help: "Images.") var images: [String]
    @Option(help: "A weight file (default: seeded random weights).") var weights: String?
    @Option(help: "A head from `zoo fit` (classifies the codes of the layer it was trained on).") var head: String?
    @Option(help: "How many classes to show.") var top: Int = 5
    @Option(help: "Preprocessing preset (default: the weight file's record, else the definition's).") var preprocessing: String?
    @Option(help: "Seed of random weights.") var seed: UInt64 = 0

    func run() throws {
        try reporting {
            let (model, attributes) = try loadForTransfer(name, weights: weights, seed: seed)
            let prep = try ZooCommand.preprocessingFor(model, attributes, preprocessing)
            let engine = try Engine(model: model)
            let loadedHead = try head.map { try HeadFile.read($0) }
            var classes = loadedHead?.classifier.classes ?? attributes["classes"]?.strings ?? []
            let outputUnits = try Summary(model.network).layers.last?.output.count
            if classes.isEmpty && outputUnits == 1000 {
                classes = Catalogue.imageNetClasses
            }
            // Images, or rows of .npy tensors already prepared as the network reads them.
            var items: [(String, Tensor)] = []
            for path in images {
                if path.hasSuffix(".npy") {
                    let t = try NPY.read(path)
                    let rows = t.shape.count == model.network.input.rank + 1 ? t.shape[0] : 1
                    let size = model.network.input.count
                    guard t.count == rows * size else { throw ZooError("\(path): shape \(t.shape); `\(model.network.name)` takes [N, \(model.network.input)]") }
                    for r in 0..<rows { items.append(("\(path)#\(r)", Tensor(shape: [1] + model.network.input.dims, data: Array(t.data[(r * size)..<((r + 1) * size)])))) }
                } else {
                    do { items.append((path, prep.batch([try Image(contentsOf: path)]))) } catch { printError("zoo: skipped \(path): \(error)") }
                }
            }
            for (path, x) in items {
                var probabilities: [Float]
                if let loadedHead {
                    let out = try engine.run(x, outputs: [loadedHead.layer])[loadedHead.layer]!
                    var job = Extraction(model: model, weightsPath: nil, layers: [loadedHead.layer], preprocessing: prep)
                    job.pooling = loadedHead.pooling
                    probabilities = try loadedHead.classifier.probabilities(job.vector(out, row: 0))
                } else {
                    let out = try engine.run(x)[model.network.output.name]!
                    probabilities = out.data
                    if case .rbf = model.network.output.kind {
                        // LeNet-5's RBF outputs are distances: the paper's eq. 9 turns them into
                        // probabilities as softmax(−y).
                        probabilities = probabilities.map { -$0 }
                    }
                    if case .softmax = model.network.output.kind {} else {
                        let m = probabilities.max()!
                        let e = probabilities.map { expf($0 - m) }
                        let s = e.reduce(0, +)
                        probabilities = e.map { $0 / s }
                    }
                }
                let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
                print(path + ":")
                for i in ranked {
                    let label = i < classes.count ? classes[i] : "class \(i)"
                    print(String(format: "  %6.2f%%  %@", probabilities[i] * 100, label))
                }
            }
        }
    }
}

struct CodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "codes", abstract: "Work with code files.", subcommands: [Merge.self])

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Join shard files (`zoo extract --shard I/N`) into one code file, in input order.")
        @Option(name: .shortAndLong, help: "The merged file.") var output: String
        @Argument(help: "The shard files.") var shards: [String]
        @Flag(help: "Overwrite an existing output.") var force = false

        func run() throws {
            try reporting {
                let merged = try CodeMerger.merge(shards, into: output, overwrite: force)
                print("merged \(shards.count) shards, \(merged) codes → \(output)")
            }
        }
    }
}
