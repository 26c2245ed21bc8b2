import Foundation

/// NumPy's `.npy` format (versions 1–3), little-endian, C order: float32 and float64 (read as
/// Float32), written as float32. Enough to exchange tensors with any framework.
public enum NPY {
    public static func read(_ path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else { throw ZooError("\(path): cannot read the file") }
        return try decode(data, path: path)
    }

    public static func decode(_ data: Data, path: String = "<npy>") throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw ZooError("\(path): not a .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int, start: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw ZooError("\(path): truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12
        default: throw ZooError("\(path): .npy version \(major) is not supported")
        }
        guard bytes.count >= start + headerLength else { throw ZooError("\(path): truncated .npy header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = field("descr"), let order = field("fortran_order"), let shapeText = field("shape") else {
            throw ZooError("\(path): the .npy header lacks descr, fortran_order or shape: \(header)")
        }
        guard order.hasPrefix("False") else { throw ZooError("\(path): Fortran-ordered arrays are not supported; save with np.ascontiguousarray") }
        let type = descr.split(separator: "'").first.map(String.init) ?? ""
        guard let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")") else {
            throw ZooError("\(path): cannot read the shape in \(header)")
        }
        let shape = shapeText[shapeText.index(after: open)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let body = start + headerLength
        var values = [Float](repeating: 0, count: count)
        switch type {
        case "<f4", "|f4":
            guard bytes.count >= body + 4 * count else { throw ZooError("\(path): truncated: \(count) float32 values need \(4 * count) bytes") }
            values.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[body..<(body + 4 * count)])) } }
        case "<f8":
            guard bytes.count >= body + 8 * count else { throw ZooError("\(path): truncated: \(count) float64 values need \(8 * count) bytes") }
            bytes.withUnsafeBytes { src in
                for i in 0..<count { values[i] = Float(src.loadUnaligned(fromByteOffset: body + 8 * i, as: Double.self)) }
            }
        case "|u1", "<u1", "|i1", "<i1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8":
            // Integers (uint8 images, int64 labels), converted to Float32 exactly up to 2^24.
            let width = Int(type.dropFirst(2))!
            guard bytes.count >= body + width * count else { throw ZooError("\(path): truncated: \(count) values of \(type) need \(width * count) bytes") }
            let signed = type.dropFirst().hasPrefix("i")
            bytes.withUnsafeBytes { src in
                for i in 0..<count {
                    let at = body + width * i
                    switch (width, signed) {
                    case (1, false): values[i] = Float(src[at])
                    case (1, true): values[i] = Float(Int8(bitPattern: src[at]))
                    case (2, false): values[i] = Float(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
                    case (2, true): values[i] = Float(Int16(littleEndian: src.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                    case (4, false): values[i] = Float(UInt32(littleEndian: src.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                    case (4, true): values[i] = Float(Int32(littleEndian: src.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                    case (_, false): values[i] = Float(UInt64(littleEndian: src.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                    default: values[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: at, as: Int64.self)))
                    }
                }
            }
        default:
            throw ZooError("\(path): dtype \(type) is not supported (float32/float64 or integers, little-endian)")
        }
        return Tensor(shape: shape.isEmpty ? [1] : shape, data: values)
    }

    /// Encodes a tensor as a version-1 float32 `.npy`.
    public static func encode(_ tensor: Tensor) -> Data {
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.data.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Writes atomically (temporary file, then rename); refuses to replace a file unless `overwrite`.
    public static func write(_ tensor: Tensor, to path: String, overwrite: Bool = false) throws {
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw ZooError("\(path) exists; not overwriting it (use --force)")
        }
        do { try encode(tensor).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ZooError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
