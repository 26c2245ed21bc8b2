/// Reads typed fields out of definition values, with errors that name the file and line.
struct FieldReader: Sendable {
    let file: String

    func at(_ value: DefinitionValue) -> SourceLocation { SourceLocation(file: file, line: value.line) }

    func allow(_ value: DefinitionValue, _ keys: [String], what: String) throws {
        for key in value.keys where !keys.contains(key) {
            let near = Network.nearest(key, among: keys)
            throw ZooError("unknown field `\(key)` in \(what)", at: at(value),
                           hint: near.map { "did you mean `\($0)`?" } ?? "known fields: \(keys.joined(separator: ", "))")
        }
    }

    func substitute(_ value: DefinitionValue, _ bindings: Bindings) throws -> DefinitionValue {
        do { return try ExpressionEvaluator(bindings: bindings).substitute(value) } catch ExpressionError.message(let m) {
            throw ZooError(m, at: at(value))
        }
    }

    func int(_ value: DefinitionValue, what: String, layer: String? = nil, minimum: Int = 1) throws -> Int {
        guard let t = value.text, let i = Int(t.replacingOccurrences(of: "_", with: "")) else {
            throw ZooError("`\(what)` must be a whole number, got `\(value.rendered)`", layer: layer, at: at(value))
        }
        guard i >= minimum else {
            throw ZooError("`\(what)` must be \(minimum == 1 ? "positive" : "at least \(minimum)"), got \(i)", layer: layer, at: at(value))
        }
        return i
    }

    func double(_ value: DefinitionValue, what: String, layer: String? = nil) throws -> Double {
        if let t = value.text {
            if let d = Double(t) { return d }
            let parts = t.split(separator: "/")
            if parts.count == 2, let a = Double(parts[0].trimmingCharacters(in: .whitespaces)),
               let b = Double(parts[1].trimmingCharacters(in: .whitespaces)), b != 0 { return a / b }
        }
        throw ZooError("`\(what)` must be a number (e.g. 0.75, 1e-4, 2/3), got `\(value.rendered)`", layer: layer, at: at(value))
    }

    func bool(_ value: DefinitionValue, what: String, layer: String? = nil) throws -> Bool {
        switch value.text?.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ZooError("`\(what)` must be true or false, got `\(value.rendered)`", layer: layer, at: at(value))
        }
    }

    func ints(_ value: DefinitionValue, what: String, layer: String? = nil, minimum: Int = 1) throws -> [Int] {
        guard case .list(let items, _) = value else {
            throw ZooError("`\(what)` must be a list of whole numbers, got `\(value.rendered)`", layer: layer, at: at(value))
        }
        return try items.map { try int($0, what: what, layer: layer, minimum: minimum) }
    }

    /// `3` or `[3, 5]` (height, width).
    func size2(_ value: DefinitionValue, what: String, layer: String?, minimum: Int = 1) throws -> Size2 {
        if case .list = value {
            let v = try ints(value, what: what, layer: layer, minimum: minimum)
            guard v.count == 2 else { throw ZooError("`\(what)` must be n or [height, width], got `\(value.rendered)`", layer: layer, at: at(value)) }
            return Size2(v[0], v[1])
        }
        return Size2(square: try int(value, what: what, layer: layer, minimum: minimum))
    }

    /// `1`, `[1, 2]` (height, width), `[0, 1, 0, 1]` (top, bottom, left, right), `same` or `valid`.
    func padding(_ value: DefinitionValue, layer: String?) throws -> Padding {
        if let t = value.text?.lowercased() {
            if t == "same" { return .same }
            if t == "valid" { return .zero }
            return .symmetric(try int(value, what: "padding", layer: layer, minimum: 0))
        }
        let v = try ints(value, what: "padding", layer: layer, minimum: 0)
        switch v.count {
        case 2: return .symmetric(h: v[0], w: v[1])
        case 4: return .explicit(top: v[0], bottom: v[1], left: v[2], right: v[3])
        default: throw ZooError("`padding` must be p, [ph, pw], [top, bottom, left, right] or `same`, got `\(value.rendered)`", layer: layer, at: at(value))
        }
    }

    func rounding(_ value: DefinitionValue?, layer: String?) throws -> Rounding {
        guard let value else { return .exact }
        guard let t = value.text, let r = Rounding(rawValue: t) else {
            throw ZooError("`rounding` must be exact, floor or ceil, got `\(value.rendered)`", layer: layer, at: at(value))
        }
        return r
    }

    /// Binds a template's arguments from a positional list or a mapping, with its defaults.
    func bind(template: DefinitionFile.Template, args: DefinitionValue?, at line: Int, what: String) throws -> Bindings {
        var bindings = template.defaults
        let location = SourceLocation(file: file, line: args?.line ?? line)
        switch args {
        case nil: break
        case .list(let items, _)?:
            guard items.count <= template.args.count else {
                throw ZooError("\(what) gives \(items.count) arguments; `\(template.name)` takes \(template.args.count) (\(template.args.joined(separator: ", ")))", at: location)
            }
            for (name, value) in zip(template.args, items) { bindings[name] = value }
        case .map(let pairs, _)?:
            for (name, value) in pairs {
                guard template.args.contains(name) else {
                    throw ZooError("\(what): `\(name)` is not an argument of `\(template.name)` (\(template.args.joined(separator: ", ")))", at: location)
                }
                bindings[name] = value
            }
        case .scalar?:
            throw ZooError("\(what): `args` must be a list or a mapping", at: location)
        }
        if let missing = template.args.first(where: { bindings[$0] == nil }) {
            throw ZooError("\(what) does not give `\(missing)`, an argument of `\(template.name)` (\(template.args.joined(separator: ", ")))", at: location)
        }
        return bindings
    }

    // MARK: layers

    static let commonKeys = ["name", "type", "input", "inputs", "when", "keras", "torch", "caffe", "note"]
    static let typeKeys: [String: [String]] = [
        "conv": ["filters", "kernel", "stride", "padding", "dilation", "groups", "bias", "connections", "rounding"],
        "maxpool": ["kernel", "stride", "padding", "rounding"],
        "avgpool": ["kernel", "stride", "padding", "rounding", "count_include_pad"],
        "gap": [], "subsample": ["kernel", "stride"],
        "lrn": ["size", "alpha", "beta", "k", "alpha_convention"],
        "batchnorm": ["epsilon"],
        "relu": [], "tanh": [], "sigmoid": [], "softmax": [], "flatten": [], "concat": [], "add": [], "identity": [],
        "scaled_tanh": ["a", "s"], "dropout": ["rate"], "dense": ["units", "bias"],
        "rbf": ["units", "trainable"], "pad_shortcut": ["filters", "stride"],
    ]

    /// Builds a layer kind from a layer's (substituted) fields.
    func kind(_ item: DefinitionValue, type: String, name: String) throws -> LayerKind {
        guard let allowed = FieldReader.typeKeys[type] else {
            let near = Network.nearest(type, among: Array(FieldReader.typeKeys.keys))
            throw ZooError("unknown layer type `\(type)`", layer: name, at: at(item),
                           hint: near.map { "did you mean `\($0)`?" } ?? "known types: \(FieldReader.typeKeys.keys.sorted().joined(separator: ", "))")
        }
        try allow(item, FieldReader.commonKeys + allowed, what: "\(type) layer `\(name)`")
        func need(_ key: String) throws -> DefinitionValue {
            guard let v = item[key] else { throw ZooError("\(type) needs `\(key)`", layer: name, at: at(item)) }
            return v
        }
        switch type {
        case "conv":
            let kernel = try size2(try need("kernel"), what: "kernel", layer: name)
            var connections: [[Int]]?
            if let table = item["connections"], table.text != "all" {
                guard case .list(let rows, _) = table else { throw ZooError("`connections` must be `all` or list, for each filter, the input maps it reads", layer: name, at: at(table)) }
                connections = try rows.map { try ints($0, what: "connections", layer: name, minimum: 0) }
            }
            return .convolution(Convolution(
                filters: try int(try need("filters"), what: "filters", layer: name), kernel: kernel,
                stride: try item["stride"].map { try size2($0, what: "stride", layer: name) } ?? Size2(square: 1),
                padding: try item["padding"].map { try padding($0, layer: name) } ?? .zero,
                dilation: try item["dilation"].map { try size2($0, what: "dilation", layer: name) } ?? Size2(square: 1),
                groups: try item["groups"].map { try int($0, what: "groups", layer: name) } ?? 1,
                bias: try item["bias"].map { try bool($0, what: "bias", layer: name) } ?? true,
                connections: connections, rounding: try rounding(item["rounding"], layer: name)))
        case "maxpool", "avgpool":
            let kernel = try size2(try need("kernel"), what: "kernel", layer: name)
            return .pooling(Pooling(
                mode: type == "maxpool" ? .max : .average, kernel: kernel,
                stride: try item["stride"].map { try size2($0, what: "stride", layer: name) },
                padding: try item["padding"].map { try padding($0, layer: name) } ?? .zero,
                rounding: try rounding(item["rounding"], layer: name),
                countIncludePad: try item["count_include_pad"].map { try bool($0, what: "count_include_pad", layer: name) } ?? true))
        case "subsample":
            let kernel = try size2(try need("kernel"), what: "kernel", layer: name)
            return .subsampling(Subsampling(kernel: kernel, stride: try item["stride"].map { try size2($0, what: "stride", layer: name) }))
        case "gap": return .globalAveragePooling
        case "lrn":
            let conventionValue = try need("alpha_convention")
            guard let convention = LRNConvention(rawValue: conventionValue.text ?? "") else {
                throw ZooError("`alpha_convention` must be `paper` (k + α·Σa²) or `averaged` (k + α/n·Σa², Caffe and PyTorch)", layer: name, at: at(conventionValue))
            }
            return .localResponseNorm(LocalResponseNorm(
                size: try int(try need("size"), what: "size", layer: name),
                alpha: try double(try need("alpha"), what: "alpha", layer: name),
                beta: try double(try need("beta"), what: "beta", layer: name),
                k: try double(try need("k"), what: "k", layer: name), convention: convention))
        case "batchnorm":
            return .batchNorm(BatchNorm(epsilon: try item["epsilon"].map { try double($0, what: "epsilon", layer: name) } ?? 1e-5))
        case "relu": return .relu
        case "tanh": return .tanh
        case "sigmoid": return .sigmoid
        case "softmax": return .softmax
        case "flatten": return .flatten
        case "concat": return .concat
        case "add": return .add
        case "identity": return .identity
        case "scaled_tanh":
            return .scaledTanh(a: try item["a"].map { try double($0, what: "a", layer: name) } ?? 1.7159,
                               s: try item["s"].map { try double($0, what: "s", layer: name) } ?? 2.0 / 3.0)
        case "dropout":
            return .dropout(rate: try double(try need("rate"), what: "rate", layer: name))
        case "dense":
            return .dense(Dense(units: try int(try need("units"), what: "units", layer: name),
                                bias: try item["bias"].map { try bool($0, what: "bias", layer: name) } ?? true))
        case "rbf":
            return .rbf(RBFOutput(units: try int(try need("units"), what: "units", layer: name),
                                  trainable: try item["trainable"].map { try bool($0, what: "trainable", layer: name) } ?? false))
        case "pad_shortcut":
            return .padShortcut(PadShortcut(filters: try int(try need("filters"), what: "filters", layer: name),
                                            stride: try int(try need("stride"), what: "stride", layer: name)))
        default:
            fatalError("typeKeys and kind(_:) disagree about `\(type)`")
        }
    }

    // MARK: checks

    func checks(_ value: DefinitionValue) throws -> [Check] {
        guard case .list(let items, _) = value else { throw ZooError("`checks` must be a list", at: at(value)) }
        return try items.map(check)
    }

    func check(_ item: DefinitionValue) throws -> Check {
        try allow(item, ["metric", "layer", "value", "kilo", "tolerance", "why", "derived", "deviation", "source", "note"], what: "a check")
        guard let m = item["metric"]?.text, let metric = Check.Metric(rawValue: m) else {
            throw ZooError("a check needs a `metric`: \(Check.Metric.allCases.map(\.rawValue).joined(separator: ", "))", at: at(item))
        }
        guard let source = item["source"]?.text, !source.isEmpty else {
            throw ZooError("every check names its `source` (e.g. `paper Table 2`)", at: at(item))
        }
        guard let value = item["value"] else { throw ZooError("a check needs the `value` its source prints", at: at(item)) }
        let kilo = try item["kilo"].map { try double($0, what: "kilo") } ?? 1000
        func expected(_ v: DefinitionValue) throws -> Check.Expected {
            if case .list = v { return .shape(try ints(v, what: "value")) }
            guard let t = v.text, let (x, tolerance) = Check.parseFigure(t, kilo: kilo) else {
                throw ZooError("`\(v.rendered)` is not a figure (e.g. 138357544, 138M, 1.8G, [256, 6, 6])", at: at(v))
            }
            return .number(x, tolerance: tolerance)
        }
        var expect = try expected(value)
        if let t = item["tolerance"] {
            guard item["why"]?.text != nil else {
                throw ZooError("a `tolerance` wider than the printed rounding needs a `why`", at: at(t))
            }
            guard case .number(let x, _) = expect, let text = t.text else { throw ZooError("`tolerance` applies to numbers", at: at(t)) }
            let tolerance: Double
            if text.hasSuffix("%"), let p = Double(text.dropLast()) { tolerance = abs(x) * p / 100 }
            else if let (v, _) = Check.parseFigure(text, kilo: kilo) { tolerance = v }
            else { throw ZooError("`tolerance` must be a figure or a percentage, got `\(text)`", at: at(t)) }
            expect = .number(x, tolerance: tolerance)
        }
        var derived: Check.Expected?
        let deviation = item["deviation"]?.text
        if let d = item["derived"] { derived = try expected(d) }
        if (deviation == nil) != (derived == nil) {
            throw ZooError("a documented deviation needs both `deviation` (the reason) and `derived` (the figure the arithmetic gives)", at: at(item))
        }
        let note = [item["note"]?.text, item["why"]?.text].compactMap { $0 }.joined(separator: "; ")
        return Check(metric: metric, layer: item["layer"]?.text, printed: value.rendered, expected: expect,
                     source: source, deviation: deviation, derived: derived, note: note.isEmpty ? nil : note,
                     location: at(item))
    }
}
