import ZooCore
import ZooHDF5

/// The weight-file layouts Zoo reads, detected from the file's structure (never its name).
public enum WeightFormat: String, Sendable {
    /// Zoo's own: root attribute `zoo_format`, one group per layer, one dataset per parameter.
    case zoo
    /// Keras 2 / tf-keras `save_weights` or `model.save` (.h5): `layer_names` + per-layer `weight_names`.
    case kerasLegacy = "keras-h5"
    /// Keras 3 `.weights.h5`: `layers/<name>/vars/<i>`.
    case keras3 = "keras3"

    public static func detect(_ file: HDF5File) throws -> (WeightFormat, HDF5Group) {
        let root = try file.root
        if root.hasAttribute("zoo_format") { return (.zoo, root) }
        if root.hasAttribute("layer_names") || root.hasAttribute("layer_names0") { return (.kerasLegacy, root) }
        if root.kind(of: "model_weights") == .group {
            let g = try root.group("model_weights")
            if g.hasAttribute("layer_names") || g.hasAttribute("layer_names0") { return (.kerasLegacy, g) }
        }
        if root.kind(of: "layers") == .group { return (.keras3, root) }
        throw ZooError("\(file.path): not a weight file Zoo knows (no `zoo_format` attribute, no Keras `layer_names`, no Keras 3 `layers` group)",
                       hint: "`zoo weights inspect \(file.path)` shows what it holds")
    }
}

/// One tensor as a file holds it, before any layout change.
public struct StoredTensor: Sendable {
    /// The parameter's role: kernel, bias, gamma, beta, moving_mean, moving_variance, … (nil when the
    /// name says nothing; then the position decides).
    public var role: String?
    /// The dataset's path in the file.
    public var path: String
    public var shape: [Int]
    let dataset: HDF5Dataset
}

/// A layer's tensors as a file lists them, in the file's order.
public struct StoredLayer: Sendable {
    public var name: String
    public var tensors: [StoredTensor]
}
