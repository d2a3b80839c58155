/// A line and column (both 1-based) in a template's source.
public struct TemplateLocation: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// An error raised while compiling or rendering a template.
///
/// Every case carries a message and, where known, the position in the template that caused it.
public enum JinjaError: Error, Sendable, CustomStringConvertible {
    /// The template text is not valid Jinja (lexer or parser error).
    case syntax(String, TemplateLocation?)
    /// Rendering failed: a type error, an undefined value used where a value is needed, a bad argument.
    case runtime(String, TemplateLocation?)
    /// The template refused an operation the sandbox forbids (mutating methods, file access, ...).
    case security(String, TemplateLocation?)
    /// The template called `raise_exception(message)`; the payload is exactly the template's message.
    case raised(String, TemplateLocation?)
    /// A resource bound (output size, recursion depth, loop iterations) was exceeded.
    case limitExceeded(String, TemplateLocation?)

    /// The message without position information.
    public var message: String {
        switch self {
        case .syntax(let m, _), .runtime(let m, _), .security(let m, _), .raised(let m, _),
            .limitExceeded(let m, _):
            return m
        }
    }

    /// Where in the template the error happened, when known.
    public var location: TemplateLocation? {
        switch self {
        case .syntax(_, let l), .runtime(_, let l), .security(_, let l), .raised(_, let l),
            .limitExceeded(_, let l):
            return l
        }
    }

    /// The same error with `location` filled in when it had none.
    func located(_ loc: TemplateLocation) -> JinjaError {
        guard location == nil else { return self }
        switch self {
        case .syntax(let m, _): return .syntax(m, loc)
        case .runtime(let m, _): return .runtime(m, loc)
        case .security(let m, _): return .security(m, loc)
        case .raised(let m, _): return .raised(m, loc)
        case .limitExceeded(let m, _): return .limitExceeded(m, loc)
        }
    }

    public var description: String {
        let kind: String
        switch self {
        case .syntax: kind = "TemplateSyntaxError"
        case .runtime: kind = "TemplateRuntimeError"
        case .security: kind = "SecurityError"
        case .raised: kind = "TemplateError"
        case .limitExceeded: kind = "TemplateLimitError"
        }
        if let l = location { return "\(kind): \(message) (\(l))" }
        return "\(kind): \(message)"
    }
}
