/// Expands a definition's layer list — plain layers, `for` loops, `repeat` stacks and `block`
/// instances — into the flat list of named layers of a `Network`.
struct Expander {
    let reader: FieldReader
    let blocks: [String: DefinitionFile.Template]

    private struct Pending {
        var layer: Layer
        var scope: String
        /// Names as written, resolved once every layer is known (so order and scope don't matter).
        var references: [String]
        var blockInput: String?
    }
    private var pending: [Pending] = []
    /// A block instance's full name → the full name of its last layer (its output).
    private var blockOutputs: [String: String] = [:]
    /// A block instance's full name → its template's name.
    private(set) var blockTemplates: [String: String] = [:]
    private var depth = 0

    init(reader: FieldReader, blocks: [String: DefinitionFile.Template]) {
        self.reader = reader
        self.blocks = blocks
    }

    /// Expands `items` in `scope`; `cursor` is the layer feeding the first item (nil: the network
    /// input). Returns the new cursor: the last layer expanded.
    mutating func expand(_ items: DefinitionValue, bindings: Bindings, scope: String, cursor: String?,
                         blockInput: String?) throws -> String? {
        guard case .list(let list, _) = items else {
            throw ZooError("`layers` must be a list", at: reader.at(items))
        }
        var cursor = cursor
        for item in list {
            guard case .map = item else {
                throw ZooError("each entry of `layers` must be a mapping (e.g. `{name: conv1, type: conv, …}`), got `\(item.rendered)`", at: reader.at(item))
            }
            if let condition = item["when"], !(try holds(condition, bindings)) { continue }
            if item["for"] != nil {
                cursor = try expandFor(item, bindings: bindings, scope: scope, cursor: cursor, blockInput: blockInput)
            } else if item["repeat"] != nil {
                cursor = try expandRepeat(item, bindings: bindings, scope: scope, cursor: cursor, blockInput: blockInput)
            } else if item["block"] != nil {
                cursor = try instantiate(item, bindings: bindings, scope: scope, cursor: cursor, blockInput: blockInput)
            } else {
                cursor = try layer(item, bindings: bindings, scope: scope, cursor: cursor, blockInput: blockInput)
            }
        }
        return cursor
    }

    private func holds(_ condition: DefinitionValue, _ bindings: Bindings) throws -> Bool {
        do { return try ExpressionEvaluator(bindings: bindings).condition(condition) } catch ExpressionError.message(let m) {
            throw ZooError("in `when`: \(m)", at: reader.at(condition))
        }
    }

    private func text(_ value: DefinitionValue?, _ bindings: Bindings, what: String, in item: DefinitionValue) throws -> String {
        guard let value else { throw ZooError("missing `\(what)`", at: reader.at(item)) }
        guard let t = try reader.substitute(value, bindings).text, !t.isEmpty else {
            throw ZooError("`\(what)` must be a name, got `\(value.rendered)`", at: reader.at(value))
        }
        return t
    }

    private mutating func expandFor(_ item: DefinitionValue, bindings: Bindings, scope: String, cursor: String?,
                                    blockInput: String?) throws -> String? {
        try reader.allow(item, ["for", "in", "index", "layers", "when"], what: "a `for` loop")
        let variables: [String]
        switch item["for"]! {
        case .scalar(let v, _): variables = [v]
        case .list(let vs, _): variables = vs.compactMap(\.text)
        case .map: throw ZooError("`for` names a variable or a list of variables", at: reader.at(item))
        }
        guard let source = item["in"] else { throw ZooError("a `for` loop needs `in`, the list it walks", at: reader.at(item)) }
        guard case .list(let elements, _) = try reader.substitute(source, bindings) else {
            throw ZooError("`in` must be a list, got `\(try reader.substitute(source, bindings).rendered)`", at: reader.at(source))
        }
        guard let body = item["layers"] else { throw ZooError("a `for` loop needs `layers`", at: reader.at(item)) }
        var cursor = cursor
        for (i, element) in elements.enumerated() {
            var inner = bindings
            if variables.count == 1 {
                inner[variables[0]] = element
            } else {
                guard case .list(let parts, _) = element, parts.count == variables.count else {
                    throw ZooError("`for: [\(variables.joined(separator: ", "))]` needs rows of \(variables.count) values, got `\(element.rendered)`", at: reader.at(element))
                }
                for (name, value) in zip(variables, parts) { inner[name] = value }
            }
            if let index = item["index"]?.text { inner[index] = .scalar(String(i + 1), line: item.line) }
            cursor = try expand(body, bindings: inner, scope: scope, cursor: cursor, blockInput: blockInput)
        }
        return cursor
    }

    private mutating func expandRepeat(_ item: DefinitionValue, bindings: Bindings, scope: String, cursor: String?,
                                       blockInput: String?) throws -> String? {
        try reader.allow(item, ["repeat", "index", "name", "block", "args", "first", "when"], what: "a `repeat` stack")
        let count = try reader.int(try reader.substitute(item["repeat"]!, bindings), what: "repeat", minimum: 0)
        let index = item["index"]?.text ?? "i"
        var cursor = cursor
        for i in 0..<count {
            var inner = bindings
            inner[index] = .scalar(String(i + 1), line: item.line)
            var args = item["args"]
            if i == 0, let first = item["first"] {
                guard case .map(let overrides, _) = first, case .map(var pairs, let line)? = args ?? .map([], line: item.line) else {
                    throw ZooError("`first` and `args` of a `repeat` must be mappings", at: reader.at(first))
                }
                for (k, v) in overrides {
                    if let j = pairs.firstIndex(where: { $0.key == k }) { pairs[j].value = v } else { pairs.append((k, v)) }
                }
                args = .map(pairs, line: line)
            }
            cursor = try instantiate(item, args: args, bindings: inner, scope: scope, cursor: cursor, blockInput: blockInput)
        }
        return cursor
    }

    private mutating func instantiate(_ item: DefinitionValue, args: DefinitionValue?? = nil, bindings: Bindings,
                                      scope: String, cursor: String?, blockInput: String?) throws -> String? {
        if args == nil { try reader.allow(item, ["name", "block", "args", "input", "when"], what: "a block instance") }
        let name = try text(item["name"], bindings, what: "name", in: item)
        let templateName = try text(item["block"], bindings, what: "block", in: item)
        guard let template = blocks[templateName] else {
            throw ZooError("unknown block `\(templateName)`", layer: name, at: reader.at(item),
                           hint: blocks.isEmpty ? "this file declares no `blocks`" : "this file declares \(blocks.keys.sorted().joined(separator: ", "))")
        }
        depth += 1
        defer { depth -= 1 }
        guard depth < 32 else { throw ZooError("blocks nest more than 32 deep (does `\(templateName)` use itself?)", at: reader.at(item)) }
        let given = try (args ?? item["args"]).map { try reader.substitute($0, bindings) }
        let inner = try reader.bind(template: template, args: given, at: item.line, what: "block `\(name)`")
        let full = scope.isEmpty ? name : scope + "." + name
        var input = cursor
        if let ref = item["input"] {
            let written = try text(ref, bindings, what: "input", in: item)
            input = try resolveNow(written, scope: scope, blockInput: blockInput, at: ref)
        }
        let last = try expand(template.layers, bindings: inner, scope: full, cursor: input, blockInput: input)
        guard let last, last != input else { throw ZooError("block `\(templateName)` produced no layers", layer: full, at: reader.at(item)) }
        blockOutputs[full] = last
        blockTemplates[full] = templateName
        return last
    }

    private mutating func layer(_ raw: DefinitionValue, bindings: Bindings, scope: String, cursor: String?,
                                blockInput: String?) throws -> String {
        let item = try reader.substitute(raw, bindings)
        guard let name = item["name"]?.text, !name.isEmpty else {
            throw ZooError("a layer needs a `name`", at: reader.at(raw))
        }
        guard !name.contains(".") else {
            throw ZooError("a layer name may not contain `.` (dots separate block scopes)", layer: name, at: reader.at(raw))
        }
        guard let type = item["type"]?.text else { throw ZooError("a layer needs a `type`", layer: name, at: reader.at(raw)) }
        let full = scope.isEmpty ? name : scope + "." + name
        let kind: LayerKind
        do { kind = try reader.kind(item, type: type, name: full) }
        var references: [String]
        switch (item["input"], item["inputs"]) {
        case (let one?, nil):
            guard let t = one.text else { throw ZooError("`input` names one layer; use `inputs` for several", layer: full, at: reader.at(one)) }
            references = [t]
        case (nil, let many?):
            guard case .list(let items, _) = many else { throw ZooError("`inputs` must be a list of layer names", layer: full, at: reader.at(many)) }
            references = items.compactMap(\.text)
        case (nil, nil):
            references = cursor.map { ["\u{0}" + $0] } ?? []
        default:
            throw ZooError("give either `input` or `inputs`, not both", layer: full, at: reader.at(raw))
        }
        var aliases: [String: String] = [:]
        for key in ["keras", "torch", "caffe"] { if let a = item[key]?.text { aliases[key] = a } }
        let layer = Layer(name: full, kind: kind, inputs: [], aliases: aliases, source: reader.at(raw))
        pending.append(Pending(layer: layer, scope: scope, references: references, blockInput: blockInput))
        return full
    }

    /// Resolves a reference written in `scope` (used for a block instance's explicit input, where
    /// the referenced layer must already exist).
    private func resolveNow(_ written: String, scope: String, blockInput: String?, at value: DefinitionValue) throws -> String? {
        let known = Set(pending.map(\.layer.name))
        if let r = Expander.resolve(written, scope: scope, blockInput: blockInput, known: known, blockOutputs: blockOutputs) {
            return r.isEmpty ? nil : r
        }
        throw ZooError("input `\(written)` is not a layer defined before this block", at: reader.at(value))
    }

    /// Finds what a name written in `scope` refers to: `in` (the block's input), a layer or block
    /// in the same scope, then in each enclosing scope. Returns "" for the network input.
    static func resolve(_ written: String, scope: String, blockInput: String?, known: Set<String>,
                        blockOutputs: [String: String]) -> String? {
        if written.hasPrefix("\u{0}") { return String(written.dropFirst()) }
        if written == "in" { return blockInput ?? "" }
        var prefix = scope
        while true {
            let candidate = prefix.isEmpty ? written : prefix + "." + written
            if known.contains(candidate) { return candidate }
            if let out = blockOutputs[candidate] { return out }
            if prefix.isEmpty { return nil }
            prefix = prefix.contains(".") ? String(prefix[..<prefix.lastIndex(of: ".")!]) : ""
        }
    }

    /// The expanded layers with every input reference resolved to a full name. An unresolvable
    /// reference is kept as written, for `Network` to report with a suggestion.
    func resolvedLayers() -> [Layer] {
        let known = Set(pending.map(\.layer.name))
        return pending.map { p in
            var layer = p.layer
            layer.inputs = p.references.compactMap { ref in
                let r = Expander.resolve(ref, scope: p.scope, blockInput: p.blockInput, known: known, blockOutputs: blockOutputs) ?? ref
                return r.isEmpty ? nil : r
            }
            return layer
        }
    }
}
