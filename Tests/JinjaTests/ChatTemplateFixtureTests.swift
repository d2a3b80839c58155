import Foundation
import JSON
import Testing

@testable import Jinja

/// The conformance suite: every row rendered by transformers must come out byte-identical.
@Suite struct ChatTemplateFixtureTests {
    /// Splits transformers' `"TemplateError: message"` into the exception class and the message.
    static func splitError(_ e: String) -> (String, String) {
        guard let r = e.range(of: ": ") else { return ("", e) }
        return (String(e[..<r.lowerBound]), String(e[r.upperBound...]))
    }

    @Test func everyCaseRendersLikeTransformers() throws {
        let rows = try Fixtures.jsonLines("chat_templates/cases.jsonl")
        #expect(rows.count == 280)
        var compiled: [String: Template] = [:]
        var matched = 0, raisedAsExpected = 0
        for row in rows {
            let name = try #require(row["template"]?.stringValue)
            let template: Template
            if let t = compiled[name] {
                template = t
            } else {
                template = try Template(try Fixtures.text("chat_templates/templates/\(name)"))
                compiled[name] = template
            }
            var context: [String: Value] = [
                "messages": Value(json: row["messages"] ?? .null),
                "tools": Value(json: row["tools"] ?? .null),
                "add_generation_prompt": Value(json: row["add_generation_prompt"] ?? .bool(false)),
            ]
            for (k, v) in row["extra"]?.objectValue ?? JSONObject() { context[k] = Value(json: v) }
            let label = "\(name) / \(row["case"]?.stringValue ?? "?")"
            if let expected = row["rendered"]?.stringValue {
                let got = try template.render(context)
                #expect(got == expected, "\(label)")
                if got == expected { matched += 1 }
            } else if let error = row["error"]?.stringValue {
                let (kind, message) = Self.splitError(error)
                #expect(kind == "TemplateError", "\(label)")
                do {
                    let got = try template.render(context)
                    Issue.record("\(label): expected error '\(message)', rendered \(got.debugDescription)")
                } catch JinjaError.raised(let m, _) {
                    #expect(m == message, "\(label)")
                    if m == message { raisedAsExpected += 1 }
                }
            } else {
                Issue.record("\(label): row has neither rendered nor error")
            }
        }
        #expect(matched + raisedAsExpected == rows.count)
        print("chat_templates/cases.jsonl: \(matched) rendered identically, \(raisedAsExpected) raised the template's error, of \(rows.count)")
    }

    @Test func smolLM2TemplateMatchesTransformers() throws {
        let template = try Template(try Fixtures.text("smollm2/hf-tokenizer/chat_template.jinja"))
        let config = try JSONValue.parse(try Fixtures.text("smollm2/hf-tokenizer/tokenizer_config.json"))
        let rows = try Fixtures.jsonLines("smollm2/chat_template.jsonl")
        #expect(rows.count == 10)
        for (i, row) in rows.enumerated() {
            var context: [String: Value] = [
                "messages": Value(json: row["messages"] ?? .null),
                "add_generation_prompt": Value(json: row["add_generation_prompt"] ?? .bool(false)),
            ]
            for key in ["bos_token", "eos_token", "unk_token", "pad_token"] {
                if let v = config[key], !v.isNull { context[key] = Value(json: v) }
            }
            let expected = try #require(row["rendered"]?.stringValue)
            #expect(try template.render(context) == expected, "row \(i)")
        }
    }
}
