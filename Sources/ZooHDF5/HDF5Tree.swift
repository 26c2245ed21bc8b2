/// A description of a whole file (for `zoo weights inspect`): every group and dataset, with shapes,
/// element types and attributes, in storage order.
public struct HDF5Node: Sendable {
    public enum Kind: Sendable, Equatable { case group, dataset(shape: [Int], type: String), other }
    public var path: String
    public var kind: Kind
    public var attributes: [(name: String, value: HDF5AttributeValue)]
    public var children: [HDF5Node]

    /// Float values held by all datasets below (and including) this node.
    public var valueCount: Int {
        var n = 0
        if case .dataset(let shape, _) = kind { n = shape.reduce(1, *) }
        return n + children.reduce(0) { $0 + $1.valueCount }
    }
}

extension HDF5Group {
    /// Walks the group recursively.
    public func tree() throws -> HDF5Node {
        var node = HDF5Node(path: path, kind: .group, attributes: try attributeList(), children: [])
        for name in try members() {
            switch kind(of: name) {
            case .group?: node.children.append(try group(name).tree())
            case .dataset?:
                let d = try dataset(name)
                node.children.append(HDF5Node(path: d.path, kind: .dataset(shape: d.shape, type: d.elementType.description),
                                              attributes: try d.attributeList(), children: []))
            default:
                node.children.append(HDF5Node(path: childPath(name), kind: .other, attributes: [], children: []))
            }
        }
        return node
    }
}

extension HDF5Object {
    func attributeList() throws -> [(name: String, value: HDF5AttributeValue)] {
        try attributeNames().compactMap { name in try attribute(name).map { (name, $0) } }
    }
}
