#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a file: a read-only memory mapping (unmapped on deinit) or an owned in-memory copy.
/// Shared by every weight-file reader (GGUF here, safetensors in Models).
///
/// `@unchecked Sendable`: the bytes are never written after creation and the pointer lives exactly as long
/// as this object, so sharing it across threads is safe.
public final class MappedBytes: @unchecked Sendable {
    private enum Ownership {
        case mapped
        case allocated
        case empty
    }

    private let base: UnsafeRawPointer?
    /// The number of bytes.
    public let count: Int
    private let ownership: Ownership

    /// All the bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Maps the file at `path` read-only; an empty file gives zero bytes.
    /// - Throws: `GGUFError.cannotOpen` naming the path and the reason.
    public init(mapping path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw GGUFError.cannotOpen(path: path, reason: Self.errnoText())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw GGUFError.cannotOpen(path: path, reason: "fstat failed: \(Self.errnoText())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError.cannotOpen(path: path, reason: "not a regular file")
        }
        guard let size = Int(exactly: info.st_size), size > 0 else {
            // mmap cannot map zero bytes; an empty file is reported as truncated by the parser.
            base = nil
            count = 0
            ownership = .empty
            return
        }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw GGUFError.cannotOpen(path: path, reason: "mmap failed: \(Self.errnoText())")
        }
        base = UnsafeRawPointer(mapped)
        count = size
        ownership = .mapped
    }

    /// Copies `data` into memory owned by this object.
    public init(copying data: [UInt8]) {
        guard !data.isEmpty else {
            base = nil
            count = 0
            ownership = .empty
            return
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: data.count, alignment: 64)
        data.withUnsafeBytes { source in
            if let start = source.baseAddress { buffer.copyMemory(from: start, byteCount: source.count) }
        }
        base = UnsafeRawPointer(buffer)
        count = data.count
        ownership = .allocated
    }

    deinit {
        guard let base else { return }
        switch ownership {
        case .mapped: munmap(UnsafeMutableRawPointer(mutating: base), count)
        case .allocated: UnsafeMutableRawPointer(mutating: base).deallocate()
        case .empty: break
        }
    }

    private static func errnoText() -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return String(cString: text)
    }
}
