import CHDF5

/// Reading and writing the small values attributes (and string/int datasets) hold, whatever
/// HDF5 type the writer chose: integers as Int, floats as Double, fixed-length and variable-length
/// strings as String.
enum HDF5Values {
    struct Failure: Error { var text: String }

    /// Reads the values of `type` over `space` through `read(memoryType, buffer)`.
    static func read(type: hid_t, space: hid_t, what: String, _ read: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> HDF5AttributeValue {
        let spaceClass = H5Sget_simple_extent_type(space)
        let scalar = spaceClass == H5S_SCALAR
        let count = spaceClass == H5S_NULL ? 0 : Int(H5Sget_simple_extent_npoints(space))
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: max(count, 1))
            if count > 0 {
                guard values.withUnsafeMutableBytes({ read(zoo_H5T_NATIVE_INT64(), $0.baseAddress!) }) >= 0 else {
                    throw Failure(text: "cannot read \(what)")
                }
            }
            let ints = values.prefix(count).map { Int($0) }
            return scalar ? .int(ints[0]) : .ints(ints)
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: max(count, 1))
            if count > 0 {
                guard values.withUnsafeMutableBytes({ read(zoo_H5T_NATIVE_DOUBLE(), $0.baseAddress!) }) >= 0 else {
                    throw Failure(text: "cannot read \(what)")
                }
            }
            let doubles = Array(values.prefix(count))
            return scalar ? .double(doubles[0]) : .doubles(doubles)
        case H5T_STRING:
            let strings = try readStrings(type: type, space: space, count: count, what: what, read)
            return scalar ? .string(strings.first ?? "") : .strings(strings)
        default:
            throw Failure(text: "\(what) has an HDF5 type Zoo does not read (class \(H5Tget_class(type).rawValue))")
        }
    }

    static func readStrings(type: hid_t, space: hid_t, count: Int, what: String,
                            _ read: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> [String] {
        guard count > 0 else { return [] }
        let memType = H5Tcopy(zoo_H5T_C_S1())
        defer { H5Tclose(memType) }
        H5Tset_cset(memType, H5Tget_cset(type))
        if H5Tis_variable_str(type) > 0 {
            H5Tset_size(memType, zoo_H5T_VARIABLE())
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let status = pointers.withUnsafeMutableBytes { read(memType, $0.baseAddress!) }
            guard status >= 0 else { throw Failure(text: "cannot read \(what) (variable-length strings)") }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = pointers.withUnsafeMutableBytes { H5Dvlen_reclaim(memType, space, zoo_H5P_DEFAULT(), $0.baseAddress!) }
            return strings
        }
        let size = H5Tget_size(type)
        H5Tset_size(memType, size)
        H5Tset_strpad(memType, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: size * count)
        guard bytes.withUnsafeMutableBytes({ read(memType, $0.baseAddress!) }) >= 0 else {
            throw Failure(text: "cannot read \(what) (fixed-length strings of \(size) bytes)")
        }
        return (0..<count).map { i in
            let chunk = bytes[(i * size)..<((i + 1) * size)]
            let end = chunk.firstIndex(of: 0) ?? chunk.endIndex
            return String(decoding: chunk[chunk.startIndex..<end], as: UTF8.self)
        }
    }

    typealias Writer = (hid_t, hid_t, UnsafeRawPointer) -> herr_t

    /// Creates an object with `create(fileType, space)` (returning its id, a writer and a closer) and
    /// writes `value` into it. Strings are written as variable-length UTF-8, as h5py does.
    static func write(_ value: HDF5AttributeValue,
                      create: (hid_t, hid_t) -> (hid_t, Writer, (hid_t) -> herr_t)?) throws {
        func space(_ count: Int?) -> hid_t {
            guard let count else { return H5Screate(H5S_SCALAR) }
            if count == 0 { return H5Screate(H5S_NULL) }
            var dims = [hsize_t(count)]
            return H5Screate_simple(1, &dims, nil)
        }
        func emit(_ type: hid_t, _ count: Int?, _ bytes: UnsafeRawPointer) throws {
            let s = space(count)
            defer { H5Sclose(s) }
            guard let (id, writer, close) = create(type, s) else { throw Failure(text: HDF5Library.errorStack()) }
            defer { _ = close(id) }
            if count != 0 { guard writer(id, type, bytes) >= 0 else { throw Failure(text: HDF5Library.errorStack()) } }
        }
        switch value {
        case .int(let i):
            var v = Int64(i)
            try withUnsafeBytes(of: &v) { try emit(zoo_H5T_NATIVE_INT64(), nil, $0.baseAddress!) }
        case .ints(let a):
            let v = a.map(Int64.init)
            try v.withUnsafeBytes { try emit(zoo_H5T_NATIVE_INT64(), a.count, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!) }
        case .double(let d):
            var v = d
            try withUnsafeBytes(of: &v) { try emit(zoo_H5T_NATIVE_DOUBLE(), nil, $0.baseAddress!) }
        case .doubles(let a):
            try a.withUnsafeBytes { try emit(zoo_H5T_NATIVE_DOUBLE(), a.count, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!) }
        case .string(let s):
            try writeStrings([s], scalar: true, emit)
        case .strings(let a):
            try writeStrings(a, scalar: false, emit)
        }
    }

    private static func writeStrings(_ strings: [String], scalar: Bool, _ emit: (hid_t, Int?, UnsafeRawPointer) throws -> Void) throws {
        try withVariableStrings(strings) { type, bytes in
            try emit(type, scalar ? nil : strings.count, bytes ?? UnsafeRawPointer(bitPattern: 1)!)
        }
    }

    /// Calls `body` with HDF5's variable-length UTF-8 string type and the strings as an array of C
    /// string pointers (the memory layout HDF5 writes them from); both are released afterwards.
    static func withVariableStrings<T>(_ strings: [String], _ body: (hid_t, UnsafeRawPointer?) throws -> T) rethrows -> T {
        let type = H5Tcopy(zoo_H5T_C_S1())
        defer { H5Tclose(type) }
        H5Tset_size(type, zoo_H5T_VARIABLE())
        H5Tset_cset(type, H5T_CSET_UTF8)
        let pointers = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return try pointers.withUnsafeBytes { try body(type, $0.baseAddress) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
