/// A program variable: one string, or, after a fork's `gatherVariable` join, one string per child.
public enum ProgramValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case list([String])

    /// The string (a gathered list reads as its elements joined with no separator).
    public var string: String {
        switch self {
        case .string(let s): return s
        case .list(let l): return l.joined()
        }
    }

    /// The elements (a single string is a one-element list).
    public var list: [String] {
        switch self {
        case .string(let s): return [s]
        case .list(let l): return l
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return s
        case .list(let l): return "\(l)"
        }
    }
}
