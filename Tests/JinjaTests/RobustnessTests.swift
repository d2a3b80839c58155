import Foundation
import JSON
import Testing

@testable import Jinja

/// Truncated and randomly mutated templates must either render or throw `JinjaError`: never crash or hang.
@Suite struct RobustnessTests {
    /// Deterministic generator (SplitMix64) so failures reproduce.
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    static let limits = RenderLimits(maxOutputLength: 1 << 20, maxCallDepth: 40, maxLoopIterations: 50_000)

    static func templates() throws -> [(String, String)] {
        let dir = Fixtures.url("chat_templates/templates")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".jinja") }.sorted()
        #expect(names.count == 20)
        var out = try names.map { ($0, try Fixtures.text("chat_templates/templates/\($0)")) }
        out.append(("smollm2", try Fixtures.text("smollm2/hf-tokenizer/chat_template.jinja")))
        return out
    }

    static let context: [String: Value] = {
        let json = """
            {"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "Weather?"},
              {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
              {"role": "user", "content": " Thanks! "}],
             "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
             "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"}
            """
        guard case .dict(let d)? = try? Value(json: JSONValue.parse(json)) else { return [:] }
        var out: [String: Value] = [:]
        for (k, v) in d.entries {
            if case .string(let key) = k { out[key] = v }
        }
        return out
    }()

    enum Outcome { case rendered, threw }

    /// Compiles and renders; any error other than `JinjaError` is a test failure.
    static func attempt(_ source: String) -> Outcome? {
        do {
            _ = try Template(source, limits: limits).render(context)
            return .rendered
        } catch is JinjaError {
            return .threw
        } catch {
            Issue.record("non-Jinja error \(error) for template \(source.debugDescription)")
            return nil
        }
    }

    @Test func everyTruncationRendersOrThrows() throws {
        var rendered = 0, threw = 0
        for (_, source) in try Self.templates() {
            let scalars = Array(source.unicodeScalars)
            for n in 0...scalars.count {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars[0..<n])
                switch Self.attempt(String(view)) {
                case .rendered?: rendered += 1
                case .threw?: threw += 1
                case nil: break
                }
            }
        }
        #expect(rendered > 0 && threw > 0)
        print("truncations: \(rendered) rendered, \(threw) threw JinjaError")
    }

    static let fragments = [
        "{%", "%}", "{{", "}}", "{#", "#}", "-", "+", "(", ")", "[", "]", "{", "}", "'", "\"", "|", ",", ".", ":",
        " if ", " else ", " endif ", " for ", " endfor ", " in ", " not ", " is ", " and ", " or ", "loop", "loop(",
        " recursive ", " set ", " endset ", " macro m(a) ", " endmacro ", "m(m(1))", " call ", "caller()", "raise_exception(",
        "namespace(", "range(99999)", "* 99999", "~", "**", "//", "%", "\\", "\n", "[::-1]", "[1:", "|tojson(indent=", "|join",
        "messages", "tools", "none", "true", "1e308", "9223372036854775807", " break ", " continue ", " raw ",
        " endraw ", "{% generation %}", "{% endgeneration %}", "|map(attribute=", "|selectattr(", ".split(", "é😀",
    ]

    @Test func randomMutationsRenderOrThrow() throws {
        let sources = try Self.templates().map { $0.1 }
        var rng = SplitMix64(state: 0x5EED_1234)
        var rendered = 0, threw = 0
        for _ in 0..<2000 {
            var s = Array(sources[rng.below(sources.count)].unicodeScalars)
            for _ in 0..<(1 + rng.below(4)) {
                let i = rng.below(s.count + 1)
                switch rng.below(4) {
                case 0:  // delete a range
                    let len = rng.below(min(12, s.count - i) + 1)
                    s.removeSubrange(i..<(i + len))
                case 1:  // insert a Jinja fragment
                    s.insert(contentsOf: Self.fragments[rng.below(Self.fragments.count)].unicodeScalars, at: i)
                case 2:  // duplicate a slice elsewhere
                    let len = rng.below(min(40, s.count - i) + 1)
                    let piece = Array(s[i..<(i + len)])
                    s.insert(contentsOf: piece, at: rng.below(s.count + 1))
                default:  // replace one character
                    if i < s.count { s[i] = Unicode.Scalar(UInt8(32 + rng.below(95))) }
                }
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s)
            switch Self.attempt(String(view)) {
            case .rendered?: rendered += 1
            case .threw?: threw += 1
            case nil: break
            }
        }
        #expect(rendered + threw == 2000)
        print("mutations: \(rendered) rendered, \(threw) threw JinjaError")
    }

    @Test func deepRecursionAtTheDefaultLimitThrows() throws {
        // Each level nests statements, so this also checks the default depth fits in a thread's stack.
        let t = try Template(
            "{% macro r(n) %}{% for i in [n] %}{% if true %}{{ r(n + 1) | trim }}{% endif %}{% endfor %}{% endmacro %}{{ r(0) }}")
        #expect(throws: JinjaError.self) { try t.render([:]) }
        let loop = try Template("{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}")
        #expect(throws: JinjaError.self) { try loop.render([:]) }
    }
}
