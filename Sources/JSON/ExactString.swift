/// A String compared and hashed by its UTF-8 bytes. Swift's String equality is canonical equivalence
/// ("é" == "e\u{301}"), but vocabularies may hold both spellings as different tokens, as HF (byte
/// comparison) does; dictionaries keyed by `ExactString` keep them apart.
public struct ExactString: Hashable, Sendable {
    /// The string.
    public let value: String

    /// Wraps `value`.
    public init(_ value: String) {
        self.value = value
    }

    public static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.value.utf8.elementsEqual(rhs.value.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        var copy = value
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
