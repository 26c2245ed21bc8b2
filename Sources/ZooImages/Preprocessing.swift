import ZooCore

/// How an image becomes a network's input: channels, geometry and value normalisation.
///
/// `apply(to:)` does, in this order:
/// 1. channels: the decoded image converted to grey, RGB or BGR (`order`; see
///    `FloatImage.converted(toChannels:)`); for `ink == .darkOnLight`, v → 255 − v;
/// 2. geometry (`geometry`), in Float, no rounding to 8 bits: shorter side to S and the centred
///    `width × height` window, or exactly `width × height`, or fitted into a square field centred in
///    `width × height` with value 0 around it;
/// 3. values: out = (v · `scale` − `mean[c]`) / `std[c]` per channel c in `order`.
///
/// Weight files record it (`record`, `init(record:)`) so that the right preprocessing is chosen
/// from the file; the named presets are in `Preprocessing.preset(_:height:width:)`.
public struct Preprocessing: Sendable, Equatable {
    /// The channel order of the network's input.
    public enum ChannelOrder: String, Sendable, Equatable, CaseIterable { case rgb, bgr, grey }

    /// How the image is brought to the input size.
    public enum Geometry: Sendable, Equatable {
        /// Shorter side to `shorterSide` (aspect ratio kept), then the centred window of the input
        /// size: torchvision's `Resize(S)` + `CenterCrop(C)`.
        case shorterSideThenCentreCrop(shorterSide: Int)
        /// Straight to the input size; the aspect ratio is not kept.
        case exact
        /// Longer side to `field` (aspect ratio kept), centred in the input size, 0 (before
        /// normalisation) around it: LeNet-5's 28×28 field in a 32×32 input.
        case centredField(Int)
    }

    /// Which pixels are the foreground, for grey digit-like inputs.
    public enum Ink: String, Sendable, Equatable, CaseIterable {
        /// Light strokes on a dark background, as MNIST: ink = v / 255.
        case lightOnDark = "light_on_dark"
        /// Dark strokes on a light background (ink on paper): ink = 1 − v / 255.
        case darkOnLight = "dark_on_light"
    }

    /// The preset this started from (`caffe`, `torch`, `lenet`, `raw`), or `custom`.
    public var preset: String
    public var order: ChannelOrder
    /// Multiplies the 0–255 values first.
    public var scale: Float
    /// Subtracted after scaling, one per channel in `order`.
    public var mean: [Float]
    /// Divides after the mean, one per channel in `order`.
    public var std: [Float]
    public var geometry: Geometry
    /// The network's input size.
    public var height: Int
    public var width: Int
    /// Which way round the image's values are taken (`darkOnLight` inverts them first).
    public var ink: Ink

    public init(preset: String = "custom", order: ChannelOrder, scale: Float = 1, mean: [Float], std: [Float],
                geometry: Geometry, height: Int, width: Int, ink: Ink = .lightOnDark) {
        self.preset = preset; self.order = order; self.scale = scale; self.mean = mean; self.std = std
        self.geometry = geometry; self.height = height; self.width = width; self.ink = ink
    }

    /// 1 for grey, 3 for RGB and BGR.
    public var channels: Int { order == .grey ? 1 : 3 }

    /// The shorter side before the centre crop; nil for the other geometries. Setting nil
    /// means `.exact`.
    public var resize: Int? {
        get { if case .shorterSideThenCentreCrop(let s) = geometry { s } else { nil } }
        set { geometry = newValue.map { .shorterSideThenCentreCrop(shorterSide: $0) } ?? .exact }
    }

    /// The centred field (`.centredField`), or nil. Setting nil means `.exact`.
    public var field: Int? {
        get { if case .centredField(let f) = geometry { f } else { nil } }
        set { geometry = newValue.map { .centredField($0) } ?? .exact }
    }

    /// `ink == .darkOnLight`.
    public var invert: Bool {
        get { ink == .darkOnLight }
        set { ink = newValue ? .darkOnLight : .lightOnDark }
    }

    /// Throws unless the settings are consistent (channel counts, positive sizes and std).
    public func validate() throws {
        func fail(_ what: String) -> ZooError { ZooError("preprocessing `\(preset)`: \(what)") }
        guard height > 0, width > 0 else { throw fail("the input size \(height)×\(width) must be positive") }
        guard mean.count == channels, std.count == channels else {
            throw fail("\(order.rawValue) has \(channels) channel(s) but mean has \(mean.count) and std \(std.count) values")
        }
        guard std.allSatisfy({ $0 != 0 && $0.isFinite }), mean.allSatisfy(\.isFinite), scale.isFinite else {
            throw fail("std must be non-zero and every value finite (mean \(mean), std \(std), scale \(scale))")
        }
        switch geometry {
        case .shorterSideThenCentreCrop(let s) where s <= 0: throw fail("the shorter side \(s) must be positive")
        case .centredField(let f) where f <= 0 || f > min(height, width):
            throw fail("the field \(f) must fit the \(height)×\(width) input")
        default: break
        }
    }

    /// The image as one sample `[1, C, H, W]` (NCHW, Float32).
    public func apply(to image: Image) -> Tensor {
        Tensor(shape: [1, channels, height, width], data: apply(image))
    }

    /// The image as one sample's `C × H × W` values in NCHW order (what `apply(to:)` wraps).
    public func apply(_ image: Image) -> [Float] {
        var f = FloatImage(image).converted(toChannels: channels)
        if ink == .darkOnLight { f.values = f.values.map { 255 - $0 } }
        switch geometry {
        case .shorterSideThenCentreCrop(let side):
            f = f.resizedAndCentreCropped(shorterSide: side, cropWidth: width, cropHeight: height)
        case .exact:
            f = f.resized(width: width, height: height)
        case .centredField(let field):
            f = f.fitted(into: field, centredIn: width, height, background: 0)
        }
        let area = width * height, c = channels
        var out = [Float](repeating: 0, count: c * area)
        f.values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for k in 0..<c {
                    let source = order == .bgr ? 2 - k : k
                    let m = mean[k], s = std[k], sc = scale
                    for i in 0..<area { o[k * area + i] = (v[i * c + source] * sc - m) / s }
                }
            }
        }
        return out
    }

    /// Images stacked into a batch `[N, C, H, W]` (each image may have its own size and channels).
    public func batch(_ images: [Image]) -> Tensor {
        var data: [Float] = []
        data.reserveCapacity(images.count * channels * width * height)
        for image in images { data += apply(image) }
        return Tensor(shape: [images.count, channels, height, width], data: data)
    }
}
