/// jinja2's builtin tests (`x is defined`, `x is divisibleby 3`, ...).
extension Interpreter {
    static let testNames: Set<String> = [
        "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string",
        "mapping", "iterable", "sequence", "callable", "sameas", "escaped", "in", "odd", "even", "divisibleby",
        "lower", "upper", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt",
        "greaterthan", ">", "ge", ">=", "filter", "test",
    ]

    func applyTest(_ name: String, _ v: Value, _ args: Arguments) throws -> Bool {
        func argument() throws -> Value {
            guard let a = args.positional.first ?? args.keyword.first?.value else {
                throw JinjaError.runtime("test '\(name)' requires an argument", nil)
            }
            return a
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v.isNone
        case "boolean":
            if case .bool = v { return true }
            return false
        case "true":
            if case .bool(true) = v { return true }
            return false
        case "false":
            if case .bool(false) = v { return true }
            return false
        case "integer":
            if case .int = v { return true }
            return false
        case "float": return v.isFloat
        case "number": return v.numeric != nil
        case "string":
            if case .string = v { return true }
            return false
        case "mapping":
            if case .dict = v { return true }
            return false
        case "iterable":
            switch v {
            case .string, .list, .tuple, .dict, .undefined, .loop: return true
            default: return false
            }
        case "sequence":
            switch v {
            case .string, .list, .tuple, .dict, .undefined: return true
            default: return false
            }
        case "callable":
            switch v {
            case .function, .loop: return true
            default: return false
            }
        case "sameas":
            let other = try argument()
            switch (v, other) {
            case (.none, .none), (.undefined, .undefined): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b
            case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
            case (.namespace(let a), .namespace(let b)): return a == b
            default: return false
            }
        case "escaped": return false
        case "in": return try contains(try argument(), v)
        case "odd", "even":
            guard case .int(let i)? = v.numeric else {
                throw try undefinedOr(v, "unsupported operand type(s) for %: '\(v.typeName)' and 'int'")
            }
            let r = ((i % 2) + 2) % 2
            return name == "odd" ? r == 1 : r == 0
        case "divisibleby":
            let r = try binary("%", v, try argument())
            return Python.equals(r, .int(0))
        case "lower", "upper":
            let s = try str(v)
            let cased = s.unicodeScalars.filter { $0.properties.isCased }
            guard !cased.isEmpty else { return false }
            return cased.allSatisfy { name == "lower" ? $0.properties.isLowercase : $0.properties.isUppercase }
        case "eq", "equalto", "==": return Python.equals(v, try argument())
        case "ne", "!=": return !Python.equals(v, try argument())
        case "lt", "lessthan", "<": return try compare("<", v, try argument())
        case "le", "<=": return try compare("<=", v, try argument())
        case "gt", "greaterthan", ">": return try compare(">", v, try argument())
        case "ge", ">=": return try compare(">=", v, try argument())
        case "filter":
            guard case .string(let n) = v else { return false }
            return Interpreter.filterNames.contains(n)
        case "test":
            guard case .string(let n) = v else { return false }
            return Interpreter.testNames.contains(n)
        default:
            throw JinjaError.runtime("No test named '\(name)'.", nil)
        }
    }
}
