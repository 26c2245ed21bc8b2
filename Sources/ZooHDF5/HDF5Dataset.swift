import CHDF5

/// A dataset: an n-dimensional array of one element type.
public final class HDF5Dataset: HDF5Object, @unchecked Sendable {
    public enum ElementType: Sendable, Equatable, CustomStringConvertible {
        case float(bits: Int)
        case integer(bits: Int, signed: Bool)
        case string
        case other(String)

        public var isNumeric: Bool {
            switch self {
            case .float, .integer: return true
            default: return false
            }
        }

        public var description: String {
            switch self {
            case .float(let b): return "float\(b)"
            case .integer(let b, let s): return (s ? "int" : "uint") + String(b)
            case .string: return "string"
            case .other(let d): return d
            }
        }
    }

    init(file: HDF5File, parent: hid_t, name: String, path: String) throws {
        let id = try HDF5Library.locked {
            let id = H5Dopen2(parent, name, zoo_H5P_DEFAULT())
            guard id >= 0 else { throw HDF5Error(file: file.path, object: path, "cannot open the dataset", library: HDF5Library.errorStack()) }
            return id
        }
        super.init(file: file, id: id, path: path)
    }

    override init(file: HDF5File, id: hid_t, path: String) { super.init(file: file, id: id, path: path) }

    deinit { _ = HDF5Library.locked { H5Dclose(id) } }

    /// The dimensions (empty for a scalar).
    public var shape: [Int] {
        HDF5Library.locked {
            let space = H5Dget_space(id)
            defer { H5Sclose(space) }
            let rank = Int(H5Sget_simple_extent_ndims(space))
            guard rank > 0 else { return [] }
            var dims = [hsize_t](repeating: 0, count: rank)
            H5Sget_simple_extent_dims(space, &dims, nil)
            return dims.map { Int($0) }
        }
    }

    public var count: Int { shape.reduce(1, *) }

    public var elementType: ElementType {
        HDF5Library.locked {
            let type = H5Dget_type(id)
            defer { H5Tclose(type) }
            let bits = Int(H5Tget_size(type)) * 8
            switch H5Tget_class(type) {
            case H5T_FLOAT: return .float(bits: bits)
            case H5T_INTEGER: return .integer(bits: bits, signed: H5Tget_sign(type) != H5T_SGN_NONE)
            case H5T_STRING: return .string
            case H5T_COMPOUND: return .other("compound")
            case H5T_ENUM: return .other("enum")
            default: return .other("class \(H5Tget_class(type).rawValue)")
            }
        }
    }

    /// Reads the whole dataset into `buffer` as Float32 (HDF5 converts float64 and integers);
    /// `buffer.count` must equal the dataset's element count.
    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws {
        let type = elementType
        guard type.isNumeric else { throw HDF5Error(file: file.path, object: path, "holds \(type) values, not numbers") }
        let expected = count
        guard buffer.count == expected else {
            throw HDF5Error(file: file.path, object: path, "has \(expected) values (shape \(shape)), the buffer \(buffer.count)")
        }
        guard expected > 0 else { return }
        try HDF5Library.locked {
            guard H5Dread(id, zoo_H5T_NATIVE_FLOAT(), zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), buffer.baseAddress) >= 0 else {
                throw error("cannot read the data")
            }
        }
    }

    public func readFloats() throws -> [Float] {
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { try read(into: $0) }
        return values
    }

    public func readInts() throws -> [Int] {
        guard case .integer = elementType else {
            throw HDF5Error(file: file.path, object: path, "holds \(elementType) values, not integers")
        }
        var values = [Int64](repeating: 0, count: count)
        guard !values.isEmpty else { return [] }
        try HDF5Library.locked {
            guard values.withUnsafeMutableBytes({ H5Dread(id, zoo_H5T_NATIVE_INT64(), zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), $0.baseAddress) }) >= 0 else {
                throw error("cannot read the data")
            }
        }
        return values.map { Int($0) }
    }

    public func readStrings() throws -> [String] {
        guard elementType == .string else {
            throw HDF5Error(file: file.path, object: path, "holds \(elementType) values, not strings")
        }
        return try HDF5Library.locked {
            let type = H5Dget_type(id), space = H5Dget_space(id)
            defer { H5Tclose(type); H5Sclose(space) }
            do {
                return try HDF5Values.readStrings(type: type, space: space, count: count, what: "the dataset") { mem, buffer in
                    H5Dread(id, mem, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), buffer)
                }
            } catch let failure as HDF5Values.Failure {
                throw error(failure.text)
            }
        }
    }

    /// Sets the first dimension of a chunked dataset (shrinking drops the rows past `rows`).
    public func setRows(_ rows: Int) throws {
        var dims = shape.map { hsize_t($0) }
        guard !dims.isEmpty else { throw HDF5Error(file: file.path, object: path, "a scalar has no rows") }
        dims[0] = hsize_t(rows)
        try HDF5Library.locked {
            guard H5Dset_extent(id, &dims) >= 0 else { throw error("cannot resize the dataset (is it chunked?)") }
        }
    }

    /// Appends rows along the first dimension of a chunked float32 dataset (`rows` holds whole rows).
    public func append(rows: [Float]) throws {
        var dims = shape.map { hsize_t($0) }
        let rowSize = dims.dropFirst().reduce(1) { $0 * Int($1) }
        guard !dims.isEmpty, rowSize > 0, rows.count % rowSize == 0 else {
            throw HDF5Error(file: file.path, object: path, "\(rows.count) values are not whole rows of \(rowSize)")
        }
        try append(bytes: rows, count: rows.count / rowSize, type: zoo_H5T_NATIVE_FLOAT(), dims: &dims)
    }

    /// Appends integers to a chunked one-dimensional integer dataset.
    public func append(ints: [Int]) throws {
        var dims = shape.map { hsize_t($0) }
        try append(bytes: ints.map(Int64.init), count: ints.count, type: zoo_H5T_NATIVE_INT64(), dims: &dims)
    }

    /// Appends strings to a chunked one-dimensional string dataset.
    public func append(strings: [String]) throws {
        var dims = shape.map { hsize_t($0) }
        try HDF5Library.locked {
            try HDF5Values.withVariableStrings(strings) { type, bytes in
                try append(raw: bytes, count: strings.count, type: type, dims: &dims)
            }
        }
    }

    private func append<T>(bytes: [T], count: Int, type: hid_t, dims: inout [hsize_t]) throws {
        try bytes.withUnsafeBytes { try append(raw: $0.baseAddress, count: count, type: type, dims: &dims) }
    }

    private func append(raw bytes: UnsafeRawPointer?, count: Int, type: hid_t, dims: inout [hsize_t]) throws {
        guard count > 0 else { return }
        try HDF5Library.locked {
            let start = dims[0]
            dims[0] += hsize_t(count)
            guard H5Dset_extent(id, &dims) >= 0 else { throw error("cannot grow the dataset (is it chunked?)") }
            let fileSpace = H5Dget_space(id)
            defer { H5Sclose(fileSpace) }
            var offset = [hsize_t](repeating: 0, count: dims.count)
            offset[0] = start
            var extent = dims
            extent[0] = hsize_t(count)
            H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &offset, nil, &extent, nil)
            let memSpace = H5Screate_simple(Int32(extent.count), &extent, nil)
            defer { H5Sclose(memSpace) }
            let status = H5Dwrite(id, type, memSpace, fileSpace, zoo_H5P_DEFAULT(), bytes)
            guard status >= 0 else { throw error("cannot write the appended rows") }
        }
    }
}
