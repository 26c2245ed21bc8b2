/// The shape of one sample's activation: `[C, H, W]` for feature maps, `[N]` for vectors.
/// The batch dimension is never part of a `Shape`; it is given separately where it matters.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(channels: Int, height: Int, width: Int) { self.dims = [channels, height, width] }

    public var rank: Int { dims.count }
    public var isMap: Bool { dims.count == 3 }
    public var channels: Int { dims[0] }
    public var height: Int { dims.count == 3 ? dims[1] : 1 }
    public var width: Int { dims.count == 3 ? dims[2] : 1 }
    public var count: Int { dims.reduce(1, *) }

    /// `64×56×56` for maps (channels first, as NCHW), `4096` for vectors.
    public var description: String { dims.map(String.init).joined(separator: "×") }
}
