/// Builds a `Network` in Swift, layer by layer; each layer reads the previous one unless told
/// otherwise. The definition parser produces the same `Layer` values.
///
/// ```swift
/// var b = NetworkBuilder("tiny", input: [1, 28, 28])
/// b.conv("conv1", filters: 8, kernel: 3, padding: 1)
/// b.relu("relu1")
/// b.maxPool("pool1", kernel: 2)
/// b.flatten("flatten")
/// b.dense("fc", units: 10)
/// let network = try b.build()
/// ```
public struct NetworkBuilder: Sendable {
    public let name: String
    public let input: Shape
    public private(set) var layers: [Layer] = []
    public var info = NetworkInfo()

    public init(_ name: String, input: [Int]) {
        self.name = name
        self.input = Shape(input)
    }

    /// The name of the last layer added (nil before the first).
    public var last: String? { layers.last?.name }

    /// Adds a layer reading `inputs` (default: the last layer added, or the network input).
    /// Returns its name, to use as another layer's input.
    @discardableResult
    public mutating func add(_ name: String, _ kind: LayerKind, inputs: [String]? = nil) -> String {
        layers.append(Layer(name: name, kind: kind, inputs: inputs ?? last.map { [$0] } ?? []))
        return name
    }

    @discardableResult
    public mutating func conv(_ name: String, filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                              groups: Int = 1, bias: Bool = true, rounding: Rounding = .exact, inputs: [String]? = nil) -> String {
        add(name, .convolution(Convolution(filters: filters, kernel: Size2(square: kernel), stride: Size2(square: stride),
                                           padding: .symmetric(padding), groups: groups, bias: bias, rounding: rounding)), inputs: inputs)
    }

    @discardableResult
    public mutating func maxPool(_ name: String, kernel: Int, stride: Int? = nil, padding: Int = 0,
                                 rounding: Rounding = .exact, inputs: [String]? = nil) -> String {
        add(name, .pooling(Pooling(mode: .max, kernel: Size2(square: kernel), stride: stride.map { Size2(square: $0) },
                                   padding: .symmetric(padding), rounding: rounding)), inputs: inputs)
    }

    @discardableResult
    public mutating func avgPool(_ name: String, kernel: Int, stride: Int? = nil, padding: Int = 0,
                                 rounding: Rounding = .exact, inputs: [String]? = nil) -> String {
        add(name, .pooling(Pooling(mode: .average, kernel: Size2(square: kernel), stride: stride.map { Size2(square: $0) },
                                   padding: .symmetric(padding), rounding: rounding)), inputs: inputs)
    }

    @discardableResult
    public mutating func relu(_ name: String, inputs: [String]? = nil) -> String { add(name, .relu, inputs: inputs) }

    @discardableResult
    public mutating func batchNorm(_ name: String, epsilon: Double = 1e-5, inputs: [String]? = nil) -> String {
        add(name, .batchNorm(BatchNorm(epsilon: epsilon)), inputs: inputs)
    }

    @discardableResult
    public mutating func flatten(_ name: String, inputs: [String]? = nil) -> String { add(name, .flatten, inputs: inputs) }

    @discardableResult
    public mutating func dense(_ name: String, units: Int, bias: Bool = true, inputs: [String]? = nil) -> String {
        add(name, .dense(Dense(units: units, bias: bias)), inputs: inputs)
    }

    @discardableResult
    public mutating func softmax(_ name: String, inputs: [String]? = nil) -> String { add(name, .softmax, inputs: inputs) }

    @discardableResult
    public mutating func concat(_ name: String, _ inputs: [String]) -> String { add(name, .concat, inputs: inputs) }

    @discardableResult
    public mutating func residualAdd(_ name: String, _ inputs: [String]) -> String { add(name, .add, inputs: inputs) }

    /// Validates the graph (names, references, cycles); shapes are checked by `infer()`/`Summary`.
    public func build() throws -> Network {
        try Network(name: name, input: input, layers: layers, info: info)
    }
}
