import Foundation

/// The zoo: every definition file shipped in `Zoo/` (embedded in the library at build time), and
/// user files given by path.
public enum Catalogue {
    private static let parsed: Result<[DefinitionFile], ZooError> = {
        do {
            let files = try embeddedDefinitionFiles.filter { $0.name.hasSuffix(".yaml") }
                .map { try DefinitionFile(text: $0.text, path: "Zoo/" + $0.name) }
            return .success(files.sorted { ($0.date, $0.path) < ($1.date, $1.path) })
        } catch let error as ZooError {
            return .failure(error)
        } catch {
            return .failure(ZooError("\(error)"))
        }
    }()

    /// The zoo's own definition files, oldest paper first.
    public static func files() throws -> [DefinitionFile] { try parsed.get() }

    /// Every network name of the zoo (not aliases), in file order.
    public static func names() throws -> [String] { try files().flatMap { $0.entries.map(\.name) } }

    /// A network by name or alias (`vgg16`, `vgg-d`), or by the path of a definition file
    /// (`path/to/net.yaml`, or `path/to/family.yaml#name` for one of several networks).
    public static func network(_ reference: String) throws -> Network {
        if reference.hasSuffix(".yaml") || reference.hasSuffix(".yml") || reference.contains(".yaml#") || reference.contains(".yml#") {
            var path = reference, name: String?
            if let hash = reference.lastIndex(of: "#") {
                path = String(reference[..<hash])
                name = String(reference[reference.index(after: hash)...])
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw ZooError("no definition file at \(path)")
            }
            let file = try DefinitionFile(contentsOf: URL(fileURLWithPath: path))
            if let name { return try file.network(named: name) }
            guard file.entries.count == 1 else {
                throw ZooError("\(path) defines \(file.entries.count) networks (\(file.names.joined(separator: ", "))); choose one as \(path)#NAME")
            }
            return try file.network(named: file.entries[0].name)
        }
        for file in try files() where file.entry(named: reference) != nil {
            return try file.network(named: reference)
        }
        let all = try files().flatMap(\.names)
        let near = Network.nearest(reference, among: all)
        throw ZooError("`\(reference)` is not in the zoo", hint: near.map { "did you mean `\($0)`? (`zoo list` shows them all)" } ?? "`zoo list` shows every network; a path ending in .yaml reads your own file")
    }

    /// The 1,000 ImageNet class names in index order (from torchvision's wheel, Weights/imagenet_classes.txt).
    public static var imageNetClasses: [String] {
        embeddedDefinitionFiles.first { $0.name == "imagenet_classes.txt" }?.text
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty } ?? []
    }

    /// Every network of the zoo, built.
    public static func allNetworks() throws -> [Network] {
        try files().flatMap { file in try file.entries.map { try file.network(named: $0.name) } }
    }
}
