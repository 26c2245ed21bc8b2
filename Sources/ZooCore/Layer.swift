/// What a layer is, without any weights: the descriptions the zoo is built from.
///
/// Every figure Zoo reports (output shape, parameters, MACs, connections, receptive field) is
/// inferred from these values; the engine executes the same values. Sizes are (height, width).

/// A pair of sizes along (height, width).
public struct Size2: Hashable, Sendable, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(square n: Int) { self.h = n; self.w = n }
    public var description: String { h == w ? "\(h)" : "\(h)×\(w)" }
}

/// Zero padding. `.explicit` pads top/bottom/left/right; `.same` pads as TensorFlow's "SAME"
/// (output = ceil(input / stride), the extra row/column at the bottom/right).
public enum Padding: Hashable, Sendable {
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
    case same

    public static func symmetric(_ p: Int) -> Padding { .explicit(top: p, bottom: p, left: p, right: p) }
    public static func symmetric(h: Int, w: Int) -> Padding { .explicit(top: h, bottom: h, left: w, right: w) }
    public static let zero = Padding.symmetric(0)
}

/// How an output size is rounded when the window does not fit the input exactly.
/// `.exact` (the default) makes a non-integer size an error, as CS231n recommends.
public enum Rounding: String, Hashable, Sendable {
    case exact, floor, ceil
}

public struct Convolution: Hashable, Sendable {
    public var filters: Int
    public var kernel: Size2
    public var stride: Size2
    public var padding: Padding
    public var dilation: Size2
    public var groups: Int
    public var bias: Bool
    /// LeNet-5's partial connections: for each output map, the input maps it reads (paper Table I).
    public var connections: [[Int]]?
    public var rounding: Rounding

    public init(filters: Int, kernel: Size2, stride: Size2 = Size2(square: 1), padding: Padding = .zero,
                dilation: Size2 = Size2(square: 1), groups: Int = 1, bias: Bool = true,
                connections: [[Int]]? = nil, rounding: Rounding = .exact) {
        self.filters = filters; self.kernel = kernel; self.stride = stride; self.padding = padding
        self.dilation = dilation; self.groups = groups; self.bias = bias
        self.connections = connections; self.rounding = rounding
    }

    /// The extent of the kernel once dilated: d·(k − 1) + 1.
    public var effectiveKernel: Size2 {
        Size2(dilation.h * (kernel.h - 1) + 1, dilation.w * (kernel.w - 1) + 1)
    }
}

public enum PoolMode: String, Hashable, Sendable { case max, average }

public struct Pooling: Hashable, Sendable {
    public var mode: PoolMode
    public var kernel: Size2
    public var stride: Size2
    public var padding: Padding
    public var rounding: Rounding
    /// Average pooling only: whether padded zeros count in the divisor (PyTorch's
    /// `count_include_pad`, default true there; Caffe also includes them).
    public var countIncludePad: Bool

    public init(mode: PoolMode, kernel: Size2, stride: Size2? = nil, padding: Padding = .zero,
                rounding: Rounding = .exact, countIncludePad: Bool = true) {
        self.mode = mode; self.kernel = kernel; self.stride = stride ?? kernel
        self.padding = padding; self.rounding = rounding; self.countIncludePad = countIncludePad
    }
}

/// LeNet-5's trainable subsampling (S2, S4): per map, the sum of the window times one trainable
/// coefficient plus one trainable bias.
public struct Subsampling: Hashable, Sendable {
    public var kernel: Size2
    public var stride: Size2
    public init(kernel: Size2, stride: Size2? = nil) { self.kernel = kernel; self.stride = stride ?? kernel }
}

/// Which α a local response normalisation means.
/// `.paper`: b = a / (k + α Σ a²)^β (Krizhevsky et al. 2012, §3.3).
/// `.averaged`: b = a / (k + (α/n) Σ a²)^β (Caffe, PyTorch `nn.LocalResponseNorm`).
public enum LRNConvention: String, Hashable, Sendable { case paper, averaged }

public struct LocalResponseNorm: Hashable, Sendable {
    public var size: Int
    public var alpha: Double
    public var beta: Double
    public var k: Double
    public var convention: LRNConvention
    public init(size: Int, alpha: Double, beta: Double, k: Double, convention: LRNConvention) {
        self.size = size; self.alpha = alpha; self.beta = beta; self.k = k; self.convention = convention
    }
    /// α as the paper's convention uses it (the coefficient of the plain sum of squares).
    public var alphaPerSum: Double { convention == .paper ? alpha : alpha / Double(size) }
}

public struct BatchNorm: Hashable, Sendable {
    public var epsilon: Double
    public init(epsilon: Double = 1e-5) { self.epsilon = epsilon }
}

public struct Dense: Hashable, Sendable {
    public var units: Int
    public var bias: Bool
    public init(units: Int, bias: Bool = true) { self.units = units; self.bias = bias }
}

/// LeNet-5's output: y_i = Σ_j (x_j − w_ij)², one unit per class with fixed prototype vectors.
public struct RBFOutput: Hashable, Sendable {
    public var units: Int
    /// Whether the prototypes are learned (the paper keeps them fixed: they count as non-trainable).
    public var trainable: Bool
    public init(units: Int, trainable: Bool = false) { self.units = units; self.trainable = trainable }
}

/// ResNet's option A shortcut: subsample by `stride` (every stride-th pixel) and pad the channels
/// with zeros up to `filters`. No parameters.
public struct PadShortcut: Hashable, Sendable {
    public var filters: Int
    public var stride: Int
    public init(filters: Int, stride: Int) { self.filters = filters; self.stride = stride }
}

public enum LayerKind: Hashable, Sendable {
    case convolution(Convolution)
    case pooling(Pooling)
    case globalAveragePooling
    case subsampling(Subsampling)
    case localResponseNorm(LocalResponseNorm)
    case batchNorm(BatchNorm)
    case relu
    case tanh
    /// A·tanh(S·a) (LeNet-5: A = 1.7159, S = 2/3).
    case scaledTanh(a: Double, s: Double)
    case sigmoid
    case softmax
    case dropout(rate: Double)
    case flatten
    case dense(Dense)
    /// Channel concatenation of all inputs (maps of equal height and width).
    case concat
    /// Element-wise sum of all inputs (equal shapes): the residual join.
    case add
    /// Passes its input on unchanged (an identity shortcut, named so that a graph can refer to it).
    case identity
    case padShortcut(PadShortcut)
    case rbf(RBFOutput)

    /// The short type name used in definitions and summaries.
    public var typeName: String {
        switch self {
        case .convolution: return "conv"
        case .pooling(let p): return p.mode == .max ? "maxpool" : "avgpool"
        case .globalAveragePooling: return "gap"
        case .subsampling: return "subsample"
        case .localResponseNorm: return "lrn"
        case .batchNorm: return "batchnorm"
        case .relu: return "relu"
        case .tanh: return "tanh"
        case .scaledTanh: return "scaled_tanh"
        case .sigmoid: return "sigmoid"
        case .softmax: return "softmax"
        case .dropout: return "dropout"
        case .flatten: return "flatten"
        case .dense: return "dense"
        case .concat: return "concat"
        case .add: return "add"
        case .identity: return "identity"
        case .padShortcut: return "pad_shortcut"
        case .rbf: return "rbf"
        }
    }

    /// Whether the layer carries parameters (trainable or not) that a weight file must provide.
    public var hasParameters: Bool {
        switch self {
        case .convolution, .subsampling, .batchNorm, .dense, .rbf: return true
        default: return false
        }
    }
}

/// A named layer in a network graph.
public struct Layer: Hashable, Sendable {
    /// The layer's full name; dots separate block scopes (`inception_3a.b2_3x3`).
    public var name: String
    public var kind: LayerKind
    /// Names of the layers feeding this one; empty means the network input.
    public var inputs: [String]
    /// Other names this layer is known by in other frameworks (e.g. `keras: block1_conv1`).
    public var aliases: [String: String]
    /// Where the layer was defined (file:line), for error messages.
    public var source: SourceLocation?

    public init(name: String, kind: LayerKind, inputs: [String], aliases: [String: String] = [:],
                source: SourceLocation? = nil) {
        self.name = name; self.kind = kind; self.inputs = inputs; self.aliases = aliases; self.source = source
    }

    /// The block scopes this layer sits in: `inception_3a.b2_3x3` → [`inception_3a`].
    public var scopes: [String] {
        let parts = name.split(separator: ".")
        return (1..<max(parts.count, 1)).map { parts[0..<$0].joined(separator: ".") }
    }
}

/// A place in a definition file.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public init(file: String, line: Int) { self.file = file; self.line = line }
    public var description: String { "\(file):\(line)" }
}
