import JSON
import Testing

@testable import Jinja

/// Errors: messages and positions, the sandbox, and resource limits.
@Suite struct ErrorTests {
    @Test func raiseExceptionCarriesTheTemplatesMessage() throws {
        let t = try Template("line one\n{{ raise_exception('Roles must alternate: ' ~ n) }}")
        do {
            _ = try t.render(["n": .int(3)])
            Issue.record("expected an error")
        } catch JinjaError.raised(let message, let location) {
            #expect(message == "Roles must alternate: 3")
            #expect(location == TemplateLocation(line: 2, column: 4))
        }
    }

    /// Renders and returns the error (or nil when rendering succeeded).
    func failure(_ source: String, _ context: [String: Value] = [:]) -> JinjaError? {
        do {
            _ = try Template(source).render(context)
            return nil
        } catch let e as JinjaError {
            return e
        } catch {
            return nil
        }
    }

    @Test func syntaxErrorsReportLineAndColumn() {
        let cases: [(String, String, TemplateLocation)] = [
            ("{% if x %}\nabc", "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'.", TemplateLocation(line: 2, column: 4)),
            ("ok\n  {{ 1 + }}", "unexpected 'end of print statement'", TemplateLocation(line: 2, column: 10)),
            ("{% for %}{% endfor %}", "expected an assignment target", TemplateLocation(line: 1, column: 8)),
            ("{{ 'abc }}", "unexpected char ''' at 3", TemplateLocation(line: 1, column: 4)),
            ("{% endfor %}", "Encountered unknown tag 'endfor'.", TemplateLocation(line: 1, column: 4)),
            ("{% frobnicate %}", "Encountered unknown tag 'frobnicate'.", TemplateLocation(line: 1, column: 4)),
            ("{{ (1 }}", "unexpected '}', expected ')'", TemplateLocation(line: 1, column: 7)),
            ("{# never closed", "Missing end of comment tag", TemplateLocation(line: 1, column: 1)),
            ("{% break %}", "'break' is only allowed inside a loop", TemplateLocation(line: 1, column: 4)),
        ]
        for (source, message, location) in cases {
            guard case .syntax(let m, let l)? = failure(source) else {
                Issue.record("\(source) should be a syntax error")
                continue
            }
            #expect(m == message, "\(source)")
            #expect(l == location, "\(source)")
        }
    }

    @Test func runtimeErrorsUsePythonAndJinjaMessages() {
        let cases: [(String, String)] = [
            ("{{ missing.attr }}", "'missing' is undefined"),
            ("{{ {}.a.b }}", "'dict object' has no attribute 'a'"),
            ("{{ x + 'a' }}", "'x' is undefined"),
            ("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str"),
            ("{{ 1 + none }}", "unsupported operand type(s) for +: 'int' and 'NoneType'"),
            ("{{ [1] < 'a' }}", "'<' not supported between instances of 'list' and 'str'"),
            ("{{ 1 // 0 }}", "integer division or modulo by zero"),
            ("{% set a, b = [1] %}", "not enough values to unpack (expected 2, got 1)"),
            ("{% set ns = 1 %}{% set ns.x = 1 %}", "cannot assign attribute on non-namespace object"),
            ("{{ x | tojson }}", "Object of type Undefined is not JSON serializable"),
            ("{{ 'x' | nosuchfilter }}", "No filter named 'nosuchfilter'."),
            ("{{ 1 is nosuchtest }}", "No test named 'nosuchtest'."),
            ("{% macro m(a) %}{% endmacro %}{{ m(1, b=2) }}", "macro 'm' takes no keyword argument 'b'"),
            ("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "macro 'm' takes not more than 1 argument(s)"),
            ("{% macro m(a) %}{% endmacro %}{{ m(1, a=2) }}", "macro 'm' got multiple values for argument 'a'"),
        ]
        for (source, message) in cases {
            guard let e = failure(source) else {
                Issue.record("\(source) should fail")
                continue
            }
            #expect(e.message == message, "\(source)")
            #expect(e.location != nil, "\(source)")
        }
    }

    @Test func sandboxRefusesMutationAndFileAccess() {
        for source in ["{{ [1].append(2) }}", "{% set d = {} %}{{ d.update({'a': 1}) }}", "{{ {'a': 1}.pop('a') }}"] {
            guard case .security(let m, _)? = failure(source) else {
                Issue.record("\(source) should be refused by the sandbox")
                continue
            }
            #expect(m.hasPrefix("access to attribute '") && m.hasSuffix("object is unsafe."), "\(m)")
        }
        for source in ["{% include 'other.jinja' %}", "{% extends 'base.jinja' %}", "{% import 'm.jinja' as m %}", "{% from 'm' import x %}"] {
            guard case .security(let m, _)? = failure(source) else {
                Issue.record("\(source) should be refused")
                continue
            }
            #expect(m.contains("cannot load other templates"))
        }
        // A forbidden statement in a branch that is not taken is harmless, as in jinja2.
        #expect(failure("{% if false %}{% include 'x' %}{% endif %}") == nil)
    }

    @Test func limitsStopRunawayTemplates() throws {
        guard case .limitExceeded(let m, _)? = failure("{{ range(100001) | length }}") else {
            Issue.record("range limit")
            return
        }
        #expect(m == "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")

        let small = RenderLimits(maxOutputLength: 1000, maxCallDepth: 20, maxLoopIterations: 500)
        let grow = try Template(
            "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
            limits: small)
        #expect(throws: JinjaError.self) { try grow.render([:]) }
        let recurse = try Template("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}", limits: small)
        do {
            _ = try recurse.render([:])
            Issue.record("recursion limit")
        } catch JinjaError.limitExceeded(let message, _) {
            #expect(message.contains("nested deeper than 20"))
        }
        let loops = try Template("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", limits: small)
        do {
            _ = try loops.render([:])
            Issue.record("iteration limit")
        } catch JinjaError.limitExceeded(let message, _) {
            #expect(message.contains("500 loop iterations"))
        }
        let output = try Template("{% for i in range(400) %}abcd{% endfor %}", limits: small)
        #expect(throws: JinjaError.self) { try output.render([:]) }
        #expect(try Template("{% for i in range(200) %}abcd{% endfor %}", limits: small).render([:]).count == 800)
    }

    @Test func deepNestingIsRejectedNotCrashing() {
        let deep = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
        guard case .limitExceeded? = failure("{{ \(deep) }}") else {
            Issue.record("deep nesting should hit the nesting limit")
            return
        }
        let deepIf = String(repeating: "{% if true %}", count: 3000) + "x" + String(repeating: "{% endif %}", count: 3000)
        guard case .limitExceeded? = failure(deepIf) else {
            Issue.record("deep blocks should hit the nesting limit")
            return
        }
    }
}
