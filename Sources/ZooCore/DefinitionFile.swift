import Foundation
import Yams

/// A parsed definition file (`Zoo/vgg.yaml`, or a user's own): its block templates, its
/// parameterised architectures and the named networks built from them. See docs/definitions.md.
public struct DefinitionFile: Sendable {
    /// The name used in messages (`Zoo/vgg.yaml` or the user's path).
    public let path: String
    public let family: String
    public let title: String
    public let citation: String
    /// When the paper appeared (`2014-09`), which orders the zoo's listing.
    public let date: String
    public let deviations: [String]
    public let notes: [String]
    /// The networks the file defines, in file order.
    public let entries: [NetworkEntry]
    let blocks: [String: Template]
    let architectures: [String: Template]

    public struct NetworkEntry: Sendable {
        public let name: String
        public let aliases: [String]
        public let description: String
        let architecture: String
        let args: DefinitionValue?
        let input: DefinitionValue?
        let preprocessing: String?
        let checks: DefinitionValue?
        let line: Int
    }

    struct Template: Sendable {
        let name: String
        let args: [String]
        let defaults: Bindings
        let layers: DefinitionValue
        let input: DefinitionValue?
        let preprocessing: String?
        let line: Int
    }

    /// Reads and parses a definition file from disk.
    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ZooError("cannot read definition file \(url.path): \(error.localizedDescription)")
        }
        try self.init(text: text, path: url.path)
    }

    /// Parses a definition from its text; `path` names it in error messages.
    public init(text: String, path: String) throws {
        self.path = path
        let root: DefinitionValue
        do {
            guard let node = try Yams.compose(yaml: text) else { throw ZooError("the file is empty", at: SourceLocation(file: path, line: 1)) }
            root = try DefinitionValue(node: node)
        } catch let error as ZooError {
            var e = error
            if e.location?.file.isEmpty ?? true { e.location = SourceLocation(file: path, line: e.location?.line ?? 1) }
            throw e
        } catch let error as YamlError {
            throw ZooError("not valid YAML: \(DefinitionFile.describe(error))", at: SourceLocation(file: path, line: DefinitionFile.line(of: error)))
        }
        let reader = FieldReader(file: path)
        guard case .map = root else { throw ZooError("the file must be a mapping (`name:`, `layers:` … or `architectures:`, `networks:`)", at: reader.at(root)) }

        func strings(_ key: String) throws -> [String] {
            guard let v = root[key] else { return [] }
            if let t = v.text { return [t] }
            guard case .list(let items, _) = v else { throw ZooError("`\(key)` must be a list of texts", at: reader.at(v)) }
            return try items.map { item in
                guard let t = item.text else { throw ZooError("`\(key)` must be a list of texts", at: reader.at(item)) }
                return t
            }
        }
        func templates(_ key: String, needsLayers: Bool = true) throws -> [String: Template] {
            guard let v = root[key] else { return [:] }
            guard case .map(let pairs, _) = v else { throw ZooError("`\(key)` must map names to templates", at: reader.at(v)) }
            var result: [String: Template] = [:]
            for (name, body) in pairs {
                result[name] = try DefinitionFile.template(name: name, body: body, reader: reader)
            }
            return result
        }

        let singleNetwork = root["layers"] != nil
        try reader.allow(root, singleNetwork
            ? ["name", "title", "citation", "paper", "date", "family", "deviations", "notes", "blocks", "input", "layers", "preprocessing", "checks", "aliases", "description", "args", "defaults"]
            : ["family", "title", "citation", "paper", "date", "deviations", "notes", "blocks", "architectures", "networks"], what: "the file")
        self.title = root["title"]?.text ?? ""
        self.citation = root["citation"]?.text ?? root["paper"]?.text ?? ""
        self.date = root["date"]?.text ?? ""
        self.deviations = try strings("deviations")
        self.notes = try strings("notes")
        self.blocks = try templates("blocks")

        if singleNetwork {
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let name = root["name"]?.text ?? stem
            self.family = root["family"]?.text ?? name
            self.architectures = [name: try DefinitionFile.template(name: name, body: root, reader: reader, topLevel: true)]
            self.entries = [NetworkEntry(name: name, aliases: try strings("aliases"), description: root["description"]?.text ?? "",
                                         architecture: name, args: nil, input: nil, preprocessing: nil,
                                         checks: root["checks"], line: root.line)]
        } else {
            self.family = root["family"]?.text ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let architectures = try templates("architectures")
            guard !architectures.isEmpty else { throw ZooError("the file defines no `architectures` (or top-level `layers`)", at: reader.at(root)) }
            self.architectures = architectures
            guard case .list(let items, _)? = root["networks"] else {
                throw ZooError("`networks` must list the named networks (`- name: vgg-d`, `architecture: vgg`, `args: {…}`)", at: reader.at(root["networks"] ?? root))
            }
            var entries: [NetworkEntry] = []
            for item in items {
                try reader.allow(item, ["name", "aliases", "description", "architecture", "args", "input", "preprocessing", "checks"], what: "a network")
                guard let name = item["name"]?.text else { throw ZooError("a network needs a `name`", at: reader.at(item)) }
                var aliases: [String] = []
                if let a = item["aliases"] {
                    guard case .list(let list, _) = a else { throw ZooError("`aliases` must be a list", at: reader.at(a)) }
                    aliases = list.compactMap(\.text)
                }
                let arch = item["architecture"]?.text ?? (architectures.count == 1 ? architectures.keys.first! : "")
                guard architectures[arch] != nil else {
                    throw ZooError("network `\(name)`: unknown architecture `\(arch)`; this file has \(architectures.keys.sorted().joined(separator: ", "))", at: reader.at(item))
                }
                entries.append(NetworkEntry(name: name, aliases: aliases, description: item["description"]?.text ?? "",
                                            architecture: arch, args: item["args"], input: item["input"],
                                            preprocessing: item["preprocessing"]?.text, checks: item["checks"], line: item.line))
            }
            var seen = Set<String>()
            for e in entries {
                for n in [e.name] + e.aliases where !seen.insert(n).inserted {
                    throw ZooError("the name `\(n)` is used twice", at: SourceLocation(file: path, line: e.line))
                }
            }
            self.entries = entries
        }
    }

    static func template(name: String, body: DefinitionValue, reader: FieldReader, topLevel: Bool = false) throws -> Template {
        if !topLevel {
            try reader.allow(body, ["args", "defaults", "layers", "input", "preprocessing", "description"], what: "template `\(name)`")
        }
        guard case .list? = body["layers"] else {
            throw ZooError("template `\(name)` needs a `layers` list", at: reader.at(body))
        }
        var args: [String] = []
        if let a = body["args"] {
            guard case .list(let items, _) = a else { throw ZooError("`args` of `\(name)` must be a list of names", at: reader.at(a)) }
            args = try items.map { item in
                guard let t = item.text else { throw ZooError("`args` of `\(name)` must be a list of names", at: reader.at(item)) }
                return t
            }
        }
        var defaults: Bindings = [:]
        if let d = body["defaults"] {
            guard case .map(let pairs, _) = d else { throw ZooError("`defaults` of `\(name)` must be a mapping", at: reader.at(d)) }
            for (k, v) in pairs {
                guard args.contains(k) else { throw ZooError("default for `\(k)`, which is not an argument of `\(name)` (\(args.joined(separator: ", ")))", at: reader.at(v)) }
                defaults[k] = v
            }
        }
        return Template(name: name, args: args, defaults: defaults, layers: body["layers"]!, input: body["input"],
                        preprocessing: body["preprocessing"]?.text, line: body.line)
    }

    /// Every name (and alias) the file defines.
    public var names: [String] { entries.flatMap { [$0.name] + $0.aliases } }

    public func entry(named name: String) -> NetworkEntry? {
        entries.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// Builds the named network (its graph, info and checks) from the file.
    public func network(named name: String) throws -> Network {
        guard let entry = entry(named: name) else {
            throw ZooError("`\(name)` is not defined in \(path); it defines \(names.joined(separator: ", "))")
        }
        let reader = FieldReader(file: path)
        let arch = architectures[entry.architecture]!
        let bindings = try reader.bind(template: arch, args: entry.args, at: entry.line, what: "network `\(entry.name)`")
        let inputValue = entry.input ?? arch.input
        guard let inputValue else { throw ZooError("network `\(entry.name)` has no `input` shape", at: SourceLocation(file: path, line: entry.line)) }
        let input = try reader.ints(try reader.substitute(inputValue, bindings), what: "input")
        var info = NetworkInfo()
        info.family = family
        info.title = title
        info.citation = citation
        info.deviations = deviations
        info.notes = notes
        info.aliases = entry.aliases
        info.preprocessing = entry.preprocessing ?? arch.preprocessing
        info.source = SourceLocation(file: path, line: entry.line)
        info.description = entry.description
        if let checks = entry.checks { info.checks = try reader.checks(checks) }
        var expander = Expander(reader: reader, blocks: blocks)
        _ = try expander.expand(arch.layers, bindings: bindings, scope: "", cursor: nil, blockInput: nil)
        let layers = expander.resolvedLayers()
        info.blocks = expander.blockTemplates
        return try Network(name: entry.name, input: Shape(input), layers: layers, info: info)
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default: return "\(error)"
        }
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default: return 1
        }
    }
}
