import CHDF5
import Foundation

/// A group or a dataset: something with a path and attributes.
public class HDF5Object: @unchecked Sendable {
    public let file: HDF5File
    /// The absolute path inside the file (`/layers/conv2d/vars/0`).
    public let path: String
    let id: hid_t

    init(file: HDF5File, id: hid_t, path: String) {
        self.file = file; self.id = id; self.path = path
    }

    func error(_ message: String, library: Bool = true) -> HDF5Error {
        HDF5Error(file: file.path, object: path, message, library: library ? HDF5Library.errorStack() : nil)
    }

    func childPath(_ name: String) -> String {
        name.hasPrefix("/") ? name : (path == "/" ? "/" + name : path + "/" + name)
    }

    // MARK: attributes

    /// The names of the object's attributes, in creation (or name) order.
    public func attributeNames() throws -> [String] {
        try HDF5Library.locked {
            var info = H5O_info_t()
            guard H5Oget_info2(id, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else { throw error("cannot read the attribute count") }
            var names: [String] = []
            for i in 0..<info.num_attrs {
                let length = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, zoo_H5P_DEFAULT())
                guard length >= 0 else { throw error("cannot read attribute \(i)'s name") }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, zoo_H5P_DEFAULT())
                names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            return names
        }
    }

    public func hasAttribute(_ name: String) -> Bool {
        HDF5Library.locked { H5Aexists(id, name) > 0 }
    }

    /// The attribute's value, or nil when the object has no such attribute.
    public func attribute(_ name: String) throws -> HDF5AttributeValue? {
        try HDF5Library.locked {
            guard H5Aexists(id, name) > 0 else { return nil }
            let attr = H5Aopen(id, name, zoo_H5P_DEFAULT())
            guard attr >= 0 else { throw error("cannot open attribute `\(name)`") }
            defer { H5Aclose(attr) }
            let type = H5Aget_type(attr), space = H5Aget_space(attr)
            defer { H5Tclose(type); H5Sclose(space) }
            do {
                return try HDF5Values.read(type: type, space: space, what: "attribute `\(name)`") { memType, buffer in
                    H5Aread(attr, memType, buffer)
                }
            } catch let message as HDF5Values.Failure {
                throw error(message.text)
            }
        }
    }

    /// Writes (or replaces) an attribute.
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue) throws {
        try HDF5Library.locked {
            if H5Aexists(id, name) > 0 { H5Adelete(id, name) }
            do {
                try HDF5Values.write(value) { type, space in
                    let attr = H5Acreate2(id, name, type, space, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT())
                    guard attr >= 0 else { return nil }
                    return (attr, { attr, memType, buffer in H5Awrite(attr, memType, buffer) }, { H5Aclose($0) })
                }
            } catch let message as HDF5Values.Failure {
                throw error("cannot write attribute `\(name)`: \(message.text)")
            }
        }
    }
}

/// An attribute's value as Keras, h5py and Zoo write them. Scalars and arrays are distinct cases
/// because Keras's `weight_names` may be an empty float64 array rather than strings.
public enum HDF5AttributeValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case ints([Int])
    case doubles([Double])
    case strings([String])

    /// The value as one text (a scalar string, or a one-element string array).
    public var string: String? {
        switch self {
        case .string(let s): return s
        case .strings(let a) where a.count == 1: return a[0]
        default: return nil
        }
    }

    /// The value as a list of texts (an empty numeric array counts as an empty list).
    public var strings: [String]? {
        switch self {
        case .string(let s): return [s]
        case .strings(let a): return a
        case .doubles(let a) where a.isEmpty: return []
        case .ints(let a) where a.isEmpty: return []
        default: return nil
        }
    }

    public var int: Int? {
        switch self {
        case .int(let i): return i
        case .ints(let a) where a.count == 1: return a[0]
        case .double(let d) where d == d.rounded(): return Int(d)
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .doubles(let a) where a.count == 1: return a[0]
        default: return nil
        }
    }

    public var doubles: [Double]? {
        switch self {
        case .doubles(let a): return a
        case .ints(let a): return a.map(Double.init)
        case .double(let d): return [d]
        case .int(let i): return [Double(i)]
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "\"\(s)\""
        case .ints(let a): return "[" + a.map(String.init).joined(separator: ", ") + "]"
        case .doubles(let a): return "[" + a.map { String($0) }.joined(separator: ", ") + "]"
        case .strings(let a): return "[" + a.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }
}
