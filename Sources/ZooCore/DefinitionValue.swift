import Yams

/// A YAML value from a definition file, with the line it came from. Scalars stay text until a
/// field asks for a number, so that `$width` and `${4*width}` can be substituted first.
indirect enum DefinitionValue: Sendable {
    case scalar(String, line: Int)
    case list([DefinitionValue], line: Int)
    case map([(key: String, value: DefinitionValue)], line: Int)

    var line: Int {
        switch self {
        case .scalar(_, let l), .list(_, let l), .map(_, let l): return l
        }
    }

    init(node: Node) throws {
        let line = (node.mark?.line ?? 0)
        switch node {
        case .scalar(let s): self = .scalar(s.string, line: line)
        case .sequence(let seq): self = .list(try seq.map { try DefinitionValue(node: $0) }, line: line)
        case .mapping(let m):
            var pairs: [(key: String, value: DefinitionValue)] = []
            for (k, v) in m {
                guard case .scalar(let key) = k else {
                    throw ZooError("a mapping key must be a plain name", at: SourceLocation(file: "", line: line))
                }
                pairs.append((key.string, try DefinitionValue(node: v)))
            }
            self = .map(pairs, line: line)
        case .alias:
            throw ZooError("YAML anchors and aliases are not supported; use a block template instead",
                           at: SourceLocation(file: "", line: line))
        }
    }

    var kindName: String {
        switch self {
        case .scalar: return "a value"
        case .list: return "a list"
        case .map: return "a mapping"
        }
    }

    subscript(key: String) -> DefinitionValue? {
        guard case .map(let pairs, _) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    var keys: [String] {
        guard case .map(let pairs, _) = self else { return [] }
        return pairs.map(\.key)
    }

    /// The text of a scalar as written (after substitution).
    var text: String? {
        if case .scalar(let s, _) = self { return s }
        return nil
    }

    /// The plain form for messages: `[64, 3]`, `{a: 1}`.
    var rendered: String {
        switch self {
        case .scalar(let s, _): return s
        case .list(let items, _): return "[" + items.map(\.rendered).joined(separator: ", ") + "]"
        case .map(let pairs, _): return "{" + pairs.map { "\($0.key): \($0.value.rendered)" }.joined(separator: ", ") + "}"
        }
    }
}
