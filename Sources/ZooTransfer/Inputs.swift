import Foundation
import ZooCore

/// The images an extraction reads: files, folders (recursively, sorted) and text files listing
/// paths. Labels come from sub-folder names (the ImageFolder convention) when every image sits in
/// a class folder below one given folder.
public struct InputList: Sendable {
    public var paths: [String]
    /// Class index per path, when known.
    public var labels: [Int]?
    public var classes: [String]
    /// For a shard: the fingerprint of the whole list it was cut from.
    var whole: String?

    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "jpe"]

    public init(paths: [String], labels: [Int]? = nil, classes: [String] = []) {
        self.paths = paths; self.labels = labels; self.classes = classes
    }

    public static func collect(_ arguments: [String]) throws -> InputList {
        let fm = FileManager.default
        var paths: [String] = []
        var labelled: [(path: String, label: String)] = []
        var allFromClassFolders = arguments.count == 1
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else { throw ZooError("input \(argument) does not exist") }
            if isDirectory.boolValue {
                let root = URL(fileURLWithPath: argument).standardizedFileURL
                guard let walker = fm.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
                    throw ZooError("cannot read the folder \(argument)")
                }
                var found: [String] = []
                for case let url as URL in walker where imageExtensions.contains(url.pathExtension.lowercased()) { found.append(url.path) }
                found.sort()
                for p in found {
                    let relative = p.dropFirst(root.path.count + 1).split(separator: "/")
                    if relative.count >= 2 { labelled.append((p, String(relative[0]))) } else { allFromClassFolders = false }
                }
                paths += found
            } else if argument.hasSuffix(".npy") {
                // Tensors already preprocessed: [N, C, H, W] (or one [C, H, W]); one input per row.
                allFromClassFolders = false
                let t = try NPY.read(argument)
                let rows = t.shape.count == 4 ? t.shape[0] : 1
                paths += (0..<rows).map { "\(argument)#\($0)" }
            } else if argument.hasSuffix(".txt") || argument.hasSuffix(".lst") {
                allFromClassFolders = false
                let text = try String(contentsOfFile: argument, encoding: .utf8)
                let base = URL(fileURLWithPath: argument).deletingLastPathComponent()
                for line in text.split(separator: "\n") {
                    let t = line.trimmingCharacters(in: .whitespaces)
                    guard !t.isEmpty, !t.hasPrefix("#") else { continue }
                    paths.append(t.hasPrefix("/") ? t : base.appendingPathComponent(t).path)
                }
            } else {
                allFromClassFolders = false
                paths.append(argument)
            }
        }
        guard !paths.isEmpty else { throw ZooError("no images found in \(arguments.joined(separator: " ")) (looking for .png, .jpg, .jpeg, .npy)") }
        if allFromClassFolders && labelled.count == paths.count {
            let classes = Array(Set(labelled.map(\.label))).sorted()
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            return InputList(paths: paths, labels: labelled.map { index[$0.label]! }, classes: classes)
        }
        return InputList(paths: paths)
    }

    /// The deterministic `index`-th of `count` shards (0-based): every count-th input from `index`.
    public func shard(_ index: Int, of count: Int) throws -> InputList {
        guard count > 0, (0..<count).contains(index) else { throw ZooError("--shard I/N needs 0 ≤ I < N, got \(index)/\(count)") }
        let keep = paths.indices.filter { $0 % count == index }
        var part = InputList(paths: keep.map { paths[$0] }, labels: labels.map { l in keep.map { l[$0] } }, classes: classes)
        part.whole = fingerprint
        return part
    }

    /// A fingerprint of the list (order included), so that a resumed run is the same run; a shard
    /// carries the whole list's (its `--shard I/N` tells it apart).
    public var fingerprint: String {
        if let whole { return whole }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for p in paths { for b in p.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }; hash = (hash ^ 0x0a) &* 0x100_0000_01b3 }
        return String(hash, radix: 16) + "-\(paths.count)"
    }
}
