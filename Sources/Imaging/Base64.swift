/// Base64 decoding for `image_data` strings: standard or URL-safe alphabet, whitespace ignored, padding optional.
public enum Base64 {
    static let table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = Int8(i) }
        t[Int(UInt8(ascii: "-"))] = 62
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    /// Decodes `text`; throws `invalidBase64` naming the first bad character or a bad length.
    public static func decode<S: StringProtocol>(_ text: S) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 4 * 3)
        var acc: UInt32 = 0, n = 0, padding = 0, index = 0
        for c in text.utf8 {
            defer { index += 1 }
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { continue }
            if c == UInt8(ascii: "=") { padding += 1; continue }
            let v = table[Int(c)]
            guard v >= 0, padding == 0 else {
                throw ImagingError.invalidBase64(padding > 0 ? "data after '=' padding" : "character \(Unicode.Scalar(c).escaped(asASCII: true)) at offset \(index)")
            }
            acc = acc << 6 | UInt32(v)
            n += 1
            if n == 4 {
                out.append(UInt8(acc >> 16)); out.append(UInt8(truncatingIfNeeded: acc >> 8)); out.append(UInt8(truncatingIfNeeded: acc))
                acc = 0; n = 0
            }
        }
        switch n {
        case 0: break
        case 2: out.append(UInt8(truncatingIfNeeded: acc >> 4))
        case 3: out.append(UInt8(truncatingIfNeeded: acc >> 10)); out.append(UInt8(truncatingIfNeeded: acc >> 2))
        default: throw ImagingError.invalidBase64("length leaves a single dangling character")
        }
        guard padding <= 2 else { throw ImagingError.invalidBase64("too much '=' padding") }
        return out
    }
}
