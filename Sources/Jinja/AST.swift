/// Arguments of a call, filter or test: `f(a, b, key=c, *rest, **more)`.
struct CallArguments: Sendable {
    var positional: [Expr] = []
    var keyword: [(name: String, value: Expr)] = []
    var star: Expr? = nil
    var doubleStar: Expr? = nil
}

/// An expression node with the position of its first token.
struct Expr: Sendable {
    let kind: Kind
    let location: TemplateLocation

    indirect enum Kind: Sendable {
        case literal(Value)
        case name(String)
        case list([Expr])
        case tuple([Expr])
        case dict([(key: Expr, value: Expr)])
        case attribute(Expr, String)
        case item(Expr, Expr)
        case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
        case call(Expr, CallArguments)
        /// `operand | name(args)`; the operand is nil inside `{% filter %}` blocks (the body is the input).
        case filter(Expr?, String, CallArguments)
        case test(Expr, String, CallArguments, negated: Bool)
        /// `-x`, `+x`, `not x`.
        case unary(String, Expr)
        /// `+ - * / // % **`.
        case binary(String, Expr, Expr)
        case and(Expr, Expr)
        case or(Expr, Expr)
        /// Python-style chained comparison: `a < b <= c`, `x in y`, `x not in y`.
        case compare(Expr, [(op: String, operand: Expr)])
        /// `a ~ b ~ c`.
        case concat([Expr])
        /// `then if test else otherwise`; a missing `else` yields undefined.
        case conditional(test: Expr, then: Expr, otherwise: Expr?)
    }
}

/// The left side of an assignment or loop variable list.
indirect enum AssignTarget: Sendable {
    case name(String)
    case tuple([AssignTarget])
    /// `ns.attr` (only namespaces accept attribute assignment).
    case attribute(String, String)
}

/// `{% for target in iterable [if condition] [recursive] %}...{% else %}...{% endfor %}`.
struct ForStatement: Sendable {
    let target: AssignTarget
    let iterable: Expr
    let condition: Expr?
    let body: [Statement]
    let elseBody: [Statement]
    let recursive: Bool
    let location: TemplateLocation
}

/// A statement (or literal text) with its position.
struct Statement: Sendable {
    let kind: Kind
    let location: TemplateLocation

    indirect enum Kind: Sendable {
        case text(String)
        case output(Expr)
        case ifChain([(condition: Expr, body: [Statement])], otherwise: [Statement])
        case forLoop(ForStatement)
        case set(AssignTarget, Expr)
        /// `{% set x | filters %}body{% endset %}`; the filter chain has a nil operand.
        case setBlock(AssignTarget, filter: Expr?, body: [Statement])
        /// `usesVarargs`/`usesKwargs`: the body mentions `varargs`/`kwargs`, so extra arguments are accepted.
        case macro(
            name: String, parameters: [(name: String, defaultValue: Expr?)], body: [Statement], usesVarargs: Bool,
            usesKwargs: Bool)
        /// `{% call(params) macro(args) %}body{% endcall %}`.
        case callBlock(call: Expr, parameters: [(name: String, defaultValue: Expr?)], body: [Statement])
        case filterBlock(Expr, body: [Statement])
        case with(assignments: [(AssignTarget, Expr)], body: [Statement])
        /// Statements rendered in place (`generation`, `block`, `autoescape`).
        case group([Statement])
        case breakLoop
        case continueLoop
        /// `include`/`import`/`extends`: templates cannot load other templates in this sandbox.
        case forbidden(String)
    }
}
