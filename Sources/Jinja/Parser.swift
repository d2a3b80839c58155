/// Builds the statement tree from tokens, following jinja2's grammar and operator precedence.
struct Parser {
    private let tokens: [Token]
    private var index = 0
    private var depth = 0
    private var loopDepth = 0
    /// For each macro being parsed: whether its body mentions `varargs` / `kwargs`.
    private var macroUsage: [(varargs: Bool, kwargs: Bool)] = []

    /// Deepest nesting of expressions and blocks; deeper input is rejected instead of exhausting the stack.
    static let maxDepth = 200

    init(tokens: [Token]) {
        self.tokens = tokens
    }

    static func parse(_ source: String) throws -> [Statement] {
        var p = Parser(tokens: try Lexer.tokenize(source))
        let body = try p.subparse(endTags: [])
        return body
    }

    // MARK: - Token helpers

    private var current: Token { tokens[min(index, tokens.count - 1)] }
    private func peek(_ k: Int = 1) -> Token { tokens[min(index + k, tokens.count - 1)] }
    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func isOp(_ op: String, _ t: Token? = nil) -> Bool {
        if case .op(let o) = (t ?? current).kind { return o == op }
        return false
    }

    private func isName(_ name: String, _ t: Token? = nil) -> Bool {
        if case .name(let n) = (t ?? current).kind { return n == name }
        return false
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .data: return "template data"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name(let n): return n
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let o): return o
        case .eof: return "end of template"
        }
    }

    private func fail(_ message: String, _ t: Token? = nil) -> JinjaError {
        .syntax(message, (t ?? current).location)
    }

    private mutating func expectOp(_ op: String) throws {
        guard isOp(op) else { throw fail("expected token '\(op)', got '\(describe(current))'") }
        advance()
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else {
            throw fail("expected token 'name', got '\(describe(current))'")
        }
        advance()
        return n
    }

    private mutating func expectBlockEnd() throws {
        guard case .blockEnd = current.kind else {
            throw fail("expected token 'end of statement block', got '\(describe(current))'")
        }
        advance()
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Parser.maxDepth {
            throw JinjaError.limitExceeded("template nesting is deeper than \(Parser.maxDepth) levels", current.location)
        }
    }

    private mutating func leave() { depth -= 1 }

    // MARK: - Statements

    /// Parses until one of `endTags` opens a block (left unconsumed: `current` is that tag's name).
    private mutating func subparse(endTags: Set<String>) throws -> [Statement] {
        try enter()
        defer { leave() }
        var body: [Statement] = []
        while true {
            let t = current
            switch t.kind {
            case .data(let s):
                body.append(Statement(kind: .text(s), location: t.location))
                advance()
            case .variableBegin:
                advance()
                let e = try parseTuple()
                guard case .variableEnd = current.kind else {
                    throw fail("expected token 'end of print statement', got '\(describe(current))'")
                }
                advance()
                body.append(Statement(kind: .output(e), location: t.location))
            case .blockBegin:
                advance()
                if case .name(let n) = current.kind, endTags.contains(n) { return body }
                if case .name(let n) = current.kind, n.hasPrefix("end") || n == "else" || n == "elif" {
                    if endTags.isEmpty {
                        throw fail("Encountered unknown tag '\(n)'.")
                    }
                    let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw fail("Encountered unknown tag '\(n)'. Jinja was looking for the following tags: \(expected).")
                }
                body.append(try parseStatement())
            case .eof:
                if endTags.isEmpty { return body }
                let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                throw fail("Unexpected end of template. Jinja was looking for the following tags: \(expected).")
            default:
                throw fail("unexpected '\(describe(t))'")
            }
        }
    }

    /// Parses the body of a block up to `{% endTag %}` and consumes the end tag.
    private mutating func parseBody(until endTag: String, allowName: Bool = false) throws -> [Statement] {
        let body = try subparse(endTags: [endTag])
        advance()  // the end tag's name
        if allowName, case .name = current.kind { advance() }
        try expectBlockEnd()
        return body
    }

    private mutating func parseStatement() throws -> Statement {
        let t = current
        guard case .name(let keyword) = t.kind else { throw fail("tag name expected") }
        advance()
        let kind: Statement.Kind
        switch keyword {
        case "if": kind = try parseIf()
        case "for": kind = .forLoop(try parseFor(t.location))
        case "set": kind = try parseSet()
        case "macro": kind = try parseMacro()
        case "call": kind = try parseCallBlock()
        case "filter":
            let f = try parseFilter(nil, startInline: true)
            try expectBlockEnd()
            kind = .filterBlock(f, body: try parseBody(until: "endfilter"))
        case "with": kind = try parseWith()
        case "print":
            let e = try parseTuple()
            try expectBlockEnd()
            kind = .output(e)
        case "break", "continue":
            guard loopDepth > 0 else { throw fail("'\(keyword)' is only allowed inside a loop", t) }
            try expectBlockEnd()
            kind = keyword == "break" ? .breakLoop : .continueLoop
        case "generation":
            // transformers' AssistantTracker: renders its body unchanged.
            try expectBlockEnd()
            kind = .group(try parseBody(until: "endgeneration"))
        case "block":
            _ = try expectName()
            while isName("scoped") || isName("required") { advance() }
            try expectBlockEnd()
            kind = .group(try parseBody(until: "endblock", allowName: true))
        case "autoescape":
            _ = try parseExpression()
            try expectBlockEnd()
            kind = .group(try parseBody(until: "endautoescape"))
        case "include", "import", "from", "extends":
            while true {
                if case .blockEnd = current.kind { break }
                if case .eof = current.kind { throw fail("unexpected end of template") }
                advance()
            }
            try expectBlockEnd()
            kind = .forbidden("'\(keyword)' is not available: templates cannot load other templates here")
        default:
            throw fail("Encountered unknown tag '\(keyword)'.", t)
        }
        return Statement(kind: kind, location: t.location)
    }

    private mutating func parseIf() throws -> Statement.Kind {
        var branches: [(condition: Expr, body: [Statement])] = []
        var condition = try parseTuple(withCondexpr: false)
        try expectBlockEnd()
        while true {
            let body = try subparse(endTags: ["elif", "else", "endif"])
            let tag = current
            advance()
            branches.append((condition, body))
            if isName("elif", tag) {
                condition = try parseTuple(withCondexpr: false)
                try expectBlockEnd()
                continue
            }
            if isName("else", tag) {
                try expectBlockEnd()
                let otherwise = try parseBody(until: "endif")
                return .ifChain(branches, otherwise: otherwise)
            }
            try expectBlockEnd()
            return .ifChain(branches, otherwise: [])
        }
    }

    private mutating func parseFor(_ location: TemplateLocation) throws -> ForStatement {
        let target = try parseAssignTarget(endNames: ["in"], allowNamespace: false)
        guard isName("in") else { throw fail("expected token 'in', got '\(describe(current))'") }
        advance()
        let iterable = try parseTuple(withCondexpr: false, endNames: ["recursive"])
        var condition: Expr? = nil
        if isName("if") {
            advance()
            condition = try parseExpression()
        }
        var recursive = false
        if isName("recursive") {
            advance()
            recursive = true
        }
        try expectBlockEnd()
        loopDepth += 1
        let body = try subparse(endTags: ["endfor", "else"])
        loopDepth -= 1
        var elseBody: [Statement] = []
        if isName("else") {
            advance()
            try expectBlockEnd()
            elseBody = try parseBody(until: "endfor")
        } else {
            advance()
            try expectBlockEnd()
        }
        return ForStatement(
            target: target, iterable: iterable, condition: condition, body: body, elseBody: elseBody,
            recursive: recursive, location: location)
    }

    private mutating func parseSet() throws -> Statement.Kind {
        let target = try parseAssignTarget(endNames: [], allowNamespace: true)
        if isOp("=") {
            advance()
            let value = try parseTuple()
            try expectBlockEnd()
            return .set(target, value)
        }
        var filter: Expr? = nil
        if isOp("|") { filter = try parseFilter(nil, startInline: false) }
        try expectBlockEnd()
        return .setBlock(target, filter: filter, body: try parseBody(until: "endset"))
    }

    private mutating func parseMacro() throws -> Statement.Kind {
        let name = try expectName()
        let params = try parseSignature()
        try expectBlockEnd()
        let saved = loopDepth
        loopDepth = 0
        defer { loopDepth = saved }
        macroUsage.append((false, false))
        let body = try parseBody(until: "endmacro")
        let usage = macroUsage.removeLast()
        return .macro(
            name: name, parameters: params, body: body, usesVarargs: usage.varargs, usesKwargs: usage.kwargs)
    }

    private mutating func parseCallBlock() throws -> Statement.Kind {
        var params: [(name: String, defaultValue: Expr?)] = []
        if isOp("(") { params = try parseSignature() }
        let call = try parseExpression()
        guard case .call = call.kind else { throw fail("expected call", current) }
        try expectBlockEnd()
        let saved = loopDepth
        loopDepth = 0
        defer { loopDepth = saved }
        return .callBlock(call: call, parameters: params, body: try parseBody(until: "endcall"))
    }

    private mutating func parseWith() throws -> Statement.Kind {
        var assignments: [(AssignTarget, Expr)] = []
        while !(isBlockEnd) {
            if !assignments.isEmpty { try expectOp(",") }
            let target = try parseAssignTarget(endNames: [], allowNamespace: false)
            try expectOp("=")
            assignments.append((target, try parseExpression()))
        }
        try expectBlockEnd()
        return .with(assignments: assignments, body: try parseBody(until: "endwith"))
    }

    private var isBlockEnd: Bool {
        if case .blockEnd = current.kind { return true }
        if case .eof = current.kind { return true }
        return false
    }

    /// `(a, b=default, ...)` of macros and call blocks.
    private mutating func parseSignature() throws -> [(name: String, defaultValue: Expr?)] {
        try expectOp("(")
        var params: [(name: String, defaultValue: Expr?)] = []
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            var def: Expr? = nil
            if isOp("=") {
                advance()
                def = try parseExpression()
            } else if params.last?.defaultValue != nil {
                throw fail("non-default argument follows default argument")
            }
            params.append((name, def))
        }
        try expectOp(")")
        return params
    }

    private mutating func parseAssignTarget(endNames: Set<String>, allowNamespace: Bool) throws -> AssignTarget {
        if allowNamespace, case .name(let ns) = current.kind, isOp(".", peek()) {
            advance()
            advance()
            return .attribute(ns, try expectName())
        }
        var items: [AssignTarget] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if case .name(let n) = current.kind, endNames.contains(n) { break }
            if isOp("=") || isBlockEnd || isOp(")") || isOp("|") { break }
            if isOp("(") {
                advance()
                items.append(try parseAssignTarget(endNames: [], allowNamespace: false))
                try expectOp(")")
            } else {
                let n = try expectName()
                if ["true", "false", "none", "True", "False", "None"].contains(n) {
                    throw fail("cannot assign to \(n)")
                }
                items.append(.name(n))
            }
            if isOp(",") { isTuple = true } else { break }
        }
        guard let first = items.first else { throw fail("expected an assignment target") }
        return isTuple ? .tuple(items) : first
    }

    // MARK: - Expressions

    private mutating func parseTuple(
        withCondexpr: Bool = true, endNames: Set<String> = [], explicitParentheses: Bool = false
    ) throws -> Expr {
        let loc = current.location
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if case .variableEnd = current.kind { break }
            if isBlockEnd || isOp(")") { break }
            if case .name(let n) = current.kind, endNames.contains(n) { break }
            items.append(withCondexpr ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let first = items.first { return first }
            if !explicitParentheses { throw fail("Expected an expression, got '\(describe(current))'") }
        }
        return Expr(kind: .tuple(items), location: loc)
    }

    private mutating func parseExpression() throws -> Expr {
        try enter()
        defer { leave() }
        var e = try parseOr()
        while isName("if") {
            let loc = current.location
            advance()
            let test = try parseOr()
            var otherwise: Expr? = nil
            if isName("else") {
                advance()
                otherwise = try parseExpression()
            }
            e = Expr(kind: .conditional(test: test, then: e, otherwise: otherwise), location: loc)
        }
        return e
    }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while isName("or") {
            let loc = current.location
            advance()
            left = Expr(kind: .or(left, try parseAnd()), location: loc)
        }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while isName("and") {
            let loc = current.location
            advance()
            left = Expr(kind: .and(left, try parseNot()), location: loc)
        }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if isName("not") {
            let loc = current.location
            advance()
            try enter()
            defer { leave() }
            return Expr(kind: .unary("not", try parseNot()), location: loc)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let loc = current.location
        let first = try parseMath1()
        var ops: [(op: String, operand: Expr)] = []
        while true {
            if case .op(let o) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                advance()
                ops.append((o, try parseMath1()))
            } else if isName("in") {
                advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not"), isName("in", peek()) {
                advance()
                advance()
                ops.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : Expr(kind: .compare(first, ops), location: loc)
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while isOp("+") || isOp("-") {
            let t = current
            advance()
            guard case .op(let o) = t.kind else { break }
            left = Expr(kind: .binary(o, left, try parseConcat()), location: t.location)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        let loc = current.location
        var items = [try parseMath2()]
        while isOp("~") {
            advance()
            items.append(try parseMath2())
        }
        return items.count == 1 ? items[0] : Expr(kind: .concat(items), location: loc)
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while isOp("*") || isOp("/") || isOp("//") || isOp("%") {
            let t = current
            advance()
            guard case .op(let o) = t.kind else { break }
            left = Expr(kind: .binary(o, left, try parsePow()), location: t.location)
        }
        return left
    }

    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary()
        while isOp("**") {
            let loc = current.location
            advance()
            left = Expr(kind: .binary("**", left, try parseUnary()), location: loc)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        try enter()
        defer { leave() }
        let t = current
        var node: Expr
        if isOp("-") || isOp("+") {
            advance()
            let operand = try parseUnary(withFilter: false)
            node = Expr(kind: .unary(isOp("-", t) ? "-" : "+", operand), location: t.location)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expr {
        let t = current
        switch t.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return Expr(kind: .literal(.bool(true)), location: t.location)
            case "false", "False": return Expr(kind: .literal(.bool(false)), location: t.location)
            case "none", "None": return Expr(kind: .literal(.none), location: t.location)
            default:
                if n == "varargs" || n == "kwargs" {
                    for i in macroUsage.indices {
                        if n == "varargs" { macroUsage[i].varargs = true } else { macroUsage[i].kwargs = true }
                    }
                }
                return Expr(kind: .name(n), location: t.location)
            }
        case .string(var s):
            advance()
            while case .string(let more) = current.kind {
                s += more
                advance()
            }
            return Expr(kind: .literal(.string(s)), location: t.location)
        case .integer(let i):
            advance()
            return Expr(kind: .literal(.int(i)), location: t.location)
        case .float(let d):
            advance()
            return Expr(kind: .literal(.float(d)), location: t.location)
        case .op("("):
            advance()
            let e = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return e
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return Expr(kind: .list(items), location: t.location)
        case .op("{"):
            advance()
            var items: [(key: Expr, value: Expr)] = []
            while !isOp("}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try parseExpression()
                try expectOp(":")
                items.append((k, try parseExpression()))
            }
            try expectOp("}")
            return Expr(kind: .dict(items), location: t.location)
        default:
            throw fail("unexpected '\(describe(t))'")
        }
    }

    private mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            let t = current
            if isOp(".") {
                advance()
                switch current.kind {
                case .name(let n):
                    advance()
                    node = Expr(kind: .attribute(node, n), location: t.location)
                case .integer(let i):
                    advance()
                    node = Expr(kind: .item(node, Expr(kind: .literal(.int(i)), location: t.location)), location: t.location)
                default:
                    throw fail("expected name or number")
                }
            } else if isOp("[") {
                advance()
                var args: [Expr] = []
                while !isOp("]") {
                    if !args.isEmpty { try expectOp(",") }
                    args.append(try parseSubscribed())
                }
                try expectOp("]")
                let arg = args.count == 1 ? args[0] : Expr(kind: .tuple(args), location: t.location)
                if case .slice(_, let a, let b, let c) = arg.kind {
                    node = Expr(kind: .slice(node, start: a, stop: b, step: c), location: t.location)
                } else {
                    node = Expr(kind: .item(node, arg), location: t.location)
                }
            } else if isOp("(") {
                node = Expr(kind: .call(node, try parseCallArguments()), location: node.location)
            } else {
                return node
            }
        }
    }

    /// One subscript: an expression or a slice `a:b:c` (the slice's base is a placeholder).
    private mutating func parseSubscribed() throws -> Expr {
        let loc = current.location
        var parts: [Expr?] = []
        if isOp(":") {
            advance()
            parts = [nil]
        } else {
            let e = try parseExpression()
            guard isOp(":") else { return e }
            advance()
            parts = [e]
        }
        if isOp(":") {
            parts.append(nil)
        } else if !isOp("]") && !isOp(",") {
            parts.append(try parseExpression())
        } else {
            parts.append(nil)
        }
        if isOp(":") {
            advance()
            parts.append(!isOp("]") && !isOp(",") ? try parseExpression() : nil)
        } else {
            parts.append(nil)
        }
        let placeholder = Expr(kind: .literal(.none), location: loc)
        return Expr(kind: .slice(placeholder, start: parts[0], stop: parts[1], step: parts[2]), location: loc)
    }

    private mutating func parseCallArguments() throws -> CallArguments {
        try expectOp("(")
        var args = CallArguments()
        var first = true
        while !isOp(")") {
            if !first { try expectOp(",") }
            first = false
            if isOp(")") { break }
            if isOp("*") {
                advance()
                args.star = try parseExpression()
            } else if isOp("**") {
                advance()
                args.doubleStar = try parseExpression()
            } else if case .name(let n) = current.kind, isOp("=", peek()) {
                advance()
                advance()
                args.keyword.append((n, try parseExpression()))
            } else {
                if !args.keyword.isEmpty || args.star != nil || args.doubleStar != nil {
                    throw fail("Invalid argument syntax")
                }
                args.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return args
    }

    private mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp("|") {
                node = try parseFilter(node, startInline: false)
            } else if isName("is") {
                node = try parseTest(node)
            } else if isOp("(") {
                node = Expr(kind: .call(node, try parseCallArguments()), location: node.location)
            } else {
                return node
            }
        }
    }

    private mutating func dottedName() throws -> String {
        var name = try expectName()
        while isOp(".") {
            advance()
            name += "." + (try expectName())
        }
        return name
    }

    private mutating func parseFilter(_ operand: Expr?, startInline: Bool) throws -> Expr {
        var node = operand
        var inline = startInline
        let loc = current.location
        while isOp("|") || inline {
            if !inline { advance() }
            inline = false
            let t = current
            let name = try dottedName()
            let args = isOp("(") ? try parseCallArguments() : CallArguments()
            node = Expr(kind: .filter(node, name, args), location: t.location)
        }
        guard let node else { throw JinjaError.syntax("expected a filter", loc) }
        return node
    }

    private mutating func parseTest(_ operand: Expr) throws -> Expr {
        let loc = current.location
        advance()  // is
        var negated = false
        if isName("not") {
            advance()
            negated = true
        }
        let name = try dottedName()
        var args = CallArguments()
        if isOp("(") {
            args = try parseCallArguments()
        } else {
            var takesArgument = false
            switch current.kind {
            case .name(let n): takesArgument = !["else", "or", "and"].contains(n)
            case .string, .integer, .float, .op("["), .op("{"): takesArgument = true
            default: takesArgument = false
            }
            if takesArgument {
                if isName("is") { throw fail("You cannot chain multiple tests with is") }
                args.positional = [try parsePostfix(try parsePrimary())]
            }
        }
        return Expr(kind: .test(operand, name, args, negated: negated), location: loc)
    }
}
