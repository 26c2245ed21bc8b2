import ArgumentParser
import Foundation
import ZooCore
import ZooEngine
import ZooHDF5
import ZooImages
import ZooTransfer
import ZooWeights

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network (ending in a softmax) on a named data set with mini-batch SGD; checkpoint every epoch.",
        discussion: """
            Data sets: mnist5k (4,000 train / 1,000 test, the fixed split of docs/training.md) and digits \
            (scikit-learn's 8×8 digits enlarged to 20×20, 1,438 / 359), fetched by tools/fetch-data.sh into \
            .cache/data (or --cache), prepared as LeNet-5 reads them (32×32, background −0.1, ink 1.175); \
            or a folder with a sub-folder of images per class (prepared by the network's preprocessing preset), \
            or INPUTS.npy [N, C, H, W] with --labels LABELS.npy. A data set of another class count than the \
            network's gets a new head (the last layer with weights), also with --from. \
            The output file is rewritten (atomically) after every epoch with the weights and the history so far; \
            --resume continues an interrupted run from it.
            """)

    @Argument(help: "A network of the zoo or a definition file (e.g. lenet5-common).") var name: String
    @Option(help: "mnist5k, digits, a folder with one sub-folder of images per class, or INPUTS.npy (with --labels).") var data: String = "mnist5k"
    @Option(help: "With --data INPUTS.npy: the labels, one integer class per row.") var labels: String?
    @Option(help: "Preprocessing preset for a folder of images (default: the network's).") var preprocessing: String?
    @Option(help: "Share of each class held out for testing (folders and .npy; the named sets have fixed splits).") var testFraction: Double = 0.2
    @Option(help: "Folder of the fetched data sets.") var cache: String = ".cache/data"
    @Option(help: "Passes over the training set.") var epochs: Int = 10
    @Option(help: "Mini-batch size.") var batch: Int = 32
    @Option(help: "Learning rate (of the first pass).") var lr: Float = 0.05
    @Option(help: "constant, paper (LeNet-5's per-pass schedule) or step:N:F (× F every N passes).") var schedule: String = "constant"
    @Option(help: "Momentum.") var momentum: Float = 0.9
    @Option(help: "L2 weight decay on kernels.") var weightDecay: Float = 5e-4
    @Option(help: "Batch norm's moving averages: m ← (1 − b)·m + b·batch.") var bnMomentum: Float = 0.1
    @Option(help: "Seed of the initial weights, the shuffling and the dropout masks.") var seed: UInt64 = 1
    @Option(help: "Start from these weights instead of random ones (a head of another class count is replaced).") var from: String?
    @Option(help: "Keep the parameters of every layer up to and including this one fixed (fine-tuning the rest).") var freeze: String?
    @Option(name: .shortAndLong, help: "The weight file to write (also OUT.csv with the history).") var output: String
    @Flag(help: "Continue from the epochs already in --output.") var resume = false
    @Flag(help: "Overwrite an existing --output.") var force = false
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        try reporting {
            guard epochs > 0, batch > 0 else { throw ZooError("--epochs and --batch must be positive") }
            var network = try Catalogue.network(name)
            let p = try preprocessing.map { try Preprocessing.preset($0, height: network.input.height, width: network.input.width) }
            let prepared = try TrainingData.load(data, labels: labels, network: network, preprocessing: p, cache: cache, testFraction: testFraction)
            let (trainSet, testSet) = (prepared.train, prepared.test)
            // A data set with another class count: a new head of that many units, learned afresh.
            var newHead: String?
            if let own = network.classCount, own != prepared.classes.count {
                let head = network.head?.name ?? "?"
                network = try network.withHead(classes: prepared.classes.count)
                newHead = head
                print("head `\(head)`: \(own) → \(prepared.classes.count) classes (\(prepared.classes.prefix(8).joined(separator: ", "))\(prepared.classes.count > 8 ? ", …" : "")), initialised at random")
            }
            var history: [[Double]] = []   // epoch, train loss, train error, test loss, test error, seconds
            var model: Model
            var velocity: [String: [String: [Float]]] = [:]
            if resume, FileManager.default.fileExists(atPath: output) {
                let report = try WeightLoader.load(network, from: output, options: .init(adaptHead: false))
                model = report.model
                let flat = report.attributes["history"]?.doubles ?? []
                history = stride(from: 0, to: flat.count, by: 6).map { Array(flat[$0..<min($0 + 6, flat.count)]) }
                velocity = try WeightLoader.optimizerState(in: output)
                print("resuming after epoch \(history.count) of \(output)\(velocity.isEmpty ? " (no momentum saved: starting it from zero)" : ", momentum restored")")
            } else {
                if FileManager.default.fileExists(atPath: output) && !force {
                    throw ZooError("\(output) exists", hint: "--resume continues it, --force starts again")
                }
                if let from {
                    let report = try WeightLoader.load(network, from: from, options: .init(skip: Set(newHead.map { [$0] } ?? []), seed: seed, adaptHead: false))
                    model = report.model
                    print("from \(report.description)")
                } else {
                    model = try Model.randomlyInitialised(network, seed: seed)
                }
            }
            let trainer = Trainer(model: model, optimizer: SGD(learningRate: lr, momentum: momentum, weightDecay: weightDecay))
            trainer.optimizer.velocity = velocity
            trainer.batchNormMomentum = bnMomentum
            if let freeze {
                guard let last = network.resolve(freeze), let upto = network.position(of: last) else {
                    throw ZooError("--freeze: `\(freeze)` is not a layer of `\(network.name)`",
                                   hint: Network.nearest(freeze, among: network.layers.map(\.name)).map { "did you mean `\($0)`?" })
                }
                if let newHead, let h = network.position(of: newHead), h <= upto {
                    throw ZooError("--freeze \(freeze) would freeze the new head `\(newHead)` too: nothing would learn")
                }
                trainer.frozen = Set(network.layers[...upto].map(\.name))
                print("frozen: \(network.layers[...upto].filter { $0.kind.hasParameters }.map(\.name).joined(separator: ", "))")
            }
            var rng = RandomSource(seed: seed &+ 17)
            trainer.skipEpochs(history.count, count: trainSet.count, rng: &rng)
            print("\(network.name) on \(data): \(trainSet.count) train, \(testSet.count) test, \(prepared.classes.count) classes; batch \(batch), lr \(lr), momentum \(momentum), weight decay \(weightDecay), seed \(seed)")
            print("epoch  train loss  train error  test loss  test error  seconds")
            for h in history { print(Self.line(h)) }
            let plan = try LearningRateSchedule(parsing: schedule)
            let terminal = isatty(STDERR_FILENO) != 0 && !quiet
            for epoch in (history.count + 1)...max(epochs, history.count + 1) where epoch <= epochs {
                let started = Date()
                trainer.optimizer.learningRate = lr * plan.multiplier(epoch: epoch)
                let train = try trainer.trainEpoch(images: trainSet.images, labels: trainSet.labels, batch: batch, rng: &rng) { done, total in
                    if terminal { FileHandle.standardError.write(Data("\repoch \(epoch): \(done)/\(total)".utf8)) }
                }
                if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                let test = testSet.count > 0 ? try trainer.evaluate(images: testSet.images, labels: testSet.labels) : Trainer.EpochResult(loss: .nan, errorRate: .nan)
                history.append([Double(epoch), train.loss, train.errorRate, test.loss, test.errorRate, Date().timeIntervalSince(started)])
                print(Self.line(history.last!))
                try save(trainer.model, history: history, classes: prepared.classes, preprocessing: prepared.preprocessing,
                         velocity: trainer.optimizer.velocity)
            }
            guard testSet.count > 0 else {
                print("wrote \(output), \(csvPath) and \(svgPath)")
                return
            }
            // The confusion matrix on the test set.
            let engine = try Engine(model: trainer.model)
            let out = try engine.run(testSet.images)[network.output.name]!
            let c = out.count / testSet.count
            let smallest: Bool = { if case .rbf = network.output.kind { return true } else { return false } }()
            let predicted = (0..<testSet.count).map { i -> Int in
                let row = Array(out.data[(i * c)..<((i + 1) * c)])
                return smallest ? row.indices.min { row[$0] < row[$1] }! : row.indices.max { row[$0] < row[$1] }!
            }
            let matrix = ConfusionMatrix(classes: testSet.classes, truth: testSet.labels, predicted: predicted)
            print("test set confusion matrix (rows: true class):")
            print(matrix.rendered, terminator: "")
            print("wrote \(output), \(csvPath) and \(svgPath)")
        }
    }

    var stem: String { output.hasSuffix(".h5") ? String(output.dropLast(3)) : output }
    var csvPath: String { stem + ".csv" }
    var svgPath: String { stem + ".svg" }

    static func line(_ h: [Double]) -> String {
        String(format: "%5d  %10.4f  %10.2f%%  %9.4f  %9.2f%%  %7.1f", Int(h[0]), h[1], h[2] * 100, h[3], h[4] * 100, h[5])
    }

    func save(_ model: Model, history: [[Double]], classes: [String], preprocessing: String, velocity: [String: [String: [Float]]]) throws {
        try WeightWriter.write(model, to: output, overwrite: true, attributes: [
            "preprocessing_preset": .string(preprocessing),
            "classes": .strings(classes),
            "history": .doubles(history.flatMap { $0 }),
            "history_columns": .strings(["epoch", "train_loss", "train_error", "test_loss", "test_error", "seconds"]),
            "training": .string("zoo train \(name) --data \(data)\(labels.map { " --labels \($0)" } ?? "")\(from.map { " --from \($0)" } ?? "")\(freeze.map { " --freeze \($0)" } ?? "") --epochs \(epochs) --batch \(batch) --lr \(lr) --schedule \(schedule) --momentum \(momentum) --weight-decay \(weightDecay) --seed \(seed)"),
        ], optimizerState: velocity)
        try AtomicFile.write(to: csvPath, overwrite: true) { tmp in
            let text = "epoch,train_loss,train_error,test_loss,test_error,seconds\n"
                + history.map { h in h.enumerated().map { $0 == 0 ? String(Int($1)) : String($1) }.joined(separator: ",") }.joined(separator: "\n") + "\n"
            try text.write(toFile: tmp, atomically: false, encoding: .utf8)
        }
        try AtomicFile.write(to: svgPath, overwrite: true) { tmp in
            try LearningCurve.svg(history: history, title: "\(name) on \(data): error per epoch").write(toFile: tmp, atomically: false, encoding: .utf8)
        }
    }
}
