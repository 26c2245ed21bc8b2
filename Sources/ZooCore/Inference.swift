/// Shape, parameter, MAC, connection and receptive-field inference: everything Zoo reports
/// about a network is computed here, from the layer descriptions alone.

/// One parameter tensor a layer needs, in the engine's layout.
public struct ParameterSpec: Hashable, Sendable {
    /// `kernel`, `bias`, `gamma`, `beta`, `moving_mean`, `moving_variance`, `coefficient`, `prototypes`.
    public var name: String
    /// Convolution kernels are OIHW (`[filters, channels/groups, kh, kw]`; with a connection table
    /// `[links, kh, kw]`, one kernel per table entry in table order); dense kernels are (out, in).
    public var shape: [Int]
    public var trainable: Bool
    public var count: Int { shape.reduce(1, *) }
}

/// The receptive field along one axis: `size` input pixels, neighbouring units `jump` pixels
/// apart, the first unit centred on input coordinate `start` (pixel i spans [i, i+1)).
public struct ReceptiveField: Hashable, Sendable {
    public var size: Int
    public var jump: Int
    public var start: Double
    public static let pixel = ReceptiveField(size: 1, jump: 1, start: 0.5)
}

/// Padding as applied to one input: (top, bottom, left, right).
public struct ResolvedPadding: Hashable, Sendable {
    public var top = 0, bottom = 0, left = 0, right = 0
    public var isZero: Bool { top == 0 && bottom == 0 && left == 0 && right == 0 }
}

/// Everything inferred about one layer for a given input.
public struct LayerInfo: Sendable {
    public var layer: Layer
    public var inputs: [Shape]
    public var output: Shape
    public var parameters: [ParameterSpec]
    /// Multiply-accumulates per sample (convolution, dense, subsampling and RBF layers; the papers'
    /// "FLOPs"/"multiply-adds"/"ops").
    public var macs: Int
    /// LeNet-5's "connections" per sample: every weighted input of every unit, biases included.
    public var connections: Int
    /// Receptive field along height and width.
    public var receptiveField: (h: ReceptiveField, w: ReceptiveField)
    /// Padding resolved for this input (convolution and pooling).
    public var padding: ResolvedPadding
    /// Layers with weights (convolution, dense, subsampling, RBF) on the longest path from the input, this one included.
    public var weightedDepth: Int
    /// Remarks such as "floor: the last 1 row/column of the input is unused".
    public var notes: [String]

    public var trainableParameters: Int { parameters.filter(\.trainable).reduce(0) { $0 + $1.count } }
    public var nonTrainableParameters: Int { parameters.filter { !$0.trainable }.reduce(0) { $0 + $1.count } }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    /// Bytes of this layer's output for one sample (Float32).
    public var activationBytes: Int { output.count * 4 }
    public var name: String { layer.name }

    /// Kernel and stride in the summary's column: `11×11/4`, `3×3/2 ceil`.
    public var kernelDescription: String {
        switch layer.kind {
        case .convolution(let c):
            var s = "\(c.kernel.h)×\(c.kernel.w)/\(c.stride)"
            if c.dilation != Size2(square: 1) { s += " d\(c.dilation)" }
            if c.groups > 1 { s += " g\(c.groups)" }
            return s
        case .pooling(let p):
            return "\(p.kernel.h)×\(p.kernel.w)/\(p.stride)" + (p.rounding == .ceil ? " ceil" : "")
        case .subsampling(let s): return "\(s.kernel.h)×\(s.kernel.w)/\(s.stride)"
        case .localResponseNorm(let n): return "n=\(n.size)"
        default: return ""
        }
    }
}

extension Network {
    /// Infers every layer's output shape, parameters, MACs, connections and receptive field.
    /// Throws a `ZooError` naming the first layer that does not fit, with the arithmetic.
    public func infer() throws -> [LayerInfo] {
        var infos: [LayerInfo] = []
        infos.reserveCapacity(layers.count)
        var byName: [String: Int] = [:]
        let inputRF = (h: ReceptiveField.pixel, w: ReceptiveField.pixel)
        for layer in layers {
            let sources = layer.inputs.map { infos[byName[$0]!] }
            let shapes = sources.isEmpty ? [input] : sources.map(\.output)
            let rfs = sources.isEmpty ? [inputRF] : sources.map(\.receptiveField)
            let depth = sources.map(\.weightedDepth).max() ?? 0
            var info = try Network.inferLayer(layer, inputs: shapes, receptiveFields: rfs, depthBefore: depth)
            info.layer = layer
            byName[layer.name] = infos.count
            infos.append(info)
        }
        return infos
    }

    static func inferLayer(_ layer: Layer, inputs: [Shape], receptiveFields: [(h: ReceptiveField, w: ReceptiveField)],
                           depthBefore: Int) throws -> LayerInfo {
        func fail(_ message: String, hint: String? = nil) -> ZooError {
            ZooError(message, layer: layer.name, at: layer.source, hint: hint)
        }
        func single() throws -> Shape {
            guard inputs.count == 1 else { throw fail("\(layer.kind.typeName) takes one input, got \(inputs.count)") }
            return inputs[0]
        }
        func map() throws -> Shape {
            let s = try single()
            guard s.isMap else {
                throw fail("\(layer.kind.typeName) needs a C×H×W feature map, got the vector \(s)",
                           hint: "a convolution or pooling cannot follow a flatten or dense layer")
            }
            return s
        }
        let widest = receptiveFields.max { $0.h.size * $0.w.size < $1.h.size * $1.w.size } ?? (ReceptiveField.pixel, ReceptiveField.pixel)
        var info = LayerInfo(layer: layer, inputs: inputs, output: inputs.first ?? Shape([0]), parameters: [], macs: 0,
                             connections: 0, receptiveField: widest, padding: ResolvedPadding(),
                             weightedDepth: depthBefore, notes: [])
        func param(_ name: String, _ shape: [Int], trainable: Bool = true) {
            info.parameters.append(ParameterSpec(name: name, shape: shape, trainable: trainable))
        }
        func window(kernel: Size2, stride: Size2, dilation: Size2 = Size2(square: 1), padding: Padding,
                    rounding: Rounding, input s: Shape, what: String, isPool: Bool) throws -> (Int, Int) {
            let pad = resolve(padding, kernel: Size2(dilation.h * (kernel.h - 1) + 1, dilation.w * (kernel.w - 1) + 1),
                              stride: stride, input: s)
            info.padding = pad
            let h = try extent(input: s.height, kernel: dilation.h * (kernel.h - 1) + 1, stride: stride.h,
                               before: pad.top, after: pad.bottom, rounding: rounding, isPool: isPool,
                               what: what, axis: ("rows", "row", "height"), other: s.width)
            let w = try extent(input: s.width, kernel: dilation.w * (kernel.w - 1) + 1, stride: stride.w,
                               before: pad.left, after: pad.right, rounding: rounding, isPool: isPool,
                               what: what, axis: ("columns", "column", "width"), other: s.height)
            info.receptiveField = (
                grow(widest.h, kernel: dilation.h * (kernel.h - 1) + 1, stride: stride.h, padBefore: pad.top),
                grow(widest.w, kernel: dilation.w * (kernel.w - 1) + 1, stride: stride.w, padBefore: pad.left))
            return (h, w)
        }
        func extent(input n: Int, kernel k: Int, stride s: Int, before: Int, after: Int, rounding: Rounding,
                    isPool: Bool, what: String, axis: (plural: String, singular: String, name: String), other: Int) throws -> Int {
            guard s > 0 else { throw fail("stride must be positive, got \(s)") }
            let padded = n + before + after
            let padText = before == after ? (before == 0 ? "2·0" : "2·\(before)") : "\(before) + \(after)"
            guard padded >= k else {
                throw fail("\(what) is larger than its \(n)-pixel \(axis.name) input (padded: \(padded))",
                           hint: "use a smaller kernel, more padding or a larger input")
            }
            let numerator = padded - k
            let remainder = numerator % s
            if remainder == 0 { return numerator / s + 1 }
            let exact = Double(numerator) / Double(s) + 1
            let shown = String(format2: exact)
            switch rounding {
            case .exact:
                throw fail("\(what) does not fit a \(n)×\(other) input: (\(n) − \(k) + \(padText))/\(s) + 1 = \(shown) is not an integer (\(numerator) is not divisible by \(s)); floor rounding would give \(numerator / s + 1) and leave the last \(remainder) \(remainder == 1 ? axis.singular : axis.plural) unused, ceil would give \(numerator / s + 2)",
                           hint: "change padding or stride, crop the input, or declare `rounding: floor` or `rounding: ceil`")
            case .floor:
                info.notes.append("floor: \((n - k + before + after) / s + 1) from \(shown); the last \(remainder) input \(remainder == 1 ? axis.singular : axis.plural) unused")
                return numerator / s + 1
            case .ceil:
                var out = numerator / s + 2
                // As Caffe and PyTorch: the last window must start inside the input or its leading padding.
                if (out - 1) * s >= n + before { out -= 1 }
                if out == numerator / s + 2 {
                    info.notes.append("ceil: \(out) from \(shown); the last window reads \(s - remainder) padded \(s - remainder == 1 ? axis.singular : axis.plural)")
                } else {
                    info.notes.append("ceil: \(out) from \(shown) (the window that would start in the padding is dropped)")
                }
                return out
            }
        }

        switch layer.kind {
        case .convolution(let c):
            let s = try map()
            guard c.filters > 0, c.kernel.h > 0, c.kernel.w > 0, c.groups > 0, c.dilation.h > 0, c.dilation.w > 0 else {
                throw fail("filters, kernel, groups and dilation must be positive (filters \(c.filters), kernel \(c.kernel), groups \(c.groups), dilation \(c.dilation))")
            }
            let kernelText = "a \(c.kernel.h)×\(c.kernel.w) filter with stride \(c.stride)" + (c.dilation == Size2(square: 1) ? "" : " and dilation \(c.dilation)")
            let (h, w) = try window(kernel: c.kernel, stride: c.stride, dilation: c.dilation, padding: c.padding,
                                    rounding: c.rounding, input: s, what: kernelText, isPool: false)
            let area = c.kernel.h * c.kernel.w
            var weights: Int
            if let table = c.connections {
                guard c.groups == 1 else { throw fail("a connection table and groups cannot be combined") }
                guard table.count == c.filters else {
                    throw fail("the connection table has \(table.count) rows but the layer has \(c.filters) filters")
                }
                for (j, row) in table.enumerated() {
                    guard !row.isEmpty, Set(row).count == row.count, row.allSatisfy({ (0..<s.channels).contains($0) }) else {
                        throw fail("connection table row \(j) (\(row)) must list distinct input maps in 0..<\(s.channels)")
                    }
                }
                let links = table.reduce(0) { $0 + $1.count }
                weights = links * area
                param("kernel", [links, c.kernel.h, c.kernel.w])
            } else {
                guard s.channels % c.groups == 0, c.filters % c.groups == 0 else {
                    throw fail("groups = \(c.groups) must divide both the \(s.channels) input channels and the \(c.filters) filters")
                }
                weights = c.filters * (s.channels / c.groups) * area
                param("kernel", [c.filters, s.channels / c.groups, c.kernel.h, c.kernel.w])
            }
            if c.bias { param("bias", [c.filters]) }
            info.output = Shape(channels: c.filters, height: h, width: w)
            info.macs = weights * h * w
            info.connections = (weights + (c.bias ? c.filters : 0)) * h * w
            info.weightedDepth += 1

        case .pooling(let p):
            let s = try map()
            guard p.kernel.h > 0, p.kernel.w > 0 else { throw fail("the pooling window must be positive, got \(p.kernel)") }
            let what = "a \(p.kernel.h)×\(p.kernel.w) \(p.mode == .max ? "max" : "average") pool with stride \(p.stride)"
            let (h, w) = try window(kernel: p.kernel, stride: p.stride, padding: p.padding, rounding: p.rounding,
                                    input: s, what: what, isPool: true)
            info.output = Shape(channels: s.channels, height: h, width: w)

        case .subsampling(let sub):
            let s = try map()
            let what = "a \(sub.kernel.h)×\(sub.kernel.w) subsampling with stride \(sub.stride)"
            let (h, w) = try window(kernel: sub.kernel, stride: sub.stride, padding: .zero, rounding: .exact,
                                    input: s, what: what, isPool: true)
            param("coefficient", [s.channels])
            param("bias", [s.channels])
            info.output = Shape(channels: s.channels, height: h, width: w)
            info.macs = s.channels * h * w
            info.connections = (sub.kernel.h * sub.kernel.w + 1) * s.channels * h * w
            info.weightedDepth += 1

        case .globalAveragePooling:
            let s = try map()
            info.output = Shape(channels: s.channels, height: 1, width: 1)
            info.receptiveField = (cover(widest.h, s.height), cover(widest.w, s.width))

        case .localResponseNorm(let n):
            _ = try map()
            guard n.size > 0 else { throw fail("the LRN size must be positive, got \(n.size)") }

        case .batchNorm:
            let s = try single()
            param("gamma", [s.channels])
            param("beta", [s.channels])
            param("moving_mean", [s.channels], trainable: false)
            param("moving_variance", [s.channels], trainable: false)

        case .relu, .tanh, .scaledTanh, .sigmoid, .softmax, .identity:
            _ = try single()

        case .dropout(let rate):
            _ = try single()
            guard (0..<1).contains(rate) else { throw fail("dropout rate must be in [0, 1), got \(rate)") }

        case .flatten:
            let s = try single()
            info.output = Shape([s.count])
            // The vector as a whole sees every position of the map.
            if s.isMap { info.receptiveField = (cover(widest.h, s.height), cover(widest.w, s.width)) }

        case .dense(let d):
            let s = try single()
            guard s.rank == 1 else {
                throw fail("dense needs a vector, got the feature map \(s)", hint: "add a `flatten` layer before it")
            }
            guard d.units > 0 else { throw fail("units must be positive, got \(d.units)") }
            param("kernel", [d.units, s.count])
            if d.bias { param("bias", [d.units]) }
            info.output = Shape([d.units])
            info.macs = d.units * s.count
            info.connections = (s.count + (d.bias ? 1 : 0)) * d.units
            info.weightedDepth += 1

        case .rbf(let r):
            let s = try single()
            guard s.rank == 1 else { throw fail("the RBF output needs a vector, got \(s)") }
            param("prototypes", [r.units, s.count], trainable: r.trainable)
            info.output = Shape([r.units])
            info.macs = r.units * s.count
            info.connections = r.units * s.count
            info.weightedDepth += 1

        case .concat:
            guard inputs.count >= 2 else { throw fail("concat joins two or more inputs, got \(inputs.count)") }
            guard inputs.allSatisfy(\.isMap), Set(inputs.map { [$0.height, $0.width] }).count == 1 else {
                let list = zip(layer.inputs, inputs).map { "`\($0)` \($1)" }.joined(separator: ", ")
                throw fail("concat needs feature maps of one height and width, got \(list)")
            }
            info.output = Shape(channels: inputs.reduce(0) { $0 + $1.channels }, height: inputs[0].height, width: inputs[0].width)

        case .add:
            guard inputs.count >= 2 else { throw fail("add joins two or more inputs, got \(inputs.count)") }
            guard Set(inputs).count == 1 else {
                let list = zip(layer.inputs, inputs).map { "`\($0)` \($1)" }.joined(separator: ", ")
                throw fail("add needs inputs of one shape, got \(list)",
                           hint: "use a projection (1×1 convolution) or a pad_shortcut on the shortcut path")
            }

        case .padShortcut(let p):
            let s = try map()
            guard p.stride > 0, p.filters >= s.channels else {
                throw fail("pad_shortcut needs stride > 0 and filters ≥ the \(s.channels) input channels (got stride \(p.stride), filters \(p.filters))")
            }
            let h = (s.height + p.stride - 1) / p.stride, w = (s.width + p.stride - 1) / p.stride
            info.output = Shape(channels: p.filters, height: h, width: w)
            info.receptiveField = (grow(widest.h, kernel: 1, stride: p.stride, padBefore: 0),
                                   grow(widest.w, kernel: 1, stride: p.stride, padBefore: 0))
        }
        return info
    }

    /// Pads for `.same` (TensorFlow's rule: the odd extra pixel at the end) or the explicit ones.
    static func resolve(_ padding: Padding, kernel: Size2, stride: Size2, input: Shape) -> ResolvedPadding {
        switch padding {
        case .explicit(let t, let b, let l, let r):
            return ResolvedPadding(top: t, bottom: b, left: l, right: r)
        case .same:
            func pads(_ n: Int, _ k: Int, _ s: Int) -> (Int, Int) {
                let out = (n + s - 1) / s
                let total = max((out - 1) * s + k - n, 0)
                return (total / 2, total - total / 2)
            }
            let (t, b) = pads(input.height, kernel.h, stride.h)
            let (l, r) = pads(input.width, kernel.w, stride.w)
            return ResolvedPadding(top: t, bottom: b, left: l, right: r)
        }
    }

    static func grow(_ rf: ReceptiveField, kernel: Int, stride: Int, padBefore: Int) -> ReceptiveField {
        ReceptiveField(size: rf.size + (kernel - 1) * rf.jump, jump: rf.jump * stride,
                       start: rf.start + (Double(kernel - 1) / 2 - Double(padBefore)) * Double(rf.jump))
    }

    /// The field of a unit that sees all `n` positions of a map (global pooling, dense).
    static func cover(_ rf: ReceptiveField, _ n: Int) -> ReceptiveField {
        ReceptiveField(size: rf.size + (n - 1) * rf.jump, jump: rf.jump * n,
                       start: rf.start + Double(n - 1) / 2 * Double(rf.jump))
    }
}

extension String {
    /// Two decimals, trailing zeros dropped: 2.33, 54.25, 55.5.
    init(format2 value: Double) {
        var s = String(Double((value * 100).rounded()) / 100)
        if s.hasSuffix(".0") { s.removeLast(2) }
        self = s
    }
}
