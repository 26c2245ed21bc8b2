import ZooCore
import ZooHDF5

/// Lists the layers and tensors of a weight file, in each format's own way.
enum WeightReaders {
    static func layers(_ format: WeightFormat, _ group: HDF5Group) throws -> [StoredLayer] {
        switch format {
        case .zoo: return try zoo(group)
        case .kerasLegacy: return try kerasLegacy(group)
        case .keras3: return try keras3(group)
        }
    }

    /// Zoo native: every root group is a layer; its datasets are named by role.
    static func zoo(_ root: HDF5Group) throws -> [StoredLayer] {
        try root.members().filter { root.kind(of: $0) == .group }.map { name in
            let g = try root.group(name)
            let tensors = try g.members().filter { g.kind(of: $0) == .dataset }.map { t -> StoredTensor in
                let d = try g.dataset(t)
                return StoredTensor(role: t, path: d.path, shape: d.shape, dataset: d)
            }
            return StoredLayer(name: name, tensors: tensors)
        }
    }

    /// Keras 2 / tf-keras: `layer_names` (or `layer_names0`, `layer_names1`, … when long) lists the
    /// layers in order; each layer group's `weight_names` lists its tensors in order (an empty
    /// float64 array for a weightless layer). Never sort: the order is the meaning.
    static func kerasLegacy(_ root: HDF5Group) throws -> [StoredLayer] {
        return try splitList(root, "layer_names").map { name in
            guard root.kind(of: name) == .group else {
                throw ZooError("\(root.file.path): `layer_names` lists `\(name)` but the file has no group \(root.path == "/" ? "" : root.path)/\(name)")
            }
            let g = try root.group(name)
            let tensors = try splitList(g, "weight_names").map { w -> StoredTensor in
                guard g.kind(of: w) == .dataset else {
                    throw ZooError("\(root.file.path): layer `\(name)` lists weight `\(w)` but \(g.path)/\(w) is not a dataset")
                }
                let d = try g.dataset(w)
                return StoredTensor(role: kerasRole(w, layer: name), path: d.path, shape: d.shape, dataset: d)
            }
            return StoredLayer(name: name, tensors: tensors)
        }
    }

    /// A list attribute Keras may split when long: `NAME`, or `NAME0`, `NAME1`, … in order.
    static func splitList(_ object: HDF5Group, _ name: String) throws -> [String] {
        if let list = try object.attribute(name)?.strings { return list }
        var out: [String] = []
        var i = 0
        while let chunk = try object.attribute("\(name)\(i)")?.strings { out += chunk; i += 1 }
        return out
    }

    /// Keras 3: `layers/<group>/vars/<0, 1, …>`, where the group is named by class and counter
    /// (`conv2d`, `conv2d_1`, …) and the layer's own name is the `vars` group's `name` attribute
    /// (nested models: `layers/<model>/layers/<group>/vars`).
    static func keras3(_ root: HDF5Group) throws -> [StoredLayer] {
        var out: [StoredLayer] = []
        func walk(_ g: HDF5Group, prefix: String) throws {
            for name in try g.members() where g.kind(of: name) == .group {
                let layer = try g.group(name)
                if layer.kind(of: "vars") == .group {
                    let vars = try layer.group("vars")
                    let label = try vars.attribute("name")?.string ?? name
                    let indices = try vars.members().compactMap(Int.init).sorted()
                    let tensors = try indices.map { i -> StoredTensor in
                        let d = try vars.dataset(String(i))
                        return StoredTensor(role: nil, path: d.path, shape: d.shape, dataset: d)
                    }
                    if !tensors.isEmpty { out.append(StoredLayer(name: prefix + label, tensors: tensors)) }
                }
                if layer.kind(of: "layers") == .group { try walk(try layer.group("layers"), prefix: "") }
            }
        }
        try walk(try root.group("layers"), prefix: "")
        return out
    }

    /// The role a Keras weight name gives: `block1_conv1/kernel:0` → kernel; Keras 1's
    /// `block1_conv1_W_1:0` → kernel, `_b` → bias, `_running_std` → moving_variance.
    static func kerasRole(_ weightName: String, layer: String) -> String? {
        var last = String(weightName.split(separator: "/").last ?? "")
        if let colon = last.lastIndex(of: ":") { last = String(last[..<colon]) }
        let known = ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "depthwise_kernel"]
        if known.contains(last) { return last }
        // Keras 1: `<layer>_<W|b|gamma|…>_<n>`.
        var stem = last
        if let underscore = stem.lastIndex(of: "_"), Int(stem[stem.index(after: underscore)...]) != nil { stem = String(stem[..<underscore]) }
        if stem.hasPrefix(layer + "_") { stem = String(stem.dropFirst(layer.count + 1)) }
        let keras1 = ["W": "kernel", "b": "bias", "gamma": "gamma", "beta": "beta", "running_mean": "moving_mean",
                      "running_std": "moving_variance", "moving_mean": "moving_mean", "moving_variance": "moving_variance"]
        return keras1[stem]
    }
}
