/// The table people expect from Keras `model.summary()` or torchinfo, computed without weights.
public struct Summary: Sendable {
    public let network: Network
    public let layers: [LayerInfo]
    public let batch: Int

    public init(_ network: Network, batch: Int = 1) throws {
        guard batch > 0 else { throw ZooError("the batch size must be positive, got \(batch)") }
        self.network = network
        self.layers = try network.infer()
        self.batch = batch
    }

    public var trainable: Int { layers.reduce(0) { $0 + $1.trainableParameters } }
    public var nonTrainable: Int { layers.reduce(0) { $0 + $1.nonTrainableParameters } }
    public var parameters: Int { trainable + nonTrainable }
    /// Multiply-accumulates for one sample.
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    public var connections: Int { layers.reduce(0) { $0 + $1.connections } }
    /// Float32 bytes of all parameters.
    public var weightBytes: Int { parameters * 4 }
    /// Float32 bytes of the input batch.
    public var inputBytes: Int { network.input.count * 4 * batch }
    /// Float32 bytes of every layer's output for the batch (what a forward pass that keeps
    /// everything would hold; the engine reuses buffers and needs far less).
    public var activationBytes: Int { layers.reduce(0) { $0 + $1.activationBytes } * batch }
    /// The largest single layer output for the batch.
    public var largestActivationBytes: Int { (layers.map(\.activationBytes).max() ?? 0) * batch }
    /// Layers with weights on the longest path (LeNet-5: 7, VGG-16: 16, GoogLeNet: 22, ResNet-50: 50).
    public var depth: Int { layers.map(\.weightedDepth).max() ?? 0 }

    /// One row of the table: a layer, or a block folded into one row.
    public struct Row: Sendable {
        public var name: String
        public var type: String
        public var output: Shape
        public var kernel: String
        public var parameters: Int
        public var trainable: Int
        public var macs: Int
        public var receptiveField: String
        /// Nesting level (0 for top-level layers and blocks).
        public var level: Int
        public var notes: [String]
    }

    /// Rows with block scopes expanded down to `depth` levels (0: each top-level block is one row;
    /// nil: every layer).
    public func rows(depth: Int? = nil) -> [Row] {
        var rows: [Row] = []
        var open: [String: Int] = [:]   // folded scope name → row index
        for info in layers {
            let scopes = info.layer.scopes
            if let depth, scopes.count > depth {
                let scope = scopes[depth]
                if let i = open[scope] {
                    rows[i].parameters += info.parameterCount
                    rows[i].trainable += info.trainableParameters
                    rows[i].macs += info.macs
                    rows[i].output = info.output
                    rows[i].receptiveField = Summary.field(info)
                    continue
                }
                open[scope] = rows.count
                rows.append(Row(name: scope, type: network.info.blocks[scope] ?? "block", output: info.output, kernel: "",
                                parameters: info.parameterCount, trainable: info.trainableParameters, macs: info.macs,
                                receptiveField: Summary.field(info), level: depth, notes: []))
            } else {
                rows.append(Row(name: info.name, type: info.layer.kind.typeName, output: info.output,
                                kernel: info.kernelDescription, parameters: info.parameterCount,
                                trainable: info.trainableParameters, macs: info.macs,
                                receptiveField: Summary.field(info), level: scopes.count, notes: info.notes))
            }
        }
        return rows
    }

    static func field(_ info: LayerInfo) -> String {
        let (h, w) = info.receptiveField
        return h.size == w.size ? "\(h.size)" : "\(h.size)×\(w.size)"
    }

    // MARK: rendering

    public enum Format: String, Sendable, CaseIterable { case table, markdown, csv, json }

    public func render(_ format: Format, depth: Int? = nil, paper: [CheckResult] = []) -> String {
        switch format {
        case .table: return table(depth: depth, paper: paper)
        case .markdown: return markdown(depth: depth, paper: paper)
        case .csv: return csv(depth: depth)
        case .json: return json().rendered(pretty: true) + "\n"
        }
    }

    private func tableCells(depth: Int?) -> (header: [String], cells: [[String]]) {
        let header = ["Layer", "Type", "Output", "Kernel/stride", "Params", "MACs", "RF"]
        let cells = rows(depth: depth).map { r in
            [String(repeating: "  ", count: r.level) + r.name, r.type, r.output.description, r.kernel,
             Summary.grouped(r.parameters), Summary.grouped(r.macs), r.receptiveField]
        }
        return (header, cells)
    }

    public func totalsLines(paper: [CheckResult]) -> [String] {
        var lines = [
            "Input: \(network.input) per sample, batch \(batch)",
            "Total params: \(Summary.grouped(parameters)) (trainable \(Summary.grouped(trainable)), non-trainable \(Summary.grouped(nonTrainable)))",
            "MACs: \(Summary.grouped(macs)) (\(Summary.human(Double(macs), unit: ""))) per sample; \(Summary.human(Double(macs * batch), unit: "")) for the batch",
            "Weights: \(Summary.bytes(weightBytes)) (float32)",
            "Activations: \(Summary.bytes(activationBytes)) for all layer outputs of the batch (largest single output \(Summary.bytes(largestActivationBytes))); input \(Summary.bytes(inputBytes))",
            "Depth: \(depth) layers with weights on the longest path",
        ]
        if network.layers.contains(where: { if case .subsampling = $0.kind { return true }; if case .rbf = $0.kind { return true }; return false }) {
            lines.append("Connections (LeNet's count): \(Summary.grouped(connections))")
        }
        lines += Summary.paperLines(paper)
        return lines
    }

    /// The one-line comparison with the paper: whole-network checks.
    static func paperLines(_ results: [CheckResult]) -> [String] {
        let whole = results.filter { $0.check.layer == nil && ($0.check.metric == .params || $0.check.metric == .trainable || $0.check.metric == .macs) }
        guard !whole.isEmpty else { return [] }
        let parts = whole.map { r -> String in
            let mark = r.status == .pass ? "✓" : r.status == .deviation ? "≠ (documented)" : "✗"
            return "\(r.check.metric.rawValue) \(r.check.printed) [\(r.check.source)] \(mark)"
        }
        return ["Paper check: " + parts.joined(separator: "; ")]
    }

    private func table(depth: Int?, paper: [CheckResult]) -> String {
        let (header, cells) = tableCells(depth: depth)
        let widths = header.indices.map { i in max(header[i].count, cells.map { $0[i].count }.max() ?? 0) }
        let numeric: Set<Int> = [4, 5, 6]
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return numeric.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        var out = "\(network.name)" + (network.info.description.isEmpty ? "" : " — \(network.info.description)") + "\n"
        if !network.info.citation.isEmpty { out += network.info.citation + "\n" }
        out += rule + "\n" + line(header) + "\n" + rule + "\n"
        for row in cells { out += line(row) + "\n" }
        out += rule + "\n"
        for l in totalsLines(paper: paper) { out += l + "\n" }
        let notes = rows(depth: depth).flatMap { r in r.notes.map { "\(r.name): \($0)" } }
        if !notes.isEmpty { out += "Notes:\n" + notes.map { "  " + $0 }.joined(separator: "\n") + "\n" }
        return out
    }

    private func markdown(depth: Int?, paper: [CheckResult]) -> String {
        let (header, cells) = tableCells(depth: depth)
        var out = "| " + header.joined(separator: " | ") + " |\n"
        out += "|" + header.indices.map { [4, 5, 6].contains($0) ? "---:" : "---" }.joined(separator: "|") + "|\n"
        for row in cells {
            out += "| " + row.enumerated().map { i, c in i == 0 ? "`\(c.trimmingCharacters(in: .whitespaces))`" : c }
                .joined(separator: " | ") + " |\n"
        }
        out += "\n" + totalsLines(paper: paper).map { "- " + $0 }.joined(separator: "\n") + "\n"
        return out
    }

    private func csv(depth: Int?) -> String {
        var out = "name,type,output,kernel,params,trainable,macs,receptive_field\n"
        for r in rows(depth: depth) {
            let fields = [r.name, r.type, r.output.description, r.kernel, String(r.parameters), String(r.trainable), String(r.macs), r.receptiveField]
            out += fields.map { $0.contains(",") || $0.contains("\"") ? "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : $0 }
                .joined(separator: ",") + "\n"
        }
        return out
    }

    /// `{"name", "input", "layers": [{"name", "type", "output", "params", "macs"}…], "totals"}`:
    /// the whole graph flattened, inner block layers with dotted names.
    public func json() -> JSON {
        .object([
            ("name", .string(network.name)),
            ("input", .array(network.input.dims.map(JSON.int))),
            ("batch", .int(batch)),
            ("layers", .array(layers.map { info in
                .object([
                    ("name", .string(info.name)),
                    ("type", .string(info.layer.kind.typeName)),
                    ("output", .array(info.output.dims.map(JSON.int))),
                    ("params", .int(info.parameterCount)),
                    ("trainable", .int(info.trainableParameters)),
                    ("macs", .int(info.macs)),
                    ("inputs", .array(info.layer.inputs.map(JSON.string))),
                    ("receptive_field", .int(info.receptiveField.h.size)),
                ])
            })),
            ("totals", .object([
                ("params", .int(parameters)),
                ("trainable", .int(trainable)),
                ("non_trainable", .int(nonTrainable)),
                ("macs", .int(macs)),
                ("weight_bytes", .int(weightBytes)),
                ("activation_bytes", .int(activationBytes)),
                ("depth", .int(depth)),
            ])),
        ])
    }

    // MARK: numbers

    /// 138357544 → "138,357,544".
    public static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// 15470264320 → "15.47 G".
    public static func human(_ x: Double, unit: String) -> String {
        let prefixes = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")]
        for (scale, p) in prefixes where abs(x) >= scale {
            return String(format2: x / scale) + " " + p + unit
        }
        return String(format2: x) + (unit.isEmpty ? "" : " " + unit)
    }

    public static func bytes(_ n: Int) -> String {
        let x = Double(n)
        let gib = 1073741824.0, mib = 1048576.0, kib = 1024.0
        if x >= gib { return String(format2: x / gib) + " GiB" }
        if x >= mib { return String(format2: x / mib) + " MiB" }
        if x >= kib { return String(format2: x / kib) + " KiB" }
        return "\(n) B"
    }
}
