import Foundation
import JSON
import Testing
@testable import Tokenizers

/// Parity with Hugging Face `tokenizers` on the fixtures made by `scripts/make_tokenizer_fixtures.py`
/// (Tests/TokenizersTests/Resources/hf): whole tokenizers (encode with and without special tokens, decode
/// with and without skipping special tokens) and single components (normalizers, pre-tokenizers, decoders).
@Suite struct HFComponentFixtureTests {
    /// Every fixture folder the script writes.
    static let fixtureNames = [
        "llama2-legacy", "llama2-metaspace", "bert", "bert-cased", "unigram", "unigram-byte-fallback",
        "unigram-precompiled", "llama3", "qwen2", "gpt2-roberta", "mix-words", "mix-split", "mix-invert",
        "mix-removed", "added-tokens",
    ]

    struct MissingResource: Error, CustomStringConvertible {
        let name: String
        var description: String {
            "test resource Tests/TokenizersTests/Resources/hf/\(name) is missing; run scripts/make_tokenizer_fixtures.py"
        }
    }

    /// The path of `Resources/hf/<name>` in the test bundle.
    static func resource(_ name: String) throws -> URL {
        let candidates = [
            Bundle.module.url(forResource: "Resources/hf/" + name, withExtension: nil),
            Bundle.module.resourceURL?.appendingPathComponent("Resources/hf/" + name),
        ]
        for case let url? in candidates where FileManager.default.fileExists(atPath: url.path) { return url }
        throw MissingResource(name: name)
    }

    static func loadJSON(_ url: URL) throws -> JSONValue {
        try JSONValue.parse(bytes: [UInt8](try Data(contentsOf: url)))
    }

    /// A readable rendering of a string for failure messages (escapes controls and non-ASCII).
    static func show(_ s: String) -> String {
        s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }
            .joined()
    }

    /// Byte-exact string equality: Swift's `==` treats canonically equivalent strings ("é" and "e\u{301}")
    /// as equal, which would hide normalization differences.
    static func same(_ a: String, _ b: String?) -> Bool {
        guard let b else { return false }
        return a.utf8.elementsEqual(b.utf8)
    }

    static func same(_ a: [String], _ b: [String]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
    }

    // MARK: Whole tokenizers

    @Test(arguments: fixtureNames)
    func tokenizerMatchesHF(_ name: String) throws {
        let dir = try Self.resource(name)
        let json = try Self.loadJSON(dir.appendingPathComponent("tokenizer.json"))
        let tokenizer = try Tokenizer(tokenizerJSON: json, config: nil, chatTemplate: nil)
        let text = try String(contentsOf: dir.appendingPathComponent("cases.jsonl"), encoding: .utf8)
        let rows = try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(rows.count >= 150, "\(name): expected at least 150 cases, found \(rows.count)")
        var failures: [String] = []
        for row in rows {
            guard let input = row["text"]?.stringValue,
                  let withSpecial = row["ids_with_special"]?.arrayValue?.compactMap(\.intValue),
                  let plain = row["ids"]?.arrayValue?.compactMap(\.intValue),
                  let decoded = row["decoded"]?.stringValue,
                  let decodedSkip = row["decoded_skip_special"]?.stringValue else {
                Issue.record("\(name): malformed case \(row)")
                continue
            }
            let shown = Self.show(input)
            let gotWithSpecial = tokenizer.encode(input, addSpecialTokens: true)
            if gotWithSpecial != withSpecial {
                failures.append("encode(\"\(shown)\") = \(gotWithSpecial), HF \(withSpecial)")
            }
            let gotPlain = tokenizer.encode(input, addSpecialTokens: false)
            if gotPlain != plain {
                failures.append("encode(\"\(shown)\", addSpecialTokens: false) = \(gotPlain), HF \(plain)")
            }
            let gotDecoded = tokenizer.decode(withSpecial, skipSpecialTokens: false)
            if !Self.same(gotDecoded, decoded) {
                failures.append("decode(\(withSpecial)) = \"\(Self.show(gotDecoded))\", HF \"\(Self.show(decoded))\"")
            }
            let gotSkip = tokenizer.decode(withSpecial, skipSpecialTokens: true)
            if !Self.same(gotSkip, decodedSkip) {
                failures.append("decode(\(withSpecial), skip) = \"\(Self.show(gotSkip))\", HF \"\(Self.show(decodedSkip))\"")
            }
        }
        let report = "\(name): \(failures.count) mismatches with HF, first: \(failures.prefix(6).joined(separator: "\n"))"
        #expect(failures.isEmpty, "\(report)")
    }

    // MARK: Single components

    /// One group of components.json: a component object and its (input, HF output) cases.
    struct Group {
        let name: String
        let component: JSONValue
        let cases: [(input: JSONValue, output: JSONValue)]
    }

    static func groups(_ kind: String) throws -> [Group] {
        let all = try loadJSON(try resource("components.json"))
        guard let list = all[kind]?.arrayValue else { throw MissingResource(name: "components.json[\(kind)]") }
        return list.map { g in
            Group(name: g["name"]?.stringValue ?? "?", component: g["component"] ?? .null,
                  cases: (g["cases"]?.arrayValue ?? []).map { ($0["input"] ?? .null, $0["output"] ?? .null) })
        }
    }

    @Test func normalizersMatchHF() throws {
        let groups = try Self.groups("normalizers")
        #expect(groups.count >= 15)
        for group in groups {
            let normalizer = try makeNormalizer(group.component)
            for (input, output) in group.cases {
                let text = input.stringValue ?? ""
                let got = normalizer.normalize(text)
                #expect(Self.same(got, output.stringValue),
                        "\(group.name)(\"\(Self.show(text))\") = \"\(Self.show(got))\", HF \"\(Self.show(output.stringValue ?? ""))\"")
            }
        }
    }

    @Test func preTokenizersMatchHF() throws {
        let groups = try Self.groups("pre_tokenizers")
        #expect(groups.count >= 30)
        for group in groups {
            let preTokenizer = try makePreTokenizer(group.component)
            for (input, output) in group.cases {
                let text = input.stringValue ?? ""
                let got = preTokenizer.preTokenize([PreToken(text: text, atTextStart: true)]).map(\.text)
                let want = output.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(Self.same(got, want),
                        "\(group.name)(\"\(Self.show(text))\") = \(got.map(Self.show)), HF \(want.map(Self.show))")
            }
        }
    }

    @Test func decodersMatchHF() throws {
        let groups = try Self.groups("decoders")
        #expect(groups.count >= 10)
        for group in groups {
            let decoder = try makeDecoder(group.component)
            for (input, output) in group.cases {
                let tokens = input.arrayValue?.compactMap(\.stringValue) ?? []
                let got = decoder.decodeChain(tokens).joined()
                #expect(Self.same(got, output.stringValue),
                        "\(group.name)(\(tokens.map(Self.show))) = \"\(Self.show(got))\", HF \"\(Self.show(output.stringValue ?? ""))\"")
            }
        }
    }

    /// Every code point: HF's word characters (Whitespace), whitespace (WhitespaceSplit) and numerics (Digits)
    /// against the Swift predicates, which read Swift's (newer) Unicode tables.
    @Test func characterClassesMatchHFForEveryCodePoint() throws {
        let classes = try Self.loadJSON(try Self.resource("unicode_classes.json"))
        let predicates: [(String, (Unicode.Scalar) -> Bool)] = [
            ("word", CharacterClasses.isWordCharacter), ("space", CharacterClasses.isWhitespace),
            ("numeric", CharacterClasses.isNumeric),
        ]
        for (name, predicate) in predicates {
            guard let ranges = classes[name]?.arrayValue else {
                Issue.record("unicode_classes.json has no '\(name)'")
                continue
            }
            var expected = [Bool](repeating: false, count: 0x110000)
            for r in ranges {
                guard let lo = r.arrayValue?.first?.intValue, let hi = r.arrayValue?.last?.intValue else { continue }
                for v in lo...hi { expected[v] = true }
            }
            var mismatches: [String] = []
            for v in 0..<0x110000 {
                guard let s = Unicode.Scalar(UInt32(v)) else { continue }
                if predicate(s) != expected[v] { mismatches.append("U+\(String(v, radix: 16, uppercase: true))") }
            }
            #expect(mismatches.isEmpty, "\(name): \(mismatches.count) code points differ from HF: \(mismatches.prefix(20))")
        }
    }

    /// Metaspace `prepend_scheme: first` prepends only to the piece at the very start of the text (a piece
    /// after an added token does not get one), so the flag must survive splitting.
    @Test func metaspaceFirstOnlyAtTextStart() throws {
        let json = try JSONValue.parse(#"{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}"#)
        let p = try makePreTokenizer(json)
        #expect(p.preTokenize([PreToken(text: "a b", atTextStart: true)]).map(\.text) == ["▁a", "▁b"])
        #expect(p.preTokenize([PreToken(text: "a b", atTextStart: false)]).map(\.text) == ["a", "▁b"])
        let pieces = p.preTokenize([PreToken(text: "x y", atTextStart: true)])
        #expect(pieces.map(\.atTextStart) == [true, false])
    }

    // MARK: Load errors

    static func expectError(_ json: String, _ check: (TokenizerError) -> Bool, _ make: (JSONValue) throws -> Void,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let value = try JSONValue.parse(json)
        do {
            try make(value)
            Issue.record("expected a TokenizerError for \(json)", sourceLocation: sourceLocation)
        } catch let error as TokenizerError {
            #expect(check(error), "unexpected error \(error) for \(json)", sourceLocation: sourceLocation)
            #expect(!error.description.isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test func unknownComponentTypesAreLoadErrors() throws {
        try Self.expectError(#"{"type":"Frobnicate"}"#, { $0 == .unknownComponent(kind: "normalizer", type: "Frobnicate") }) {
            _ = try makeNormalizer($0)
        }
        try Self.expectError(#"{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Nope"}]}"#,
                             { $0 == .unknownComponent(kind: "normalizer", type: "Nope") }) { _ = try makeNormalizer($0) }
        try Self.expectError(#"{"type":"Sequence","pretokenizers":[{"type":"Whitespace"},{"type":"Nope"}]}"#,
                             { $0 == .unknownComponent(kind: "pre_tokenizer", type: "Nope") }) { _ = try makePreTokenizer($0) }
        try Self.expectError(#"{"type":"Sequence","decoders":[{"type":"Nope"}]}"#,
                             { $0 == .unknownComponent(kind: "decoder", type: "Nope") }) { _ = try makeDecoder($0) }
        try Self.expectError(#"{"type":"Sequence","processors":[{"type":"Nope"}]}"#,
                             { $0 == .unknownComponent(kind: "post_processor", type: "Nope") }) { _ = try makePostProcessor($0) }
        // A whole tokenizer.json whose decoder type is unknown fails to load with the same error.
        let url = try Self.resource("bert").appendingPathComponent("tokenizer.json")
        guard case .object(var object) = try Self.loadJSON(url) else {
            Issue.record("bert tokenizer.json is not an object")
            return
        }
        object["decoder"] = try JSONValue.parse(#"{"type":"CTCv9"}"#)
        #expect(throws: TokenizerError.unknownComponent(kind: "decoder", type: "CTCv9")) {
            _ = try Tokenizer(tokenizerJSON: .object(object), config: nil, chatTemplate: nil)
        }
    }

    @Test func missingOrWrongFieldsAreLoadErrors() throws {
        func isInvalid(_ kind: String, mentioning word: String) -> (TokenizerError) -> Bool {
            { error in
                if case .invalidComponent(let k, let reason) = error { return k == kind && reason.contains(word) }
                return false
            }
        }
        try Self.expectError(#"{"type":"Replace","pattern":{"String":"a"}}"#, isInvalid("normalizer", mentioning: "content")) {
            _ = try makeNormalizer($0)
        }
        try Self.expectError(#"{"type":"Replace","pattern":"a","content":"b"}"#, isInvalid("normalizer", mentioning: "pattern")) {
            _ = try makeNormalizer($0)
        }
        try Self.expectError(#"{"type":"Prepend","prepend":7}"#, isInvalid("normalizer", mentioning: "prepend")) {
            _ = try makeNormalizer($0)
        }
        try Self.expectError(#"{"type":"Split","pattern":{"Regex":"(unclosed"},"behavior":"Isolated","invert":false}"#,
                             isInvalid("pre_tokenizer", mentioning: "regex")) { _ = try SplitPreTokenizer(json: $0) }
        try Self.expectError(#"{"type":"Split","pattern":{"String":" "},"behavior":"Sideways","invert":false}"#,
                             isInvalid("pre_tokenizer", mentioning: "Sideways")) { _ = try makePreTokenizer($0) }
        try Self.expectError(#"{"type":"Metaspace","replacement":"▁","prepend_scheme":"sometimes","split":true}"#,
                             isInvalid("pre_tokenizer", mentioning: "sometimes")) { _ = try makePreTokenizer($0) }
        try Self.expectError(#"{"type":"Sequence"}"#, isInvalid("pre_tokenizer", mentioning: "pretokenizers")) {
            _ = try makePreTokenizer($0)
        }
        try Self.expectError(#"{"type":"BertProcessing","sep":["[SEP]"],"cls":["[CLS]",101]}"#,
                             isInvalid("post_processor", mentioning: "sep")) { _ = try makePostProcessor($0) }
        try Self.expectError(#"{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}}],"special_tokens":{}}"#,
                             isInvalid("post_processor", mentioning: "<s>")) { _ = try makePostProcessor($0) }
        try Self.expectError(#"{"type":"Strip","content":"ab","start":1,"stop":0}"#, isInvalid("decoder", mentioning: "content")) {
            _ = try makeDecoder($0)
        }
        try Self.expectError(#"{"type":"Unigram","unk_id":0,"vocab":[["a"]]}"#, isInvalid("model", mentioning: "vocab[0]")) {
            _ = try makeModel($0)
        }
        try Self.expectError(#"{"type":"Unigram","unk_id":5,"vocab":[["a",-1.0]]}"#, isInvalid("model", mentioning: "unk_id")) {
            _ = try makeModel($0)
        }
        try Self.expectError(#"{"type":"WordPiece","unk_token":"[UNK]","vocab":{"a":"zero"}}"#, isInvalid("model", mentioning: "vocab")) {
            _ = try makeModel($0)
        }
        try Self.expectError(#"{"type":"Precompiled","precompiled_charsmap":"!!not base64!!"}"#,
                             isInvalid("normalizer", mentioning: "base64")) { _ = try makeNormalizer($0) }
    }

    // MARK: Models in isolation

    /// Unigram: an uncovered character scores `min_score - 10` as unk; consecutive unks fuse into one id.
    @Test func unigramUnknownsFuse() throws {
        let json = try JSONValue.parse(#"{"type":"Unigram","unk_id":0,"vocab":[["<unk>",0.0],["a",-1.0],["b",-2.0],["ab",-2.5]]}"#)
        let model = try makeModel(json)
        var ids: [Int] = []
        model.tokenize("abxyab", into: &ids)
        #expect(ids == [3, 0, 3])
        ids = []
        model.tokenize("zz", into: &ids)
        #expect(ids == [0])
    }

    /// WordPiece: greedy longest match with `##` continuations; any unmatchable part makes the word unk.
    @Test func wordPieceGreedyLongestMatch() throws {
        let json = try JSONValue.parse(###"{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":5,"vocab":{"[UNK]":0,"un":1,"##aff":2,"##able":3,"u":4,"##n":5}}"###)
        let model = try makeModel(json)
        func run(_ word: String) -> [Int] {
            var ids: [Int] = []
            model.tokenize(word, into: &ids)
            return ids
        }
        #expect(run("unaff") == [1, 2])
        #expect(run("unx") == [0])
        #expect(run("unaffable") == [0])  // longer than max_input_chars_per_word
        #expect(run("un") == [1])
    }

    /// Canonically equivalent pieces ("\u{E0}" and "a\u{300}") are different tokens for HF; Swift String
    /// equality would merge them, so the models key their vocabularies by UTF-8 bytes.
    @Test func canonicallyEquivalentPiecesStayDistinct() throws {
        let unigram = try makeModel(JSONValue.parse(
            "{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0],[\"\u{E0}\",-1.0],[\"a\u{300}\",-2.0],[\"a\",-5.0]]}"))
        var ids: [Int] = []
        unigram.tokenize("a\u{300}", into: &ids)
        #expect(ids == [2])
        ids = []
        unigram.tokenize("\u{E0}", into: &ids)
        #expect(ids == [1])
        #expect(unigram.tokenToId("a\u{300}") == 2)

        // WordPiece reads its vocabulary from a JSON object: its keys must stay distinct too.
        let wordPiece = try makeModel(JSONValue.parse(
            "{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"vocab\":{\"[UNK]\":0,\"\u{E0}\":1,\"a\u{300}\":2}}"))
        ids = []
        wordPiece.tokenize("a\u{300}", into: &ids)
        #expect(ids == [2])
        ids = []
        wordPiece.tokenize("\u{E0}", into: &ids)
        #expect(ids == [1])
    }
}
