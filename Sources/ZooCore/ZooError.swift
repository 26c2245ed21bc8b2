/// An error that names where (file:line, layer), what was expected, what was found, and what to do.
public struct ZooError: Error, Sendable, CustomStringConvertible, Equatable {
    public var location: SourceLocation?
    public var layer: String?
    public var message: String
    public var hint: String?

    public init(_ message: String, layer: String? = nil, at location: SourceLocation? = nil, hint: String? = nil) {
        self.message = message; self.layer = layer; self.location = location; self.hint = hint
    }

    public var description: String {
        var s = ""
        if let location { s += "\(location): " }
        if let layer { s += "layer `\(layer)`: " }
        s += message
        if let hint { s += "; \(hint)" }
        return s
    }
}
