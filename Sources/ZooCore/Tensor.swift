/// A batch of Float32 activations, contiguous, NCHW (or N×D for vectors), owning its storage.
///
/// `shape` is the full shape including the batch dimension: `[N, C, H, W]` or `[N, D]`.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public init(shape: [Int], repeating value: Float) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }
    public var batch: Int { shape.first ?? 1 }
    /// The shape of one sample (without the batch dimension).
    public var sampleShape: Shape { Shape(Array(shape.dropFirst())) }

    /// Element access by full index, for tests and small tools (not for kernels).
    public subscript(_ index: Int...) -> Float {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) does not match shape \(shape)")
        var o = 0
        for (i, n) in zip(index, shape) { o = o * n + i }
        return o
    }
}
