/// A network with its parameters: `parameters[layerName][parameterName]` in the engine's layout
/// (see `ParameterSpec`). Creating a `Model` checks that every tensor the network needs is present
/// with the right shape, and that nothing is left over.
public struct Model: Sendable {
    public let network: Network
    public let parameters: [String: [String: Tensor]]
    /// The inferred per-layer figures (shapes, parameter specs) for `network.input`.
    public let layerInfos: [LayerInfo]

    public init(network: Network, parameters: [String: [String: Tensor]]) throws {
        let infos = try network.infer()
        for info in infos {
            let given = parameters[info.name] ?? [:]
            for spec in info.parameters {
                guard let tensor = given[spec.name] else {
                    throw ZooError("missing parameter `\(spec.name)` \(spec.shape)", layer: info.name)
                }
                guard tensor.shape == spec.shape else {
                    throw ZooError("parameter `\(spec.name)` has shape \(tensor.shape), expected \(spec.shape)", layer: info.name)
                }
            }
            let extra = Set(given.keys).subtracting(info.parameters.map(\.name))
            if let name = extra.sorted().first {
                throw ZooError("unexpected parameter `\(name)`; this \(info.layer.kind.typeName) layer has \(info.parameters.map(\.name))", layer: info.name)
            }
        }
        let known = Set(infos.map(\.name))
        if let stray = parameters.keys.filter({ !known.contains($0) }).sorted().first {
            throw ZooError("parameters given for `\(stray)`, which is not a layer of `\(network.name)`")
        }
        self.network = network
        self.parameters = parameters
        self.layerInfos = infos
    }
}
