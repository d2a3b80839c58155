/// A piece of a program: text, a generation, a choice, an image, a role boundary, … (SGLang's IR, spec §1.3).
/// Expressions concatenate with `+`, and `s += expr` submits one to a program's state.
public struct Expr: Sendable, ExpressibleByStringInterpolation {
    var nodes: [Node]

    init(_ nodes: [Node]) { self.nodes = nodes }

    /// Constant text.
    public init(_ text: String) { nodes = [.text(text)] }

    public init(stringLiteral value: String) { nodes = [.text(value)] }

    /// Concatenation: `"Q: " + gen("a")`.
    public static func + (lhs: Expr, rhs: Expr) -> Expr { Expr(lhs.nodes + rhs.nodes) }
    public static func + (lhs: String, rhs: Expr) -> Expr { Expr([.text(lhs)] + rhs.nodes) }
    public static func + (lhs: Expr, rhs: String) -> Expr { Expr(lhs.nodes + [.text(rhs)]) }
}

/// One IR node.
enum Node: Sendable {
    case text(String)
    case gen(GenNode)
    case select(SelectNode)
    case image(ImageInput.Source)
    case roleBegin(String)
    case roleEnd(String)
    case varScopeBegin(String)
    case varScopeEnd(String)
    case commitLazy
    case concatenate([ProgramState])

    /// The variable the node creates (made pending when the node is submitted, so readers wait for it).
    var createdVariable: String? {
        switch self {
        case .gen(let g): return g.name
        case .select(let s): return s.name
        case .varScopeBegin(let n): return n
        default: return nil
        }
    }
}

struct GenNode: Sendable {
    var name: String?
    var overrides: SamplingOverrides
}

struct SelectNode: Sendable {
    var name: String?
    var choices: [String]
    var temperature: Double
    var method: ChoicesMethod
}
