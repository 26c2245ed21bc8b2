import Foundation
import ZooCore

/// The named presets.
///
/// | name    | order | values                                                       | geometry                        |
/// |---------|-------|--------------------------------------------------------------|---------------------------------|
/// | `caffe` | BGR   | v − (103.939, 116.779, 123.68)                                | shorter side S, centre crop     |
/// | `torch` | RGB   | (v/255 − (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)       | shorter side S, centre crop     |
/// | `lenet` | grey  | −0.1 + 1.275 · ink, ink = v/255 (or 1 − v/255, `darkOnLight`)  | 28×28 field centred in 32×32    |
/// | `raw`   | RGB   | v (0–255)                                                    | shorter side S, centre crop     |
///
/// S is 256 for 224×224 (VGG, ResNet, GoogLeNet) and 227×227 (AlexNet) inputs, else round(8/7 · the
/// larger input side). `caffe` is the Keras VGG/ResNet convention (`imagenet_utils.preprocess_input`
/// mode "caffe"), `torch` torchvision's, `lenet` LeNet-5 §II.B (background −0.1, foreground 1.175
/// "so that the mean input is roughly 0 and the variance roughly 1").
extension Preprocessing {
    /// The preset names.
    public static let presets = ["caffe", "torch", "lenet", "raw"]

    /// The named preset for a network input of `height × width`.
    ///
    /// `name` may carry overrides after commas, as a command-line flag would:
    /// `"torch,shorter_side=288"`, `"lenet,ink=dark_on_light"`, `"caffe,resize=exact"`; the keys
    /// are those of `record` without the `preprocessing_` prefix.
    public static func preset(_ name: String, height: Int, width: Int) throws -> Preprocessing {
        let parts = name.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var p = try named(parts[0], height: height, width: width)
        guard parts.count > 1 else { return p }
        var overrides: [String: RecordValue] = [:]
        for part in parts.dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[0].isEmpty else {
                throw ZooError("preprocessing `\(name)`: `\(part)` is not key=value (keys: \(Preprocessing.recordKeys.joined(separator: ", ")))")
            }
            overrides[recordPrefix + kv[0]] = .string(kv[1])
        }
        try p.update(from: overrides, context: "preprocessing `\(name)`")
        return p
    }

    /// The shorter side the ImageNet presets resize to for an input of `height × width`.
    public static func defaultShorterSide(height: Int, width: Int) -> Int {
        if height == width && (height == 224 || height == 227) { return 256 }
        return Int((Double(max(height, width)) * 8 / 7).rounded())
    }

    private static func named(_ name: String, height: Int, width: Int) throws -> Preprocessing {
        let crop = Geometry.shorterSideThenCentreCrop(shorterSide: defaultShorterSide(height: height, width: width))
        let p: Preprocessing
        switch name {
        case "caffe":
            p = Preprocessing(preset: name, order: .bgr, scale: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1],
                              geometry: crop, height: height, width: width)
        case "torch":
            p = Preprocessing(preset: name, order: .rgb, scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
                              geometry: crop, height: height, width: width)
        case "lenet":
            // −0.1 + 1.275 · v/255 = (v · 1.275/255 − 0.1) / 1.
            p = Preprocessing(preset: name, order: .grey, scale: 1.275 / 255, mean: [0.1], std: [1],
                              geometry: .centredField(min(28, height, width)), height: height, width: width)
        case "raw":
            p = Preprocessing(preset: name, order: .rgb, scale: 1, mean: [0, 0, 0], std: [1, 1, 1],
                              geometry: crop, height: height, width: width)
        default:
            throw ZooError("unknown preprocessing `\(name)`; Zoo knows \(presets.joined(separator: ", "))")
        }
        try p.validate()
        return p
    }
}
