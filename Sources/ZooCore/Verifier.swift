/// Checks a network's computed figures against the ones its paper (or a reference
/// implementation) publishes. The expected figures live beside the definitions, each with its
/// source; see docs/definitions.md ("checks").
import Foundation

public struct Check: Sendable {
    public enum Metric: String, Sendable, CaseIterable {
        /// All parameters, trainable + non-trainable.
        case params
        case trainable
        case nonTrainable = "non_trainable"
        /// Only the `kernel` tensors (no biases, no BN): what VGG's "weights only" and
        /// GoogLeNet's params column count.
        case weights
        case macs
        case connections
        /// Output shape `[C, H, W]` or `[N]`.
        case output
        /// Output units per sample (AlexNet's "neurons").
        case neurons
        /// Layers with weights on the longest path (GoogLeNet's "depth", "22 layers").
        case depth
        /// The network's input shape `[C, H, W]` (AlexNet's 224 vs 227).
        case input
    }

    public enum Expected: Sendable, Equatable {
        case number(Double, tolerance: Double)
        case shape([Int])
    }

    public var metric: Metric
    /// A layer name, a block (`inception_3a`: every layer inside it), or a pattern with `*`
    /// (`conv2*`); nil for the whole network.
    public var layer: String?
    /// What the source prints, verbatim (`138M`, `2.7K`, `[256, 6, 6]`).
    public var printed: String
    public var expected: Expected
    /// Where the figure comes from (`paper Table 2`, `torchvision docs`).
    public var source: String
    /// When the paper disagrees with its own arithmetic: the reason, and the figure the
    /// arithmetic gives (which the computed value must match instead).
    public var deviation: String?
    public var derived: Expected?
    public var note: String?
    public var location: SourceLocation?

    public init(metric: Metric, layer: String? = nil, printed: String, expected: Expected, source: String,
                deviation: String? = nil, derived: Expected? = nil, note: String? = nil, location: SourceLocation? = nil) {
        self.metric = metric; self.layer = layer; self.printed = printed; self.expected = expected
        self.source = source; self.deviation = deviation; self.derived = derived; self.note = note; self.location = location
    }

    /// Parses a printed figure: `138M` → 138e6 ± 0.5e6, `1.8G` → 1.8e9 ± 0.05e9, `2.7K` with
    /// unit 1024 → 2764.8 ± 51.2, `60,965,224` → exact. The tolerance is half a unit of the last
    /// printed digit: what the source's rounding implies.
    public static func parseFigure(_ text: String, kilo: Double = 1000) -> (value: Double, tolerance: Double)? {
        var t = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
        var scale = 1.0
        let suffixes: [Character: Double] = ["K": kilo, "M": kilo * kilo, "G": kilo * kilo * kilo, "B": kilo * kilo * kilo]
        if let last = t.last, let s = suffixes[last] { scale = s; t.removeLast() }
        guard let value = Double(t) else { return nil }
        if scale == 1 && !t.contains(".") && !t.contains("e") { return (value, 0) }
        let decimals = t.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        let half = 0.5 * pow(10, -Double(decimals)) * scale
        return (value * scale, half)
    }
}

/// The outcome of one check.
public struct CheckResult: Sendable {
    public enum Status: String, Sendable { case pass, fail, deviation }
    public var network: String
    public var check: Check
    public var computed: Check.Expected?
    public var status: Status
    /// Why a check could not be evaluated (e.g. no layer matches).
    public var problem: String?

    public var passed: Bool { status != .fail }
}

extension Network {
    /// The layers a check's `layer` selects: an exact name, a block prefix, or a `*` pattern.
    public static func select(_ pattern: String, in infos: [LayerInfo]) -> [LayerInfo] {
        if pattern.contains("*") {
            let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
            return infos.filter { matches($0.name, parts) }
        }
        return infos.filter { $0.name == pattern || $0.name.hasPrefix(pattern + ".") }
    }

    private static func matches(_ name: String, _ parts: [String]) -> Bool {
        guard name.hasPrefix(parts[0]) else { return false }
        var rest = Substring(name.dropFirst(parts[0].count))
        for (i, part) in parts.enumerated().dropFirst() {
            if i == parts.count - 1 { return part.isEmpty || rest.hasSuffix(part) }
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return rest.isEmpty
    }

    /// Checks every figure in `info.checks` against the inferred network.
    public func verify() throws -> [CheckResult] {
        let infos = try infer()
        return info.checks.map { check in Network.evaluate(check, network: name, input: input, infos: infos) }
    }

    static func evaluate(_ check: Check, network: String, input inputShape: Shape, infos: [LayerInfo]) -> CheckResult {
        var result = CheckResult(network: network, check: check, computed: nil, status: .fail, problem: nil)
        let selected: [LayerInfo]
        if let layer = check.layer {
            selected = select(layer, in: infos)
            if selected.isEmpty {
                result.problem = "no layer matches `\(layer)`"
                return result
            }
        } else {
            selected = infos
        }
        let value: Check.Expected
        switch check.metric {
        case .params: value = .number(Double(selected.reduce(0) { $0 + $1.parameterCount }), tolerance: 0)
        case .trainable: value = .number(Double(selected.reduce(0) { $0 + $1.trainableParameters }), tolerance: 0)
        case .nonTrainable: value = .number(Double(selected.reduce(0) { $0 + $1.nonTrainableParameters }), tolerance: 0)
        case .weights:
            value = .number(Double(selected.reduce(0) { $0 + $1.parameters.filter { $0.name == "kernel" }.reduce(0) { $0 + $1.count } }), tolerance: 0)
        case .macs: value = .number(Double(selected.reduce(0) { $0 + $1.macs }), tolerance: 0)
        case .connections: value = .number(Double(selected.reduce(0) { $0 + $1.connections }), tolerance: 0)
        case .output: value = .shape(selected.last!.output.dims)
        case .input: value = .shape(inputShape.dims)
        case .neurons: value = .number(Double(selected.last!.output.count), tolerance: 0)
        case .depth:
            // Depth within the selection: its deepest layer minus the depth where it starts.
            let names = Set(selected.map(\.name))
            let byName = Dictionary(uniqueKeysWithValues: infos.map { ($0.name, $0) })
            let entry = selected.flatMap { $0.layer.inputs.filter { !names.contains($0) } }
                .compactMap { byName[$0]?.weightedDepth }.max() ?? 0
            value = .number(Double((selected.map(\.weightedDepth).max() ?? 0) - entry), tolerance: 0)
        }
        result.computed = value
        if check.deviation != nil, let derived = check.derived {
            result.status = agrees(value, derived) ? .deviation : .fail
        } else {
            result.status = agrees(value, check.expected) ? .pass : .fail
        }
        return result
    }

    static func agrees(_ computed: Check.Expected, _ expected: Check.Expected) -> Bool {
        switch (computed, expected) {
        case (.shape(let a), .shape(let b)): return a == b
        case (.number(let a, _), .number(let b, let tolerance)): return abs(a - b) <= tolerance + 1e-9 * max(abs(b), 1)
        default: return false
        }
    }
}

extension Check.Expected {
    /// `138,357,544`, `≈ 138,000,000 ± 500,000`, `[256, 6, 6]`.
    public var rendered: String {
        switch self {
        case .shape(let dims): return "[" + dims.map(String.init).joined(separator: ", ") + "]"
        case .number(let x, let tolerance):
            let v = x == x.rounded() ? Summary.grouped(Int(x)) : String(format2: x)
            guard tolerance > 0 else { return v }
            let t = tolerance == tolerance.rounded() ? Summary.grouped(Int(tolerance)) : String(format2: tolerance)
            return "\(v) ± \(t)"
        }
    }

    var json: JSON {
        switch self {
        case .shape(let dims): return .array(dims.map(JSON.int))
        case .number(let x, _): return x == x.rounded() && abs(x) < 1e15 ? .int(Int(x)) : .double(x)
        }
    }
}

extension CheckResult {
    public var mark: String {
        switch status {
        case .pass: return "✓"
        case .deviation: return "≠"
        case .fail: return "✗"
        }
    }

    /// One line of `zoo verify`: mark, network, what, expected, computed, source.
    public var line: String {
        let what = check.metric.rawValue + (check.layer.map { " of \($0)" } ?? "")
        let computedText = computed?.rendered ?? "—"
        var s = "\(mark) \(network): \(what): "
        switch status {
        case .pass:
            s += "\(check.printed) (\(check.expected.rendered)), computed \(computedText) [\(check.source)]"
        case .deviation:
            s += "paper \(check.printed), arithmetic \(check.derived?.rendered ?? "?"), computed \(computedText) [\(check.source)] — documented deviation: \(check.deviation ?? "")"
        case .fail:
            s += "expected \(check.printed) (\(check.expected.rendered)"
            if let d = check.derived { s += "; arithmetic \(d.rendered)" }
            s += "), computed \(computedText) [\(check.source)]"
            if let problem { s += " — \(problem)" }
            if let location = check.location { s += " (\(location))" }
        }
        if let note = check.note, status != .fail { s += " (\(note))" }
        return s
    }

    public var json: JSON {
        var pairs: [(String, JSON)] = [
            ("network", .string(network)),
            ("metric", .string(check.metric.rawValue)),
            ("layer", check.layer.map(JSON.string) ?? .null),
            ("status", .string(status.rawValue)),
            ("printed", .string(check.printed)),
            ("expected", check.expected.json),
            ("computed", computed?.json ?? .null),
            ("source", .string(check.source)),
        ]
        if case .number(_, let t) = check.expected { pairs.append(("tolerance", .double(t))) }
        if let d = check.derived { pairs.append(("derived", d.json)) }
        if let dev = check.deviation { pairs.append(("deviation", .string(dev))) }
        if let note = check.note { pairs.append(("note", .string(note))) }
        if let problem { pairs.append(("problem", .string(problem))) }
        return .object(pairs)
    }
}
