/// A JSON value with ordered object keys, written by hand so that output is stable and exact
/// (integers stay integers).
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.rendered() == b.rendered() }

    /// Compact JSON (`pretty: false`) or indented by two spaces.
    public func rendered(pretty: Bool = false, indent: String = "") -> String {
        let nl = pretty ? "\n" : "", step = pretty ? "  " : "", colon = pretty ? ": " : ":"
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)) : "null"
        case .string(let s): return JSON.quote(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            if items.allSatisfy({ if case .int = $0 { return true } else { return false } }) {
                return "[" + items.map { $0.rendered() }.joined(separator: pretty ? ", " : ",") + "]"
            }
            return "[" + nl + items.map { indent + step + $0.rendered(pretty: pretty, indent: indent + step) }
                .joined(separator: "," + nl) + nl + indent + "]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{" + nl + pairs.map { indent + step + JSON.quote($0.0) + colon + $0.1.rendered(pretty: pretty, indent: indent + step) }
                .joined(separator: "," + nl) + nl + indent + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
