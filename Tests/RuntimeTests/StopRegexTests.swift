import Foundation
import Runtime
import Testing
import Tokenizers

/// `stop_regex` (SGLang HEAD): the request ends at the first token after which one of the patterns matches the
/// output text; checked against Foundation's `NSRegularExpression` (ICU) searching the whole-list decode.
@Suite struct StopRegexTests {
    static let patterns = [#"\d{3}"#, #"[A-Z][a-z]+ [A-Z]"#, #"(?:foo|bar)baz"#, "\n\n", "é+t", #"END\."#]

    /// The token index after which `pattern` first occurs in the text of the first k tokens (ICU search), or nil.
    static func firstMatchingPrefix(_ pattern: String, ids: [Int], tokenizer: Tokenizer) throws -> Int? {
        let regex = try NSRegularExpression(pattern: pattern)
        for k in 1...ids.count {
            let text = tokenizer.decode(Array(ids[..<k]), skipSpecialTokens: true)
            let range = NSRange(text.startIndex..<text.endIndex, in: text)
            if regex.firstMatch(in: text, range: range) != nil { return k }
        }
        return nil
    }

    @Test func matchesWhereICUFindsTheFirstMatch() throws {
        let tokenizer = try RequestOutputTextTests.smolLM2.get()
        let texts = [
            "Order 12345 shipped to Paris. New York is next.",
            "foo bar foobaz and then\n\nmore text",
            "Le café était très bon; été! END. tail",
            "no match here at all",
        ]
        for text in texts {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            for pattern in Self.patterns {
                var params = SamplingParams()
                params.stopRegex = [pattern]
                try params.validate()
                var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: params)
                var ours: Int?
                for (k, id) in ids.enumerated() where ours == nil {
                    if output.append([id]) != nil { ours = k + 1 }
                }
                let want = try Self.firstMatchingPrefix(pattern, ids: ids, tokenizer: tokenizer)
                #expect(ours == want, "\(pattern.debugDescription) in \(text.debugDescription)")
                if ours != nil { #expect(output.matchedStop == pattern) }
            }
        }
    }

    /// Several patterns: the first one in list order that matches after the token wins (SGLang's loop); the final
    /// text keeps the match unless the pattern's own characters occur in it (SGLang's `trim_matched_stop`).
    @Test func listOrderAndTrimming() throws {
        let tokenizer = try RequestOutputTextTests.smolLM2.get()
        let ids = tokenizer.encode("The answer is 42. END tail", addSpecialTokens: false)
        var params = SamplingParams()
        params.stopRegex = [#"\d\d\."#, "42"]
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: params)
        var matched: String?
        for id in ids where matched == nil { matched = output.append([id]) }
        // "42" completes at the same token as or before "\d\d."; whichever is listed first among those matching wins.
        let expected = try Self.firstMatchingPrefix(#"\d\d\."#, ids: ids, tokenizer: tokenizer)
            == Self.firstMatchingPrefix("42", ids: ids, tokenizer: tokenizer) ? #"\d\d\."# : "42"
        #expect(matched == expected)
        let final = output.finalText(for: .matchedString(matched ?? ""))
        if matched == "42" {
            #expect(final == "The answer is ")
        } else {
            #expect(final.hasPrefix("The answer is 42."))
        }
        // A literal pattern is trimmed like a stop string, and kept with no_stop_trim.
        params.stopRegex = ["END"]
        var literal = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: params)
        var hit: String?
        for id in ids where hit == nil { hit = literal.append([id]) }
        #expect(hit == "END")
        #expect(literal.finalText(for: .matchedString("END")) == "The answer is 42. ")
    }

    @Test func invalidPatternsAreRefused() {
        for bad in ["(unclosed", "a{2,1}", "", #"(?<=x)y"#] {
            var params = SamplingParams()
            params.stopRegex = [bad]
            #expect(throws: RuntimeError.self, "\(bad.debugDescription)") { try params.validate() }
        }
    }
}
