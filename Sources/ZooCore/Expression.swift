/// The small expression language of definition files: `$name` and `${expr}` substitution with
/// integer arithmetic (`${4*width}`, `${2**(stage-1)}`) and comparisons for `when:`.

/// What an argument or a loop variable is bound to.
typealias Bindings = [String: DefinitionValue]

enum ExpressionError: Error {
    case message(String)
}

struct ExpressionEvaluator {
    let bindings: Bindings

    /// Substitutes `$name` and `${expr}` in a scalar. A scalar that is exactly `$name` takes the
    /// bound value whole (a list stays a list); exactly `${expr}` gives the number.
    func substitute(_ value: DefinitionValue) throws -> DefinitionValue {
        switch value {
        case .list(let items, let line): return .list(try items.map(substitute), line: line)
        case .map(let pairs, let line): return .map(try pairs.map { ($0.key, try substitute($0.value)) }, line: line)
        case .scalar(let text, let line):
            guard text.contains("$") else { return value }
            if text.hasPrefix("$"), !text.hasPrefix("${"), isIdentifier(text.dropFirst()) {
                let name = String(text.dropFirst())
                guard let bound = bindings[name] else { throw ExpressionError.message(unknown(name)) }
                return bound
            }
            return .scalar(try interpolate(text), line: line)
        }
    }

    private func unknown(_ name: String) -> String {
        let known = bindings.keys.sorted().joined(separator: ", ")
        return "unknown name `\(name)`" + (known.isEmpty ? "" : " (known here: \(known))")
    }

    private func isIdentifier<S: StringProtocol>(_ s: S) -> Bool {
        guard let first = s.first, first.isLetter || first == "_" else { return false }
        return s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    func interpolate(_ text: String) throws -> String {
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            guard c == "$" else { out.append(c); i = text.index(after: i); continue }
            let next = text.index(after: i)
            if next < text.endIndex, text[next] == "{" {
                guard let close = text[next...].firstIndex(of: "}") else {
                    throw ExpressionError.message("unclosed `${` in `\(text)`")
                }
                let expr = String(text[text.index(after: next)..<close]).trimmingCharacters(in: .whitespaces)
                if isIdentifier(expr), let bound = bindings[expr], let t = bound.text, Int(t) == nil, Double(t) == nil {
                    out += t   // `${name}` of a text: plain substitution (`${prefix}_conv`)
                } else {
                    out += try evaluate(expr).text
                }
                i = text.index(after: close)
            } else {
                var j = next
                while j < text.endIndex, text[j].isLetter || text[j].isNumber || text[j] == "_" { j = text.index(after: j) }
                let name = String(text[next..<j])
                guard !name.isEmpty else { throw ExpressionError.message("a lone `$` in `\(text)`") }
                guard let bound = bindings[name] else { throw ExpressionError.message(unknown(name)) }
                guard let s = bound.text else {
                    throw ExpressionError.message("`$\(name)` is \(bound.rendered), which cannot be part of a text")
                }
                out += s
                i = j
            }
        }
        return out
    }

    /// `when:` conditions: `$x` (true unless empty, 0, false or no), `A == B`, `A != B`, joined
    /// by ` and `.
    func condition(_ value: DefinitionValue) throws -> Bool {
        guard case .scalar(let raw, _) = value else { throw ExpressionError.message("`when` must be a single condition") }
        return try raw.components(separatedBy: " and ").allSatisfy { try clause($0) }
    }

    private func clause(_ raw: String) throws -> Bool {
        let text = try interpolate(raw)
        for op in ["!=", "=="] {
            if let r = text.range(of: op) {
                let a = text[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
                let b = text[r.upperBound...].trimmingCharacters(in: .whitespaces)
                return op == "==" ? a == b : a != b
            }
        }
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        return !["", "0", "false", "no", "off", "none", "null"].contains(t)
    }

    // MARK: arithmetic

    enum Number {
        case int(Int), double(Double)
        var text: String {
            switch self {
            case .int(let i): return String(i)
            case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
            }
        }
        var double: Double { switch self { case .int(let i): return Double(i); case .double(let d): return d } }
    }

    func evaluate(_ expression: String) throws -> Number {
        var parser = Parser(tokens: try tokenize(expression), bindings: bindings, source: expression)
        let value = try parser.parseComparison()
        guard parser.position == parser.tokens.count else {
            throw ExpressionError.message("unexpected `\(parser.tokens[parser.position])` in `${\(expression)}`")
        }
        return value
    }

    private func tokenize(_ s: String) throws -> [String] {
        var tokens: [String] = []
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c.isWhitespace { i = s.index(after: i); continue }
            if c.isNumber || c == "." {
                var j = i
                while j < s.endIndex, s[j].isNumber || s[j] == "." { j = s.index(after: j) }
                tokens.append(String(s[i..<j])); i = j
            } else if c.isLetter || c == "_" || c == "$" {
                var j = s.index(after: i)
                while j < s.endIndex, s[j].isLetter || s[j].isNumber || s[j] == "_" { j = s.index(after: j) }
                tokens.append(String(s[i..<j]).replacingOccurrences(of: "$", with: "")); i = j
            } else {
                let two = s[i...].prefix(2)
                if ["**", "==", "!=", "<=", ">=", "//"].contains(String(two)) {
                    tokens.append(String(two)); i = s.index(i, offsetBy: 2)
                } else if "+-*/%()<>".contains(c) {
                    tokens.append(String(c)); i = s.index(after: i)
                } else {
                    throw ExpressionError.message("unexpected character `\(c)` in `${\(s)}`")
                }
            }
        }
        return tokens
    }

    struct Parser {
        let tokens: [String]
        let bindings: Bindings
        let source: String
        var position = 0

        mutating func next() -> String? {
            guard position < tokens.count else { return nil }
            defer { position += 1 }
            return tokens[position]
        }
        func peek() -> String? { position < tokens.count ? tokens[position] : nil }

        mutating func parseComparison() throws -> Number {
            let left = try parseSum()
            guard let op = peek(), ["==", "!=", "<", "<=", ">", ">="].contains(op) else { return left }
            _ = next()
            let right = try parseSum()
            let a = left.double, b = right.double
            let r: Bool
            switch op {
            case "==": r = a == b
            case "!=": r = a != b
            case "<": r = a < b
            case "<=": r = a <= b
            case ">": r = a > b
            default: r = a >= b
            }
            return .int(r ? 1 : 0)
        }

        mutating func parseSum() throws -> Number {
            var value = try parseProduct()
            while let op = peek(), op == "+" || op == "-" {
                _ = next()
                let rhs = try parseProduct()
                value = combine(value, rhs, op)
            }
            return value
        }

        mutating func parseProduct() throws -> Number {
            var value = try parsePower()
            while let op = peek(), ["*", "/", "//", "%"].contains(op) {
                _ = next()
                let rhs = try parsePower()
                if (op == "/" || op == "//" || op == "%"), rhs.double == 0 {
                    throw ExpressionError.message("division by zero in `${\(source)}`")
                }
                value = combine(value, rhs, op)
            }
            return value
        }

        mutating func parsePower() throws -> Number {
            let base = try parseUnary()
            if peek() == "**" {
                _ = next()
                let exponent = try parsePower()
                if case .int(let b) = base, case .int(let e) = exponent, e >= 0 {
                    var r = 1
                    for _ in 0..<e { r *= b }
                    return .int(r)
                }
                return .double(Foundation_pow(base.double, exponent.double))
            }
            return base
        }

        mutating func parseUnary() throws -> Number {
            if peek() == "-" {
                _ = next()
                switch try parseUnary() {
                case .int(let i): return .int(-i)
                case .double(let d): return .double(-d)
                }
            }
            return try parseAtom()
        }

        mutating func parseAtom() throws -> Number {
            guard let token = next() else { throw ExpressionError.message("`${\(source)}` ends too early") }
            if token == "(" {
                let value = try parseComparison()
                guard next() == ")" else { throw ExpressionError.message("missing `)` in `${\(source)}`") }
                return value
            }
            if let i = Int(token) { return .int(i) }
            if let d = Double(token) { return .double(d) }
            if let bound = bindings[token] {
                guard let text = bound.text else {
                    throw ExpressionError.message("`\(token)` is \(bound.rendered), not a number, in `${\(source)}`")
                }
                if let i = Int(text) { return .int(i) }
                if let d = Double(text) { return .double(d) }
                throw ExpressionError.message("`\(token)` is `\(text)`, not a number, in `${\(source)}`")
            }
            throw ExpressionError.message("unknown name `\(token)` in `${\(source)}`")
        }

        func combine(_ a: Number, _ b: Number, _ op: String) -> Number {
            if case .int(let x) = a, case .int(let y) = b {
                switch op {
                case "+": return .int(x + y)
                case "-": return .int(x - y)
                case "*": return .int(x * y)
                case "//": return .int(Int((Double(x) / Double(y)).rounded(.down)))
                case "%": return .int(((x % y) + y) % y)
                default: return x % y == 0 ? .int(x / y) : .double(Double(x) / Double(y))
                }
            }
            let x = a.double, y = b.double
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            case "//": return .double((x / y).rounded(.down))
            case "%": return .double(x.truncatingRemainder(dividingBy: y))
            default: return .double(x / y)
            }
        }
    }
}

import Foundation
private func Foundation_pow(_ a: Double, _ b: Double) -> Double { Foundation.pow(a, b) }
