/// A String compared and hashed by its UTF-8 bytes. Swift's String equality is canonical equivalence
/// ("é" == "e\u{301}"), but vocabularies may hold both spellings as different tokens, as HF (byte
/// comparison) does; dictionaries keyed by `ExactString` keep them apart.
struct ExactString: Hashable, Sendable {
    let value: String

    init(_ value: String) {
        self.value = value
    }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.value.utf8.elementsEqual(rhs.value.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var copy = value
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
