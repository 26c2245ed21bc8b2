import Foundation
import ZooCore
import ZooImages

/// The labelled inputs `zoo train` learns from, already prepared as the network reads them
/// (`images` of `train` and `test` are `[N] + network.input`), split into train and test.
///
/// Three sources:
/// - a named data set (`mnist5k`, `digits`): the documented fixed split, digits prepared as LeNet-5
///   reads them (32×32, background −0.1, ink 1.175; the 8×8 digits enlarged to 20×20 first);
/// - a folder whose sub-folders are the classes (the ImageFolder convention), images decoded and
///   prepared by a `Preprocessing`;
/// - a pair of `.npy` files: inputs `[N] + network.input` (or `[N, H, W]` for a one-channel
///   network) used as they are, and `[N]` integer labels 0…K−1.
///
/// Folders and `.npy` pairs are split like the named sets: the last `testFraction` of each class,
/// in file order, is the test set.
public struct TrainingData: Sendable {
    public var train: Dataset
    public var test: Dataset
    /// The preset the inputs were prepared with, recorded in the trained weight file.
    public var preprocessing: String

    public var classes: [String] { train.classes }

    public static func load(_ source: String, labels: String? = nil, network: Network, preprocessing: Preprocessing? = nil,
                            cache: String = ".cache/data", testFraction: Double = 0.2) throws -> TrainingData {
        guard testFraction >= 0 && testFraction < 1 else { throw ZooError("the test fraction must be in 0..<1, got \(testFraction)") }
        if Dataset.named[source] != nil {
            guard labels == nil else { throw ZooError("--labels goes with an .npy of inputs, not with the named data set `\(source)`") }
            return try named(source, network: network, cache: cache)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw ZooError("data set `\(source)`: not a named data set (\(Dataset.named.keys.sorted().joined(separator: ", "))), a folder or an .npy file")
        }
        let all: Dataset
        let preset: String
        if isDirectory.boolValue {
            guard labels == nil else { throw ZooError("--labels goes with an .npy of inputs; a folder's labels are its sub-folders") }
            let p = try preprocessing ?? Preprocessing.preset(network.info.preprocessing ?? "raw", height: network.input.height, width: network.input.width)
            all = try folder(source, network: network, preprocessing: p)
            preset = p.preset
        } else if source.hasSuffix(".npy") {
            guard let labels else { throw ZooError("\(source): an .npy of inputs needs --labels LABELS.npy (one integer class per row)") }
            all = try npyPair(source, labels: labels, network: network)
            preset = "raw"
        } else {
            throw ZooError("data set `\(source)`: a file must be an .npy of inputs (with --labels); images go in class sub-folders of a folder")
        }
        let (train, test) = all.fixedSplit(testFraction: testFraction)
        guard train.count > 0 else { throw ZooError("data set `\(source)`: nothing left to train on after the \(Int(testFraction * 100)) % test split") }
        return TrainingData(train: train, test: test, preprocessing: preset)
    }

    static func named(_ name: String, network: Network, cache: String) throws -> TrainingData {
        let dataset = try Dataset.load(named: name, cache: cache)
        let (trainSet, testSet) = dataset.fixedSplit()
        let field = name == "digits" ? 20 : nil
        let maximum: Float = name == "digits" ? 16 : 255
        var train = trainSet, test = testSet
        train.images = trainSet.lenetInput(field: field, maximum: maximum)
        test.images = testSet.lenetInput(field: field, maximum: maximum)
        guard train.images.sampleShape == network.input else {
            throw ZooError("`\(network.name)` takes \(network.input); the data set `\(name)` gives \(train.images.sampleShape) (digits as LeNet-5 reads them)",
                           hint: "train a network with a 1×32×32 input (lenet5, lenet5-common) on it, or give a folder of images")
        }
        return TrainingData(train: train, test: test, preprocessing: "lenet")
    }

    static func folder(_ path: String, network: Network, preprocessing p: Preprocessing) throws -> Dataset {
        let list = try InputList.collect([path])
        guard let labels = list.labels, list.classes.count >= 2 else {
            throw ZooError("\(path): training needs the images in class sub-folders (\(path)/CLASS/IMAGE.png), at least two of them")
        }
        guard p.channels == network.input.channels, p.height == network.input.height, p.width == network.input.width else {
            throw ZooError("the preprocessing `\(p.preset)` gives \(p.channels)×\(p.height)×\(p.width), `\(network.name)` takes \(network.input)")
        }
        let size = network.input.count
        var data = [Float](repeating: 0, count: list.paths.count * size)
        for (i, file) in list.paths.enumerated() {
            let image: Image
            do { image = try Image(contentsOf: file) } catch {
                throw ZooError("\(file): \(error)", hint: "remove or replace the file; training reads every image of the folder")
            }
            let values = p.apply(image)
            data.replaceSubrange((i * size)..<((i + 1) * size), with: values)
        }
        return Dataset(name: URL(fileURLWithPath: path).lastPathComponent, images: Tensor(shape: [list.paths.count] + network.input.dims, data: data),
                       labels: labels, classes: list.classes)
    }

    static func npyPair(_ path: String, labels labelPath: String, network: Network) throws -> Dataset {
        var inputs = try NPY.read(path)
        let y = try NPY.read(labelPath)
        let n = inputs.shape.first ?? 0
        let expected = [n] + network.input.dims
        if inputs.shape != expected, network.input.rank == 3, network.input.channels == 1,
           inputs.shape == [n, network.input.height, network.input.width] {
            inputs = Tensor(shape: expected, data: inputs.data)
        }
        guard inputs.shape == expected else {
            throw ZooError("\(path) has shape \(inputs.shape); `\(network.name)` needs inputs of shape [N, \(network.input.dims.map(String.init).joined(separator: ", "))], prepared as the network reads them")
        }
        guard y.count == n else { throw ZooError("\(labelPath) has \(y.count) labels for the \(n) inputs of \(path)") }
        var labels: [Int] = []
        for (i, v) in y.data.enumerated() {
            guard v >= 0, v == v.rounded(), v < 1_000_000 else { throw ZooError("\(labelPath): label \(i) is \(v), not a class index 0, 1, 2, …") }
            labels.append(Int(v))
        }
        let classCount = (labels.max() ?? 0) + 1
        guard classCount >= 2 else { throw ZooError("\(labelPath): every label is 0; training needs at least two classes") }
        return Dataset(name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent, images: inputs,
                       labels: labels, classes: (0..<classCount).map(String.init))
    }
}
