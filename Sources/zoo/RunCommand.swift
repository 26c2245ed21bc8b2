import ArgumentParser
import Foundation
import ZooCore
import ZooEngine
import ZooHDF5
import ZooWeights

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a network forward and print (or save) the activations of chosen layers.",
        discussion: """
            Without --weights the network gets seeded random weights (He/Glorot). --save writes the \
            requested activations: OUT.h5 (one dataset per layer) or OUT.npy (one file; with several \
            layers OUT.LAYER.npy each), so they can be compared with another framework.
            """)

    @Argument(help: "A network of the zoo or a definition file.") var name: String
    @Option(help: "A weight file (Zoo native, Keras .h5 or .weights.h5).") var weights: String?
    @Option(help: "FILE.npy ([N, C, H, W] or one [C, H, W] sample) or `random`.") var input: String = "random"
    @Option(name: .customLong("output"), parsing: .upToNextOption, help: "Layers whose activations to return (default: the network's output).")
    var outputs: [String] = []
    @Option(help: "Write the activations to OUT.npy or OUT.h5.") var save: String?
    @Option(help: "Batch size of a random input.") var batch: Int = 1
    @Option(help: "Seed of the random weights and input.") var seed: UInt64 = 0
    @Option(help: "Threads (default: the cores this process may use).") var threads: Int?
    @Flag(help: "Overwrite an existing --save file.") var force = false

    func run() throws {
        try reporting {
            let model = try loadModel(name: name, weights: weights, seed: seed)
            let network = model.network
            let x: Tensor
            if input == "random" {
                guard batch > 0 else { throw ZooError("--batch must be positive") }
                x = Tensor.randomNormal(shape: [batch] + network.input.dims, seed: seed &+ 1)
            } else {
                var t = try NPY.read(input)
                if t.shape == network.input.dims { t = Tensor(shape: [1] + t.shape, data: t.data) }
                x = t
            }
            let engine = try Engine(model: model, threads: threads)
            let names = outputs.isEmpty ? [network.output.name] : outputs
            let start = Date()
            let results = try engine.run(x, outputs: names)
            let elapsed = Date().timeIntervalSince(start)
            print("\(network.name): input \(x.shape), \(String(format: "%.1f", elapsed * 1000)) ms, weights: \(weights ?? "random (seed \(seed))")")
            for layer in names {
                let t = results[layer]!
                let n = Float(t.count)
                let mean = t.data.reduce(0, +) / n
                let std = (t.data.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
                print("  \(layer): \(t.shape)  min \(t.data.min()!)  max \(t.data.max()!)  mean \(mean)  std \(std)")
            }
            if let save { try saveActivations(results, names: names, to: save, overwrite: force) }
        }
    }

    func saveActivations(_ results: [String: Tensor], names: [String], to path: String, overwrite: Bool) throws {
        if path.hasSuffix(".h5") {
            try AtomicFile.write(to: path, overwrite: overwrite) { temporary in
                let file = try HDF5File(creating: temporary, overwrite: true)
                let root = try file.root
                try root.setAttribute("network", .string(name))
                for layer in names { try root.createDataset(layer.replacingOccurrences(of: "/", with: "_"), shape: results[layer]!.shape, data: results[layer]!.data) }
                file.close()
            }
            print("wrote \(path) (\(names.count) dataset\(names.count == 1 ? "" : "s"))")
        } else {
            let stem = path.hasSuffix(".npy") ? String(path.dropLast(4)) : path
            for layer in names {
                let file = names.count == 1 ? stem + ".npy" : stem + "." + layer + ".npy"
                try NPY.write(results[layer]!, to: file, overwrite: overwrite)
                print("wrote \(file)")
            }
        }
    }
}

/// The model a command works on: the network with weights from a file, or seeded random ones.
func loadModel(name: String, weights: String?, seed: UInt64) throws -> Model {
    let network = try Catalogue.network(name)
    if let weights {
        return try WeightLoader.load(network, from: weights).model
    }
    return try Model.randomlyInitialised(network, seed: seed)
}
