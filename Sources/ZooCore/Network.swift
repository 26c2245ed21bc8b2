/// A network: a graph of named layers (branches and joins allowed), with no weights.
/// It is a value: summarising or verifying it allocates nothing but bookkeeping.
public struct Network: Sendable {
    public var name: String
    public var input: Shape
    /// Layers in a topological order (every layer after all of its inputs).
    public private(set) var layers: [Layer]
    public var info: NetworkInfo
    private var index: [String: Int]

    /// Builds and validates the graph: unique names, every input exists, no cycles.
    /// Layers may be given in any order; a valid graph keeps the given order where it can.
    public init(name: String, input: Shape, layers: [Layer], info: NetworkInfo = NetworkInfo()) throws {
        guard !layers.isEmpty else { throw ZooError("network `\(name)` has no layers", at: info.source) }
        guard input.dims.allSatisfy({ $0 > 0 }), input.rank == 3 || input.rank == 1 else {
            throw ZooError("network `\(name)`: input \(input.dims) must be [C, H, W] or [N] with positive sizes", at: info.source)
        }
        var seen: [String: Layer] = [:]
        for layer in layers {
            if let first = seen[layer.name] {
                throw ZooError("the name is used twice (first at \(first.source?.description ?? "?"))", layer: layer.name, at: layer.source)
            }
            if layer.name.isEmpty { throw ZooError("a layer has an empty name", at: layer.source) }
            seen[layer.name] = layer
        }
        for layer in layers {
            for input in layer.inputs where seen[input] == nil {
                let near = Network.nearest(input, among: Array(seen.keys))
                throw ZooError("input `\(input)` is not a layer of `\(name)`", layer: layer.name, at: layer.source,
                               hint: near.map { "did you mean `\($0)`?" })
            }
        }
        // Kahn's algorithm, taking the earliest ready layer in the given order each time.
        var pending = layers.map { Set($0.inputs) }
        var position: [String: Int] = [:]
        for (i, l) in layers.enumerated() { position[l.name] = i }
        var consumers: [Int: [Int]] = [:]
        for (i, l) in layers.enumerated() { for input in Set(l.inputs) { consumers[position[input]!, default: []].append(i) } }
        var ready = Set(layers.indices.filter { pending[$0].isEmpty })
        var order: [Int] = []
        while let next = ready.min() {
            ready.remove(next)
            order.append(next)
            for c in consumers[next] ?? [] {
                pending[c].remove(layers[next].name)
                if pending[c].isEmpty { ready.insert(c) }
            }
        }
        if order.count < layers.count {
            let stuck = layers.indices.filter { !order.contains($0) }.map { layers[$0] }
            let names = stuck.map { "`\($0.name)`" }.joined(separator: ", ")
            throw ZooError("the graph has a cycle through \(names)", layer: stuck[0].name, at: stuck[0].source,
                           hint: "a layer may only read layers that do not depend on it")
        }
        self.name = name
        self.input = input
        self.layers = order.map { layers[$0] }
        self.info = info
        self.index = Dictionary(uniqueKeysWithValues: self.layers.enumerated().map { ($1.name, $0) })
    }

    public func layer(named name: String) -> Layer? { index[name].map { layers[$0] } }
    public func position(of name: String) -> Int? { index[name] }

    /// The layer whose output is the network's output: the last one in topological order.
    public var output: Layer { layers[layers.count - 1] }

    /// The same graph with another input shape (e.g. `zoo summary vgg16 --input 3,320,320`).
    public func with(input: Shape) -> Network {
        var copy = self
        copy.input = input
        return copy
    }

    /// The number of classes the network outputs: its output's size when that is a vector.
    public var classCount: Int? {
        guard let last = try? infer().last, last.output.rank == 1 else { return nil }
        return last.output.count
    }

    /// The classifier: the last layer with weights (a dense layer, or a convolution in networks
    /// that classify with one), whose units are the classes.
    public var head: Layer? {
        layers.last { $0.kind.hasParameters }
    }

    /// The same network with `classes` outputs: the head's units (or filters) replaced, its
    /// weights to be learned afresh. Used to fine-tune a network on a data set with another class
    /// count. LeNet-5's RBF output has a fixed prototype per digit and cannot be replaced.
    public func withHead(classes: Int) throws -> Network {
        guard classes >= 2 else { throw ZooError("a classifier needs at least 2 classes, got \(classes)") }
        guard let head else { throw ZooError("`\(name)` has no layer with weights to serve as its classifier") }
        var replaced = head
        switch head.kind {
        case .dense(var d): d.units = classes; replaced.kind = .dense(d)
        case .convolution(var c) where c.connections == nil && c.groups == 1: c.filters = classes; replaced.kind = .convolution(c)
        case .rbf:
            throw ZooError("`\(name)` ends in LeNet-5's RBF layer, with one fixed prototype per digit: its class count cannot change",
                           layer: head.name, hint: "use lenet5-common, whose head is a dense layer")
        default:
            throw ZooError("the last layer with weights, `\(head.name)` (\(head.kind.typeName)), cannot serve as a classifier of \(classes) classes",
                           layer: head.name)
        }
        let copy = try Network(name: name, input: input, layers: layers.map { $0.name == head.name ? replaced : $0 }, info: info)
        let inferred = try copy.infer()
        guard inferred.last?.output.count == classes else {
            throw ZooError("replacing `\(head.name)` does not give `\(name)` \(classes) outputs (it gives \(inferred.last?.output.description ?? "?"))",
                           layer: head.name)
        }
        return copy
    }

    /// Resolves a name, an alias (`block1_conv1` for `conv1_1`) or a block (`inception_4a`,
    /// `conv5_2`: its last layer, the block's output) to a layer name.
    public func resolve(_ name: String) -> String? {
        if index[name] != nil { return name }
        if let layer = layers.first(where: { $0.aliases.values.contains(name) }) { return layer.name }
        return layers.last { $0.name.hasPrefix(name + ".") }?.name
    }

    /// The closest of `names` to `name` (edit distance), for "did you mean" hints.
    public static func nearest(_ name: String, among names: [String]) -> String? {
        func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let old = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = old
                }
            }
            return row[b.count]
        }
        let best = names.map { ($0, distance(name, $0)) }.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        guard let best, best.1 <= max(2, name.count / 3) else { return nil }
        return best.0
    }
}

/// What a definition says about a network besides its layers.
public struct NetworkInfo: Sendable {
    public var family: String = ""
    public var title: String = ""
    public var citation: String = ""
    public var deviations: [String] = []
    public var notes: [String] = []
    public var aliases: [String] = []
    public var description: String = ""
    /// Preprocessing the network's reference weights expect (e.g. `caffe`, `torch`, `lenet`).
    public var preprocessing: String?
    /// Figures to check this network against, with their sources.
    public var checks: [Check] = []
    /// Block instances (full scope name → template name), e.g. `inception_3a` → `inception`.
    public var blocks: [String: String] = [:]
    public var source: SourceLocation?
    public init() {}
}
