import ZooCore
import ZooHDF5

/// Loads a weight file into a network: detects the format, finds every parameter the network
/// needs (by layer name, or the layer's `keras` alias), changes the layout where the format's
/// differs, and checks every shape. Errors name the file, the layer, the HDF5 path and the
/// expected and found shapes.
public enum WeightLoader {
    public struct Options: Sendable {
        /// Layers to leave out of the file (randomly initialised instead), e.g. a new head.
        public var skip: Set<String> = []
        /// Layers missing from the file are initialised randomly (and reported) instead of an error.
        public var allowMissing = false
        /// Seed of the random initialisation of skipped or missing layers.
        public var seed: UInt64 = 0
        /// A file whose `classes` attribute gives another class count than the network's is read
        /// into the network with its head resized (off when the caller has already chosen the
        /// head, as `zoo train` does for a new data set).
        public var adaptHead = true
        public init(skip: Set<String> = [], allowMissing: Bool = false, seed: UInt64 = 0, adaptHead: Bool = true) {
            self.skip = skip; self.allowMissing = allowMissing; self.seed = seed; self.adaptHead = adaptHead
        }
    }

    public struct Report: Sendable {
        public var file: String
        public var format: WeightFormat
        /// Our layer → the file's layer it came from.
        public var loaded: [(layer: String, from: String)] = []
        /// Layers initialised randomly: skipped on request, or missing and allowed.
        public var initialised: [String] = []
        /// Layers of the file that carry tensors and that no layer of the network used.
        public var unused: [String] = []
        /// File attributes (architecture, preprocessing …) when the format has them.
        public var attributes: [String: HDF5AttributeValue] = [:]
        public var model: Model
        /// When the file's `classes` attribute gives another class count than the network's: the
        /// head layer whose units were changed to match, with both counts.
        public var adaptedHead: (layer: String, from: Int, to: Int)?

        public var description: String {
            var s = "\(file) (\(format.rawValue)): loaded \(loaded.count) layer\(loaded.count == 1 ? "" : "s")"
            if !initialised.isEmpty { s += ", initialised \(initialised.count) at random (\(initialised.joined(separator: ", ")))" }
            if !unused.isEmpty { s += ", left \(unused.count) of the file's unused (\(unused.joined(separator: ", ")))" }
            if let h = adaptedHead { s += "; head `\(h.layer)` has \(h.to) classes (the file's `classes`) instead of \(h.from)" }
            return s
        }
    }

    public static func load(_ network: Network, from path: String, options: Options = Options()) throws -> Report {
        let file: HDF5File
        do { file = try HDF5File(reading: path) } catch let e as HDF5Error { throw ZooError("\(e)") }
        let (format, group) = try WeightFormat.detect(file)
        // A file written by `zoo train` on another class count says so in `classes`: read it into the
        // network with its head resized.
        var network = network
        var adaptedHead: (layer: String, from: Int, to: Int)?
        if options.adaptHead, let root = try? file.root, let classes = (try? root.attribute("classes"))?.strings, classes.count >= 2,
           let own = network.classCount, own != classes.count, let head = network.head {
            do {
                network = try network.withHead(classes: classes.count)
            } catch let e as ZooError {
                throw ZooError("\(path) holds a classifier of \(classes.count) classes, `\(network.name)` has \(own): \(e.message)")
            }
            adaptedHead = (head.name, own, classes.count)
        }
        let stored: [StoredLayer]
        do { stored = try WeightReaders.layers(format, group) } catch let e as HDF5Error { throw ZooError("\(e)") }
        var byName: [String: StoredLayer] = [:]
        for layer in stored where byName[layer.name] == nil { byName[layer.name] = layer }
        let infos = try network.infer()
        let infoByName = Dictionary(uniqueKeysWithValues: infos.map { ($0.name, $0) })
        var parameters: [String: [String: Tensor]] = [:]
        var loaded: [(String, String)] = [], initialised: [String] = [], used = Set<String>()
        var missing: [String] = []
        for info in infos where !info.parameters.isEmpty {
            let candidates = [info.layer.aliases["keras"], info.name].compactMap { $0 }
            if options.skip.contains(info.name) || candidates.contains(where: options.skip.contains) {
                initialised.append(info.name)
                continue
            }
            guard let source = candidates.lazy.compactMap({ byName[$0] }).first, !source.tensors.isEmpty else {
                missing.append(info.name)
                initialised.append(info.name)
                continue
            }
            used.insert(source.name)
            parameters[info.name] = try convert(source, to: info, infos: infoByName, network: network, format: format, file: path)
            loaded.append((info.name, source.name))
        }
        if !missing.isEmpty && !options.allowMissing {
            let names = missing.prefix(6).map { "`\($0)`" }.joined(separator: ", ") + (missing.count > 6 ? " and \(missing.count - 6) more" : "")
            let head = Set(["fc6", "fc7", "fc8", "fc", "F6", "OUTPUT"])
            let looksNotop = !loaded.isEmpty && missing.allSatisfy { m in head.contains(m) || infoByName[m].map { if case .dense = $0.layer.kind { return true } else { return false } } ?? false }
            throw ZooError("\(path): no weights for \(names) of `\(network.name)`" + (looksNotop ? "; this looks like a `_notop` file (it has the convolutional layers but none of the fully-connected head)" : ""),
                           hint: looksNotop ? "load it with the head skipped (--skip \(missing.joined(separator: ",")), or --allow-missing) and extract features from a convolutional layer"
                                            : "the file's layers are \(stored.prefix(8).map(\.name).joined(separator: ", "))\(stored.count > 8 ? ", …" : ""); `zoo weights check` compares them layer by layer")
        }
        // Random values only for the layers that need them.
        if !initialised.isEmpty {
            for (layer, tensors) in try Model.randomParameters(network, only: Set(initialised), seed: options.seed) { parameters[layer] = tensors }
        }
        var attributes: [String: HDF5AttributeValue] = [:]
        if let root = try? file.root {
            for name in (try? root.attributeNames()) ?? [] where !name.hasPrefix("layer_names") {
                if let v = try? root.attribute(name) { attributes[name] = v }
            }
        }
        let model = try Model(network: network, parameters: parameters)
        return Report(file: path, format: format, loaded: loaded, initialised: initialised,
                      unused: stored.filter { !$0.tensors.isEmpty && !used.contains($0.name) && $0.name != WeightWriter.optimizerGroup }.map(\.name),
                      attributes: attributes, model: model, adaptedHead: adaptedHead)
    }

    /// The tensors of one stored layer, in Zoo's layout, checked against what the layer needs.
    static func convert(_ source: StoredLayer, to info: LayerInfo, infos: [String: LayerInfo], network: Network,
                        format: WeightFormat, file: String) throws -> [String: Tensor] {
        let specs = info.parameters
        func fail(_ message: String, hint: String? = nil) -> ZooError {
            ZooError("\(file): \(message)", layer: info.name, hint: hint)
        }
        // Match tensors to parameters: by role when the file names them, else by position.
        var assignment: [(ParameterSpec, StoredTensor)] = []
        let roles = source.tensors.compactMap(\.role)
        if roles.count == source.tensors.count && Set(roles).isSuperset(of: specs.map(\.name)) {
            for spec in specs { assignment.append((spec, source.tensors.first { $0.role == spec.name }!)) }
        } else {
            guard source.tensors.count == specs.count else {
                throw fail("the file's layer `\(source.name)` has \(source.tensors.count) tensors (\(source.tensors.map { "\($0.path) \($0.shape)" }.joined(separator: ", "))); this \(info.layer.kind.typeName) layer needs \(specs.count): \(specs.map { "\($0.name) \($0.shape)" }.joined(separator: ", "))")
            }
            assignment = Array(zip(specs, source.tensors))
        }
        var out: [String: Tensor] = [:]
        for (spec, stored) in assignment {
            var values = try readValues(stored, file: file)
            var shape = stored.shape
            let keras = format != .zoo
            switch (info.layer.kind, spec.name, keras) {
            case (.convolution, "kernel", true) where shape.count == 4:
                let expectedHWIO = [spec.shape[2], spec.shape[3], spec.shape[1], spec.shape[0]]
                guard shape == expectedHWIO else {
                    let channelsFirst = shape == spec.shape
                    throw fail("\(stored.path) has shape \(shape); a Keras kernel for this layer is [kh, kw, in, out] = \(expectedHWIO)",
                               hint: channelsFirst ? "this kernel looks channels-first (OIHW); convert the file to Zoo's format first" : nil)
                }
                values = LayoutConversion.oihw(fromHWIO: values, shape: shape)
                shape = spec.shape
            case (.dense, "kernel", true) where shape.count == 2:
                guard shape == [spec.shape[1], spec.shape[0]] else {
                    throw fail("\(stored.path) has shape \(shape); a Keras kernel for this layer is [in, out] = \([spec.shape[1], spec.shape[0]])",
                               hint: shape == spec.shape ? "this kernel looks already transposed (out, in)" : nil)
                }
                values = LayoutConversion.outIn(fromInOut: values, inputs: shape[0], outputs: shape[1],
                                                flattenedFrom: flattenedMap(before: info, infos: infos))
                shape = spec.shape
            default:
                break
            }
            guard shape == spec.shape else {
                throw fail("\(stored.path) has shape \(shape), expected \(spec.shape) for `\(spec.name)`")
            }
            out[spec.name] = Tensor(shape: shape, data: values)
        }
        return out
    }

    /// The C×H×W map a dense layer's input was flattened from (through identity-like layers), when
    /// it has more than one position: Keras flattened it channels-last.
    static func flattenedMap(before info: LayerInfo, infos: [String: LayerInfo]) -> Shape? {
        var current = info.layer.inputs.first.flatMap { infos[$0] }
        while let c = current {
            switch c.layer.kind {
            case .flatten:
                let map = c.inputs[0]
                return map.isMap && map.height * map.width > 1 ? map : nil
            case .dropout, .identity:
                current = c.layer.inputs.first.flatMap { infos[$0] }
            default:
                return nil
            }
        }
        return nil
    }

    static func readValues(_ stored: StoredTensor, file: String) throws -> [Float] {
        do { return try stored.dataset.readFloats() } catch let e as HDF5Error { throw ZooError("\(e)") }
    }
}

extension WeightLoader {
    /// The optimiser state a `zoo train` checkpoint holds (empty when it has none), per layer and
    /// parameter.
    public static func optimizerState(in path: String) throws -> [String: [String: [Float]]] {
        do {
            let file = try HDF5File(reading: path)
            let root = try file.root
            guard root.kind(of: WeightWriter.optimizerGroup) == .group else { return [:] }
            let state = try root.group(WeightWriter.optimizerGroup)
            var result: [String: [String: [Float]]] = [:]
            for layer in try state.members() where state.kind(of: layer) == .group {
                let g = try state.group(layer)
                for name in try g.members() where g.kind(of: name) == .dataset {
                    result[layer, default: [:]][name] = try g.dataset(name).readFloats()
                }
            }
            return result
        } catch let e as HDF5Error {
            throw ZooError("\(e)")
        }
    }
}
