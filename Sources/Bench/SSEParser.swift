/// Splits a streamed `text/event-stream` body into its `data:` payloads as bytes arrive, however the
/// network cut them (mid-line, mid-UTF-8 character, `\r\n` split across reads).
///
/// Like SGLang's client it reads line by line: each `data:` line is one payload (`[DONE]` included);
/// blank lines, comments and other fields are skipped.
public struct SSEParser: Sendable {
    private var pending: [UInt8] = []

    /// An empty parser.
    public init() {}

    /// Consumes the next piece of the body and returns the payloads of the lines it completed.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [String] where Bytes.Element == UInt8 {
        var payloads: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if let payload = Self.payload(of: pending) { payloads.append(payload) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return payloads
    }

    /// The payload of an unterminated last line (a body that ended without a newline).
    public mutating func finish() -> [String] {
        defer { pending.removeAll() }
        return Self.payload(of: pending).map { [$0] } ?? []
    }

    private static func payload(of line: [UInt8]) -> String? {
        var text = Substring(String(decoding: line, as: UTF8.self))
        while let last = text.last, last == "\r" || last == " " || last == "\t" { text.removeLast() }
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        guard text.hasPrefix("data:") else { return nil }
        text = text.dropFirst(5)
        if text.first == " " { text.removeFirst() }
        return String(text)
    }
}
