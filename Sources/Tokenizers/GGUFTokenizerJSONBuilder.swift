import JSON

/// Assembles the tokenizer.json of a GGUF vocabulary step by step, in the order transformers builds it: the
/// tokenizer class (GPT2Tokenizer, LlamaTokenizer, GemmaTokenizer) with its default special tokens, then the
/// file's control and user-defined tokens, then the file's bos/eos/unk/pad, then the post-processor.
/// Added-token ids and flags follow HF tokenizers' `AddedVocabulary`: a token already in the vocabulary keeps
/// its id, a new one gets the next free id, and re-adding a token replaces its flags.
struct GGUFTokenizerJSONBuilder {
    /// One entry of `added_tokens`.
    struct AddedToken {
        var id: Int
        var content: String
        var special: Bool
    }

    /// The model vocabulary in insertion order (a Python dict: a repeated token keeps its first position and
    /// its last id).
    private(set) var vocabOrder: [String] = []
    private(set) var vocab: [String: Int] = [:]
    private(set) var merges: [(String, String)] = []
    private var modelOptions: [(String, JSONValue)] = []
    private var normalizer: JSONValue = .null
    private var preTokenizer: JSONValue = .null
    private var decoder: JSONValue = .null
    private var added: [AddedToken] = []
    private var addedIndex: [String: Int] = [:]
    /// Whether the vocabulary is spelled in the GPT-2 byte alphabet.
    private var byteLevel = false
    /// `tokenizer.ggml.add_bos_token` when the file does not say (llama.cpp adds BOS to SentencePiece vocabularies).
    private var defaultAddBos = false

    // MARK: Tokenizer classes

    /// `byte_level_tokenizer`: GPT2Tokenizer over the vocabulary re-spelled into the byte alphabet.
    static func byteLevel(_ metadata: GGUFTokenizerMetadata, source: String) throws -> Self {
        var builder = Self()
        builder.byteLevel = true
        let alphabet = GGUFByteAlphabet.characters
        for (id, token) in metadata.tokens.enumerated() {
            let spelled = token.unicodeScalars.allSatisfy { alphabet.contains($0) } ? token : GGUFByteAlphabet.spell(token)
            builder.insertVocab(spelled, id: id)
        }
        builder.merges = try mergesFromFile(metadata, source: source)
            ?? generatedMerges(tokens: metadata.tokens, scores: try requiredScores(metadata, source: source))
        builder.modelOptions = [
            ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .string("")),
            ("end_of_word_suffix", .string("")), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
            ("ignore_merges", .bool(false)),
        ]
        builder.preTokenizer = object([
            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)),
            ("use_regex", .bool(true)),
        ])
        builder.decoder = object([
            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)), ("trim_offsets", .bool(true)),
            ("use_regex", .bool(true)),
        ])
        // GPT2Tokenizer's defaults for bos, eos and unk.
        builder.addTokens(["<|endoftext|>"], special: true)
        return builder
    }

    /// `sentencepiece_tokenizer` and the per-architecture variants (`phi3`, `gemma*`).
    static func sentencePiece(_ metadata: GGUFTokenizerMetadata, source: String) throws -> Self {
        switch metadata.architecture {
        case "gemma", "gemma2", "gemma3":
            return try gemma(metadata, source: source)
        case "phi3":
            var builder = try llama(metadata, source: source)
            // Phi-3 puts the prefix space in a normalizer, which differs from Metaspace on text starting with spaces.
            builder.normalizer = object([
                ("type", .string("Sequence")),
                ("normalizers", .array([
                    object([("type", .string("Prepend")), ("prepend", .string("\u{2581}"))]),
                    replace(" ", "\u{2581}"),
                ])),
            ])
            builder.preTokenizer = .null
            return builder
        default:
            return try llama(metadata, source: source)
        }
    }

    /// `gemma4` files: SentencePiece with GemmaTokenizer's shape and no BOS.
    static func gemma4(_ metadata: GGUFTokenizerMetadata, source: String) throws -> Self {
        var builder = Self()
        for (id, token) in metadata.tokens.enumerated() { builder.insertVocab(token, id: id) }
        builder.merges = try mergesFromFile(metadata, source: source)
            ?? generatedMerges(tokens: metadata.tokens, scores: try requiredScores(metadata, source: source))
        builder.applyGemmaShape()
        return builder
    }

    /// LlamaTokenizer: BPE with byte fallback, Metaspace (prepend "first"), no normalizer.
    private static func llama(_ metadata: GGUFTokenizerMetadata, source: String) throws -> Self {
        var builder = Self()
        builder.defaultAddBos = true
        for (id, token) in metadata.tokens.enumerated() { builder.insertVocab(token, id: id) }
        builder.merges = try mergesFromFile(metadata, source: source)
            ?? generatedMerges(tokens: metadata.tokens, scores: try requiredScores(metadata, source: source))
        builder.modelOptions = [
            ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null), ("fuse_unk", .bool(true)), ("byte_fallback", .bool(true)),
            ("ignore_merges", .bool(false)),
        ]
        builder.preTokenizer = object([
            ("type", .string("Metaspace")), ("replacement", .string("\u{2581}")),
            ("prepend_scheme", .string("first")), ("split", .bool(false)),
        ])
        builder.decoder = object([
            ("type", .string("Sequence")),
            ("decoders", .array([
                replace("\u{2581}", " "), object([("type", .string("ByteFallback"))]),
                object([("type", .string("Fuse"))]),
                object([("type", .string("Strip")), ("content", .string(" ")), ("start", .int(1)), ("stop", .int(0))]),
            ])),
        ])
        // LlamaTokenizer's defaults for bos, eos and unk, in transformers' special-token order.
        builder.addTokens(["<s>", "</s>", "<unk>"], special: true)
        return builder
    }

    /// `gemma_tokenizer`: tokens made only of spaces are re-spelled with "▁", and merges are derived with the
    /// file order (not the scores) as priority.
    private static func gemma(_ metadata: GGUFTokenizerMetadata, source: String) throws -> Self {
        var builder = Self()
        builder.defaultAddBos = true
        let tokens = metadata.tokens.map { token -> String in
            let scalars = token.unicodeScalars
            let onlyWhitespace = scalars.allSatisfy { $0.properties.isWhitespace }
            guard scalars.contains(" "), onlyWhitespace else { return token }
            return String(repeating: "\u{2581}", count: scalars.count)
        }
        for (id, token) in tokens.enumerated() { builder.insertVocab(token, id: id) }
        if let fileMerges = try mergesFromFile(metadata, source: source) {
            builder.merges = fileMerges
        } else {
            builder.merges = generatedMerges(tokens: tokens, scores: tokens.indices.map { -Double($0) })
        }
        builder.applyGemmaShape()
        return builder
    }

    /// GemmaTokenizer's model options, normalizer, pre-tokenizer, decoder and default special tokens.
    private mutating func applyGemmaShape() {
        modelOptions = [
            ("dropout", .null), ("unk_token", .string("<unk>")), ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null), ("fuse_unk", .bool(true)), ("byte_fallback", .bool(true)),
            ("ignore_merges", .bool(false)),
        ]
        normalizer = Self.replace(" ", "\u{2581}")
        preTokenizer = Self.object([
            ("type", .string("Split")), ("pattern", Self.object([("String", .string(" "))])),
            ("behavior", .string("MergedWithPrevious")), ("invert", .bool(false)),
        ])
        decoder = Self.object([
            ("type", .string("Sequence")),
            ("decoders", .array([
                Self.replace("\u{2581}", " "), Self.object([("type", .string("ByteFallback"))]),
                Self.object([("type", .string("Fuse"))]),
            ])),
        ])
        addTokens(["<bos>", "<eos>", "<unk>", "<pad>", "<mask>"], special: true)
    }

    // MARK: Steps shared by all classes

    /// `add_gguf_special_tokens`: control tokens become special added tokens (in a byte-level vocabulary only
    /// those spelled in the byte alphabet), user-defined tokens present in the vocabulary plain added tokens.
    mutating func addGGUFSpecialTokens(_ metadata: GGUFTokenizerMetadata) {
        var control = metadata.tokens(ofType: .control)
        if byteLevel {
            let alphabet = GGUFByteAlphabet.characters
            control = control.filter { $0.unicodeScalars.allSatisfy { alphabet.contains($0) } }
        }
        addTokens(control, special: true)
        let userDefined = metadata.tokens(ofType: .userDefined).filter { addedIndex[$0] != nil || vocab[$0] != nil }
        addTokens(userDefined, special: false)
    }

    /// `set_split_regex`: known `tokenizer.ggml.pre` names get their split regex before the ByteLevel step.
    mutating func setSplitRegex(pre: String?) {
        guard let pre, let pattern = GGUFPreTokenizerRegex.pattern(forPre: pre) else { return }
        preTokenizer = Self.object([
            ("type", .string("Sequence")),
            ("pretokenizers", .array([
                Self.object([
                    ("type", .string("Split")), ("pattern", Self.object([("Regex", .string(pattern))])),
                    ("behavior", .string("Isolated")), ("invert", .bool(false)),
                ]),
                Self.object([
                    ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)),
                    ("trim_offsets", .bool(true)), ("use_regex", .bool(false)),
                ]),
            ])),
        ])
    }

    /// Adds the file's named special tokens, builds the post-processor and returns tokenizer.json and
    /// tokenizer_config.json content.
    mutating func finish(_ metadata: GGUFTokenizerMetadata) -> (tokenizer: JSONValue, config: JSONValue) {
        let bos = metadata.token(metadata.bosTokenId)
        let eos = metadata.token(metadata.eosTokenId)
        let unk = metadata.token(metadata.unknownTokenId)
        let pad = metadata.token(metadata.paddingTokenId)
        // TokenizersBackend adds named special tokens that are not added tokens yet (bos, eos, unk, pad order).
        for token in [bos, eos, unk, pad].compactMap({ $0 }) where addedIndex[token] == nil {
            addTokens([token], special: true)
        }

        var addBos = metadata.addBosToken ?? defaultAddBos
        var addEos = metadata.addEosToken ?? false
        if metadata.model == "gemma4" { addBos = false }
        if bos == nil { addBos = false }
        if eos == nil { addEos = false }

        let tokenizer = Self.object([
            ("version", .string("1.0")),
            ("truncation", .null),
            ("padding", .null),
            ("added_tokens", .array(added.sorted { $0.id < $1.id }.map(Self.addedTokenJSON))),
            ("normalizer", normalizer),
            ("pre_tokenizer", preTokenizer),
            ("post_processor", postProcessor(bos: addBos ? bos : nil, eos: addEos ? eos : nil)),
            ("decoder", decoder),
            ("model", modelJSON()),
        ])
        var config: [(String, JSONValue)] = [
            ("add_bos_token", .bool(addBos)),
            ("add_eos_token", .bool(addEos)),
            ("backend", .string("tokenizers")),
        ]
        for (key, value) in [("bos_token", bos), ("eos_token", eos), ("pad_token", pad), ("unk_token", unk)] {
            if let value { config.append((key, .string(value))) }
        }
        config.append(("tokenizer_class", .string("TokenizersBackend")))
        return (tokenizer, Self.object(config))
    }

    // MARK: Pieces

    /// Adds the token at file position `id` to the vocabulary (a repeated token takes the later id).
    private mutating func insertVocab(_ token: String, id: Int) {
        if vocab.updateValue(id, forKey: token) == nil { vocabOrder.append(token) }
    }

    /// The id an added token gets: its id if known (added tokens first, then the model), else the next free id.
    private func idForNewToken(_ content: String) -> Int {
        if let index = addedIndex[content] { return added[index].id }
        if let id = vocab[content] { return id }
        let vocabSize = vocab.count
        guard let maxAdded = added.map(\.id).max() else { return vocabSize }
        return (maxAdded >= vocabSize || vocabSize == 0) ? maxAdded + 1 : vocabSize
    }

    private mutating func addTokens(_ tokens: [String], special: Bool) {
        for content in tokens where !content.isEmpty {
            if let index = addedIndex[content] {
                added[index].special = special
            } else {
                let id = idForNewToken(content)
                addedIndex[content] = added.count
                added.append(AddedToken(id: id, content: content, special: special))
            }
        }
    }

    private func postProcessor(bos: String?, eos: String?) -> JSONValue {
        func special(_ token: String, _ typeId: Int) -> JSONValue {
            Self.object([("SpecialToken", Self.object([("id", .string(token)), ("type_id", .int(typeId))]))])
        }
        func sequence(_ name: String, _ typeId: Int) -> JSONValue {
            Self.object([("Sequence", Self.object([("id", .string(name)), ("type_id", .int(typeId))]))])
        }
        var single: [JSONValue] = []
        if let bos { single.append(special(bos, 0)) }
        single.append(sequence("A", 0))
        if let eos { single.append(special(eos, 0)) }
        var pair = single
        if let bos { pair.append(special(bos, 1)) }
        pair.append(sequence("B", 1))
        if let eos { pair.append(special(eos, 1)) }

        var specials = JSONObject()
        for token in [bos, eos].compactMap({ $0 }) {
            let id = addedIndex[token].map { added[$0].id } ?? vocab[token]
            specials[token] = Self.object([
                ("id", .string(token)), ("ids", .array(id.map { [.int($0)] } ?? [])),
                ("tokens", .array([.string(token)])),
            ])
        }
        return Self.object([
            ("type", .string("TemplateProcessing")), ("single", .array(single)), ("pair", .array(pair)),
            ("special_tokens", .object(specials)),
        ])
    }

    private func modelJSON() -> JSONValue {
        var vocabJSON = JSONObject()
        for token in vocabOrder {
            if let id = vocab[token] { vocabJSON[token] = .int(id) }
        }
        var fields: [(String, JSONValue)] = [("type", .string("BPE"))]
        fields += modelOptions
        fields.append(("vocab", .object(vocabJSON)))
        fields.append(("merges", .array(merges.map { .array([.string($0.0), .string($0.1)]) })))
        return Self.object(fields)
    }

    private static func addedTokenJSON(_ token: AddedToken) -> JSONValue {
        object([
            ("id", .int(token.id)), ("content", .string(token.content)), ("single_word", .bool(false)),
            ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
            ("special", .bool(token.special)),
        ])
    }

    private static func object(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs)) }

    private static func replace(_ pattern: String, _ content: String) -> JSONValue {
        object([("type", .string("Replace")), ("pattern", object([("String", .string(pattern))])),
                ("content", .string(content))])
    }

    // MARK: Merges

    /// The file's merges ("left right" strings), or nil when it has none.
    private static func mergesFromFile(_ metadata: GGUFTokenizerMetadata, source: String) throws -> [(String, String)]? {
        guard let lines = metadata.merges else { return nil }
        var merges: [(String, String)] = []
        merges.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.invalidFile(
                    path: source, reason: "tokenizer.ggml.merges[\(index)] '\(line)' is not two tokens separated by one space")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        return merges
    }

    private static func requiredScores(_ metadata: GGUFTokenizerMetadata, source: String) throws -> [Double] {
        guard let scores = metadata.scores else {
            throw TokenizerError.invalidFile(
                path: source, reason: "the file has neither tokenizer.ggml.merges nor tokenizer.ggml.scores to derive them from")
        }
        return scores
    }

    /// transformers' `generate_merges(vocab, vocab_scores)`: every split of every token into two vocabulary
    /// tokens is a merge; merges are ordered by the token's score (highest first), then by the lengths of the
    /// two halves (longest first), keeping the file order otherwise. Lengths count code points, as Python does.
    static func generatedMerges(tokens: [String], scores: [Double]) -> [(String, String)] {
        var vocab: [String: Int] = [:]
        for (index, token) in tokens.enumerated() { vocab[token] = index }
        // dict(zip(tokens, scores)): first position, last score.
        var order: [String] = []
        var score: [String: Double] = [:]
        for (token, value) in zip(tokens, scores) {
            if score.updateValue(value, forKey: token) == nil { order.append(token) }
        }

        struct Candidate {
            var left: String
            var right: String
            var score: Double
            var leftLength: Int
            var rightLength: Int
            var position: Int
        }
        var candidates: [Candidate] = []
        for token in order {
            guard let tokenScore = score[token] else { continue }
            let scalars = Array(token.unicodeScalars)
            guard scalars.count > 1 else { continue }
            var local: [(left: String, right: String, leftId: Int, rightId: Int, split: Int)] = []
            for split in 1 ..< scalars.count {
                var left = String.UnicodeScalarView()
                left.append(contentsOf: scalars[..<split])
                var right = String.UnicodeScalarView()
                right.append(contentsOf: scalars[split...])
                let l = String(left)
                let r = String(right)
                if let leftId = vocab[l], let rightId = vocab[r] {
                    local.append((l, r, leftId, rightId, split))
                }
            }
            local.sort { ($0.leftId, $0.rightId, $0.split) < ($1.leftId, $1.rightId, $1.split) }
            for entry in local {
                candidates.append(Candidate(
                    left: entry.left, right: entry.right, score: tokenScore, leftLength: entry.split,
                    rightLength: scalars.count - entry.split, position: candidates.count))
            }
        }
        // Python's sorted(reverse=True) is stable: equal keys keep their order.
        candidates.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.leftLength != b.leftLength { return a.leftLength > b.leftLength }
            if a.rightLength != b.rightLength { return a.rightLength > b.rightLength }
            return a.position < b.position
        }
        return candidates.map { ($0.left, $0.right) }
    }
}

/// GPT-2's `bytes_to_unicode`: the printable stand-in character of every byte.
enum GGUFByteAlphabet {
    /// The stand-in of byte `b` is `table[b]`.
    static let table: [Unicode.Scalar] = {
        var printable: [Int] = Array(33 ... 126) + Array(161 ... 172) + Array(174 ... 255)
        var codes = printable
        var next = 0
        for byte in 0 ..< 256 where !printable.contains(byte) {
            printable.append(byte)
            codes.append(256 + next)
            next += 1
        }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for (byte, code) in zip(printable, codes) {
            table[byte] = Unicode.Scalar(UInt32(code)) ?? " "
        }
        return table
    }()

    /// The 256 stand-in characters.
    static let characters: Set<Unicode.Scalar> = Set(table)

    /// `token`'s UTF-8 bytes spelled in the byte alphabet.
    static func spell(_ token: String) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in token.utf8 { scalars.append(table[Int(byte)]) }
        return String(scalars)
    }
}

/// The split regexes transformers uses for llama.cpp's `tokenizer.ggml.pre` names
/// (`GGUF_PRE_TOKENIZER_SPLITS`). Names not listed keep the class's own pre-tokenizer.
enum GGUFPreTokenizerRegex {
    static let llama3 =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let tekken =
        #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"#
        + #"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"#
        + #"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let gpt4o =
        #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#
        + #"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#
        + #"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen35 =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The split regex for a `tokenizer.ggml.pre` name, or nil.
    static func pattern(forPre pre: String) -> String? {
        switch pre {
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
             "jina-v5-nano", "dbrx", "smaug-bpe":
            return llama3
        case "tekken": return tekken
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez": return qwen2
        case "qwen35": return qwen35
        case "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2": return gpt4o
        default: return nil
        }
    }
}
