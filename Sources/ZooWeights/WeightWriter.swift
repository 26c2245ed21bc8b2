import ZooCore
import ZooHDF5

/// Writes Zoo's native weight files (docs/weights.md): root attributes `zoo_format` =
/// "zoo-weights", `zoo_format_version` = 1, `architecture`, then any extra attributes (the
/// preprocessing record, class names, training history); one group per layer, named as in the
/// definition, one float32 dataset per parameter, in the engine's layout. Written to a temporary
/// file and renamed into place.
public enum WeightWriter {
    public static let formatVersion = 1
    /// The root group holding an optimiser's state (`optimizer_state/LAYER/PARAMETER`, e.g. SGD's
    /// momentum buffers), which a resumed training run reads back; loaders ignore it.
    public static let optimizerGroup = "optimizer_state"

    /// - Parameter optimizerState: per layer and parameter, written under `optimizer_state` in the
    ///   parameter's shape.
    public static func write(_ model: Model, to path: String, overwrite: Bool = false,
                             attributes: [String: HDF5AttributeValue] = [:],
                             optimizerState: [String: [String: [Float]]] = [:]) throws {
        try AtomicFile.write(to: path, overwrite: overwrite) { temporary in
            do {
                let file = try HDF5File(creating: temporary, overwrite: true)
                let root = try file.root
                try root.setAttribute("zoo_format", .string("zoo-weights"))
                try root.setAttribute("zoo_format_version", .int(formatVersion))
                try root.setAttribute("architecture", .string(model.network.name))
                for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try root.setAttribute(name, value) }
                for info in model.layerInfos where !info.parameters.isEmpty {
                    let group = try root.createGroup(info.name)
                    for spec in info.parameters {
                        let tensor = model.parameters[info.name]![spec.name]!
                        try group.createDataset(spec.name, shape: tensor.shape, data: tensor.data)
                    }
                }
                if !optimizerState.isEmpty {
                    let state = try root.createGroup(optimizerGroup)
                    for (layer, tensors) in optimizerState.sorted(by: { $0.key < $1.key }) {
                        let group = try state.createGroup(layer)
                        for (name, values) in tensors.sorted(by: { $0.key < $1.key }) {
                            let shape = model.parameters[layer]?[name]?.shape ?? [values.count]
                            guard shape.reduce(1, *) == values.count else {
                                throw ZooError("optimizer state \(layer)/\(name): \(values.count) values for a parameter of shape \(shape)")
                            }
                            try group.createDataset(name, shape: shape, data: values)
                        }
                    }
                }
                try file.flush()
                file.close()
            } catch let e as HDF5Error {
                throw ZooError("\(e)")
            }
        }
    }
}
