import Foundation
import ZooCore

/// `Preprocessing` as a flat dictionary of simple values, so that weight files (HDF5 attributes on
/// the root group) and code files can record it, and `init(record:)` can restore it.
///
/// | key                           | value                                                      |
/// |-------------------------------|------------------------------------------------------------|
/// | `preprocessing_preset`        | string: `caffe`, `torch`, `lenet`, `raw` or `custom`        |
/// | `preprocessing_channels`      | string: `rgb`, `bgr` or `grey`                              |
/// | `preprocessing_scale`         | double                                                     |
/// | `preprocessing_mean`          | doubles, one per channel                                   |
/// | `preprocessing_std`           | doubles, one per channel                                   |
/// | `preprocessing_height`        | int                                                        |
/// | `preprocessing_width`         | int                                                        |
/// | `preprocessing_resize`        | string: `shorter_side_then_centre_crop`, `exact`, `centred_field` |
/// | `preprocessing_shorter_side`  | int (with `shorter_side_then_centre_crop`)                  |
/// | `preprocessing_field`         | int (with `centred_field`)                                  |
/// | `preprocessing_ink`           | string: `light_on_dark` or `dark_on_light`                  |
///
/// Reading is lenient about types: a number may come as a string, ints as doubles and a list of
/// doubles as a comma-separated string, so that all-string attributes read back too.
extension Preprocessing {
    /// One value of the record.
    public enum RecordValue: Sendable, Equatable {
        case string(String)
        case int(Int)
        case double(Double)
        case doubles([Double])
    }

    static let recordPrefix = "preprocessing_"
    /// The record's keys without the `preprocessing_` prefix.
    public static let recordKeys = ["preset", "channels", "scale", "mean", "std", "height", "width",
                                    "resize", "shorter_side", "field", "ink"]

    /// Every setting, under the keys above.
    public var record: [String: RecordValue] {
        var r: [String: RecordValue] = [
            "preprocessing_preset": .string(preset),
            "preprocessing_channels": .string(order.rawValue),
            "preprocessing_scale": .double(Self.decimal(scale)),
            "preprocessing_mean": .doubles(mean.map(Self.decimal)),
            "preprocessing_std": .doubles(std.map(Self.decimal)),
            "preprocessing_height": .int(height),
            "preprocessing_width": .int(width),
            "preprocessing_ink": .string(ink.rawValue),
        ]
        switch geometry {
        case .shorterSideThenCentreCrop(let s):
            r["preprocessing_resize"] = .string("shorter_side_then_centre_crop"); r["preprocessing_shorter_side"] = .int(s)
        case .exact:
            r["preprocessing_resize"] = .string("exact")
        case .centredField(let f):
            r["preprocessing_resize"] = .string("centred_field"); r["preprocessing_field"] = .int(f)
        }
        return r
    }

    /// The record with every value as a string (lists comma-separated), for files whose
    /// attributes are strings.
    public var attributes: [String: String] {
        record.mapValues {
            switch $0 {
            case .string(let s): s
            case .int(let i): String(i)
            case .double(let d): String(d)
            case .doubles(let ds): ds.map { String($0) }.joined(separator: ",")
            }
        }
    }

    /// The preprocessing a record describes. A record naming a preset needs nothing else (the
    /// input size comes from `inputHeight`/`inputWidth` when the record has none); any other key
    /// present overrides the preset's value. A record without a preset (or `custom`) must give the
    /// channels, mean, std and size. Keys without the `preprocessing_` prefix, and unknown ones,
    /// are ignored.
    public init(record: [String: RecordValue], inputHeight: Int? = nil, inputWidth: Int? = nil) throws {
        let context = "the preprocessing record"
        func int(_ key: String) throws -> Int? { try record[Self.recordPrefix + key].map { try Self.int($0, key: key, context: context) } }
        let height = try int("height") ?? inputHeight, width = try int("width") ?? inputWidth
        guard let height, let width else {
            throw ZooError("\(context) has no preprocessing_height/preprocessing_width and no input size was given")
        }
        let name = try record[Self.recordPrefix + "preset"].map { try Self.string($0, key: "preset", context: context) } ?? "custom"
        if name == "custom" {
            for key in ["channels", "mean", "std"] where record[Self.recordPrefix + key] == nil {
                throw ZooError("\(context) names no preset and lacks preprocessing_\(key)")
            }
            self.init(preset: name, order: .rgb, mean: [], std: [], geometry: .exact, height: height, width: width)
        } else {
            self = try Preprocessing.preset(name, height: height, width: width)
        }
        try update(from: record.filter { Self.recordKeys.contains(String($0.key.dropFirst(Self.recordPrefix.count))) && $0.key.hasPrefix(Self.recordPrefix) },
                   context: context)
    }

    /// Reads back `attributes` (all values strings).
    public init(attributes: [String: String], inputHeight: Int? = nil, inputWidth: Int? = nil) throws {
        try self.init(record: attributes.mapValues { .string($0) }, inputHeight: inputHeight, inputWidth: inputWidth)
    }

    /// Overrides the settings `values` names (prefixed keys); unknown keys are errors.
    mutating func update(from values: [String: RecordValue], context: String) throws {
        for key in values.keys {
            let bare = String(key.dropFirst(Self.recordPrefix.count))
            guard key.hasPrefix(Self.recordPrefix), Self.recordKeys.contains(bare) else {
                throw ZooError("\(context): unknown setting `\(bare)`; known: \(Self.recordKeys.joined(separator: ", "))")
            }
        }
        func value(_ key: String) -> RecordValue? { values[Self.recordPrefix + key] }
        if let v = value("preset") { preset = try Self.string(v, key: "preset", context: context) }
        if let v = value("channels") {
            let s = try Self.string(v, key: "channels", context: context)
            guard let o = ChannelOrder(rawValue: s == "gray" ? "grey" : s) else {
                throw ZooError("\(context): channels `\(s)`; expected rgb, bgr or grey")
            }
            order = o
        }
        if let v = value("scale") { scale = Float(try Self.doubles(v, key: "scale", context: context, count: 1)[0]) }
        if let v = value("mean") { mean = try Self.doubles(v, key: "mean", context: context, count: nil).map(Float.init) }
        if let v = value("std") { std = try Self.doubles(v, key: "std", context: context, count: nil).map(Float.init) }
        if let v = value("height") { height = try Self.int(v, key: "height", context: context) }
        if let v = value("width") { width = try Self.int(v, key: "width", context: context) }
        if let v = value("ink") {
            let s = try Self.string(v, key: "ink", context: context)
            guard let i = Ink(rawValue: s) else { throw ZooError("\(context): ink `\(s)`; expected light_on_dark or dark_on_light") }
            ink = i
        }
        let side = try value("shorter_side").map { try Self.int($0, key: "shorter_side", context: context) }
        let field = try value("field").map { try Self.int($0, key: "field", context: context) }
        if let v = value("resize") {
            switch try Self.string(v, key: "resize", context: context) {
            case "shorter_side_then_centre_crop":
                geometry = .shorterSideThenCentreCrop(shorterSide: side ?? resize ?? Self.defaultShorterSide(height: height, width: width))
            case "exact": geometry = .exact
            case "centred_field": geometry = .centredField(field ?? self.field ?? min(28, height, width))
            case let other:
                throw ZooError("\(context): resize `\(other)`; expected shorter_side_then_centre_crop, exact or centred_field")
            }
        } else if let side {
            geometry = .shorterSideThenCentreCrop(shorterSide: side)
        } else if let field {
            geometry = .centredField(field)
        }
        if order == .grey, mean.count == 3, std.count == 3, value("mean") == nil {
            throw ZooError("\(context): grey input needs one mean and one std value (give preprocessing_mean and preprocessing_std)")
        }
        do { try validate() } catch { throw ZooError("\(context): \(error)") }
    }

    // MARK: lenient readers

    private static func string(_ v: RecordValue, key: String, context: String) throws -> String {
        if case .string(let s) = v { return s }
        throw ZooError("\(context): preprocessing_\(key) should be a string, found \(v)")
    }

    private static func int(_ v: RecordValue, key: String, context: String) throws -> Int {
        switch v {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: return Int(d)
        case .doubles(let ds) where ds.count == 1 && ds[0] == ds[0].rounded() && abs(ds[0]) < 1e15: return Int(ds[0])
        case .string(let s): if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return i }
        default: break
        }
        throw ZooError("\(context): preprocessing_\(key) should be an integer, found \(v)")
    }

    private static func doubles(_ v: RecordValue, key: String, context: String, count: Int?) throws -> [Double] {
        let values: [Double]?
        switch v {
        case .int(let i): values = [Double(i)]
        case .double(let d): values = [d]
        case .doubles(let ds): values = ds
        case .string(let s):
            let parsed = s.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            values = parsed.isEmpty || parsed.contains(nil) ? nil : parsed.map { $0! }
        }
        guard let values, count == nil || values.count == count else {
            throw ZooError("\(context): preprocessing_\(key) should be \(count == 1 ? "a number" : "a list of numbers"), found \(v)")
        }
        return values
    }

    /// The Double whose shortest decimal form is the Float's (103.939, not 103.93900299072266).
    static func decimal(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }
}
