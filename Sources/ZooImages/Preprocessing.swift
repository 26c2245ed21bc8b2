import ZooCore

/// How an image becomes a network's input, recorded in weight files (`preprocessing_*`
/// attributes) and chosen automatically from them. Presets:
///
/// - `caffe`: BGR, 0–255, minus the ImageNet mean 103.939/116.779/123.68 (B, G, R) — the Keras
///   VGG and ResNet files.
/// - `torch`: RGB / 255, minus 0.485/0.456/0.406, divided by 0.229/0.224/0.225 — torchvision.
/// - `lenet`: grey, the image resized to 28×28 and centred in 32×32, then −0.1 for the
///   background and 1.175 for full ink (LeNet-5 §II.B): value = −0.1 + 1.275·ink with
///   ink = pixel/255 (light digits on dark, as MNIST; `invert` for dark on light).
/// - `raw`: RGB, 0–255 as is.
public struct Preprocessing: Sendable, Equatable {
    public enum ChannelOrder: String, Sendable { case rgb, bgr, grey }

    public var preset: String
    public var order: ChannelOrder
    /// Multiplies the 0–255 values first.
    public var scale: Float
    /// Subtracted after scaling, per channel in `order`.
    public var mean: [Float]
    /// Divides after the mean, per channel.
    public var std: [Float]
    /// Shorter side before the centre crop; nil: resize to exactly the input size.
    public var resize: Int?
    /// Output `height × width` (the network's input).
    public var height: Int
    public var width: Int
    /// LeNet: the field the digit is scaled into before padding to `width × height`.
    public var field: Int?
    /// LeNet: dark ink on a light background.
    public var invert: Bool = false

    public static let presets = ["caffe", "torch", "lenet", "raw"]

    /// The named preset for a network input of `height × width`. ImageNet presets resize the shorter
    /// side to 256 for a 224 or 227 input (8/7 of the input otherwise), then centre-crop.
    public static func preset(_ name: String, height: Int, width: Int) throws -> Preprocessing {
        let side = (height == 224 || height == 227) ? 256 : Int((Double(max(height, width)) * 8 / 7).rounded())
        switch name {
        case "caffe":
            return Preprocessing(preset: name, order: .bgr, scale: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1],
                                 resize: side, height: height, width: width)
        case "torch":
            return Preprocessing(preset: name, order: .rgb, scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
                                 resize: side, height: height, width: width)
        case "lenet":
            return Preprocessing(preset: name, order: .grey, scale: 1.275 / 255, mean: [0.1], std: [1],
                                 resize: nil, height: height, width: width, field: min(28, height))
        case "raw":
            return Preprocessing(preset: name, order: .rgb, scale: 1, mean: [0, 0, 0], std: [1, 1, 1], resize: side, height: height, width: width)
        default:
            throw ZooError("unknown preprocessing `\(name)`; Zoo knows \(presets.joined(separator: ", "))")
        }
    }

    public var channels: Int { order == .grey ? 1 : 3 }

    /// The image as one sample, `[C, H, W]` values in NCHW order.
    public func apply(_ image: Image) -> [Float] {
        var f = FloatImage(image).converted(toChannels: channels)
        if let field {
            f = f.resized(width: field, height: field)
            if invert { f.values = f.values.map { 255 - $0 } }
            // Centre the field in the input, background 0 (no ink).
            var padded = FloatImage(width: width, height: height, channels: 1, values: [Float](repeating: 0, count: width * height))
            let ox = (width - field) / 2, oy = (height - field) / 2
            for y in 0..<field { for x in 0..<field { padded.values[(y + oy) * width + x + ox] = f.values[y * field + x] } }
            f = padded
        } else if let resize {
            f = f.resizedAndCentreCropped(shorterSide: resize, crop: height)
            if f.width != width { f = f.resized(width: width, height: height) }
        } else {
            f = f.resized(width: width, height: height)
        }
        let area = width * height
        var out = [Float](repeating: 0, count: channels * area)
        for c in 0..<channels {
            let source = order == .bgr ? 2 - c : c
            for i in 0..<area { out[c * area + i] = (f.values[i * channels + source] * scale - mean[c]) / std[c] }
        }
        return out
    }

    /// Images stacked into a batch `[N, C, H, W]`.
    public func batch(_ images: [Image]) -> Tensor {
        var data: [Float] = []
        data.reserveCapacity(images.count * channels * width * height)
        for image in images { data += apply(image) }
        return Tensor(shape: [images.count, channels, height, width], data: data)
    }

    /// The record written into weight files and code files.
    public var attributes: [String: String] {
        ["preprocessing_preset": preset, "preprocessing_order": order.rawValue, "preprocessing_scale": String(scale),
         "preprocessing_mean": mean.map { String($0) }.joined(separator: ","), "preprocessing_std": std.map { String($0) }.joined(separator: ","),
         "preprocessing_resize": resize.map(String.init) ?? "exact", "preprocessing_size": "\(height)x\(width)"]
    }
}
