import JSON

/// A Hugging Face tokenizer: the tokenizer.json pipeline (added tokens → normalizer → pre-tokenizer → model →
/// post-processor, and the decoder back), plus the tokenizer_config.json settings (special tokens,
/// `add_bos_token`/`add_eos_token`, chat templates). Immutable and safe to share between threads.
public final class Tokenizer: Sendable {
    let normalizer: (any Normalizer)?
    let preTokenizer: (any PreTokenizer)?
    let model: any TokenizerModel
    let postProcessor: (any PostProcessor)?
    let decoder: (any TokenDecoder)?
    let addedVocabulary: AddedVocabulary
    /// Byte-level BPE fast path (nil when the pipeline has another shape).
    let fastEncoder: ByteLevelBPEEncoder?
    /// Raw bytes of every id for a plain `ByteLevel` decoder (nil otherwise).
    let byteDecoder: ByteLevelDecodeTable?
    /// transformers' override of the post-processor: `[bos] $A [eos]` when tokenizer_config.json sets
    /// `add_bos_token`/`add_eos_token` explicitly or tokenizer.json has no post-processor.
    private let bosEosTemplate: (bos: Int?, eos: Int?)?
    private let cleanUpTokenizationSpaces: Bool

    /// The beginning/end-of-sequence, padding and unknown tokens of tokenizer_config.json.
    public let bosToken: String?
    public let eosToken: String?
    public let padToken: String?
    public let unkToken: String?
    /// Whether encoding with special tokens adds the BOS / EOS token (tokenizer_config.json).
    public let addBosToken: Bool
    public let addEosToken: Bool
    /// The default chat template (tokenizer_config.json `chat_template`, or chat_template.jinja).
    public let chatTemplate: String?
    /// Every named chat template (e.g. `default`, `tool_use`, `rag`).
    public let namedChatTemplates: [String: String]
    /// The added tokens, in tokenizer.json order.
    public var addedTokens: [AddedToken] { addedVocabulary.tokens }

    /// Builds a tokenizer from the contents of tokenizer.json, tokenizer_config.json (optional) and a chat
    /// template (chat_template.jinja; it takes precedence over the config's `chat_template`).
    public init(tokenizerJSON: JSONValue, config: JSONValue?, chatTemplate: String?) throws {
        guard tokenizerJSON.objectValue != nil else {
            throw TokenizerError.invalidComponent(kind: "tokenizer", reason: "tokenizer.json must be an object, found \(tokenizerJSON.typeName)")
        }
        guard let modelJSON = tokenizerJSON["model"] else {
            throw TokenizerError.invalidComponent(kind: "model", reason: "tokenizer.json has no 'model'")
        }
        let normalizer = try makeOptionalNormalizer(tokenizerJSON["normalizer"])
        let preTokenizer = try makeOptionalPreTokenizer(tokenizerJSON["pre_tokenizer"])
        let model = try makeModel(modelJSON)
        let postProcessor = try makeOptionalPostProcessor(tokenizerJSON["post_processor"])
        let decoder = try makeOptionalDecoder(tokenizerJSON["decoder"])
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.decoder = decoder

        var added: [AddedToken] = []
        if let list = tokenizerJSON["added_tokens"], !list.isNull {
            guard let items = list.arrayValue else {
                throw TokenizerError.invalidComponent(kind: "added_tokens", reason: "expected an array, found \(list.typeName)")
            }
            added = try items.map { try AddedToken(json: $0) }
        }
        let settings = try TokenizerSettings(config: config)
        // transformers adds config-only added tokens (slow-tokenizer conversions) after tokenizer.json's.
        let known = Set(added.map(\.content))
        for token in settings.addedTokensDecoder where !known.contains(token.content) { added.append(token) }
        addedVocabulary = AddedVocabulary(tokens: added, normalizer: normalizer)

        bosToken = settings.bosToken
        eosToken = settings.eosToken
        padToken = settings.padToken
        unkToken = settings.unkToken
        addBosToken = settings.addBosToken ?? false
        addEosToken = settings.addEosToken ?? false
        namedChatTemplates = settings.namedChatTemplates
        if let chatTemplate {
            self.chatTemplate = chatTemplate
        } else {
            self.chatTemplate = settings.chatTemplate
        }
        cleanUpTokenizationSpaces = settings.cleanUpTokenizationSpaces && !(model is BPEModel)

        if let bpe = model as? BPEModel, normalizer == nil || tokenizerJSON["normalizer"]?["type"]?.stringValue == "NFC" {
            fastEncoder = ByteLevelBPEEncoder(preTokenizer: tokenizerJSON["pre_tokenizer"], model: bpe)
        } else {
            fastEncoder = nil
        }

        let vocab = model
        let addedVocabulary = addedVocabulary
        func tokenId(_ token: String?) -> Int? {
            guard let token else { return nil }
            return addedVocabulary.id(of: token) ?? vocab.tokenToId(token)
        }
        if settings.addBosToken != nil || settings.addEosToken != nil || postProcessor == nil {
            let bos = addBosToken ? tokenId(settings.bosToken) : nil
            let eos = addEosToken ? tokenId(settings.eosToken) : nil
            bosEosTemplate = (bos, eos)
        } else {
            bosEosTemplate = nil
        }
        // The byte table is dense in ids; very sparse added-token ids keep the generic decoder instead.
        let maxAddedId = added.map(\.id).max() ?? -1
        if tokenizerJSON["decoder"]?["type"]?.stringValue == "ByteLevel", maxAddedId < max(1 << 24, 2 * model.vocabSize) {
            byteDecoder = ByteLevelDecodeTable(model: model, added: addedVocabulary)
        } else {
            byteDecoder = nil
        }
    }

    // MARK: Vocabulary

    /// The number of distinct tokens, added tokens included (HF `get_vocab_size(with_added_tokens=True)`).
    public var vocabSize: Int {
        model.vocabSize + addedVocabulary.tokens.filter { model.tokenToId($0.content) == nil }.count
    }

    /// The id of a token string (an added token's content or a vocabulary entry in the model's alphabet).
    public func tokenToId(_ token: String) -> Int? {
        addedVocabulary.id(of: token) ?? model.tokenToId(token)
    }

    /// The token string of an id, or nil when no token has that id.
    public func idToToken(_ id: Int) -> String? {
        addedVocabulary.content(of: id) ?? model.idToToken(id)
    }

    public var bosTokenId: Int? { bosToken.flatMap(tokenToId) }
    public var eosTokenId: Int? { eosToken.flatMap(tokenToId) }
    public var padTokenId: Int? { padToken.flatMap(tokenToId) }
    public var unkTokenId: Int? { unkToken.flatMap(tokenToId) }

    /// The ids of added tokens marked `special` (what `decode(skipSpecialTokens: true)` leaves out).
    public var specialTokenIds: Set<Int> { addedVocabulary.specialIds }

    // MARK: Encoding

    /// The token ids of `text`. Added and special tokens written in the text are recognised; with
    /// `addSpecialTokens` the post-processor adds its tokens (e.g. BOS).
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        let segments = addedVocabulary.split(text, normalizer: normalizer)
        if let fastEncoder {
            fastEncoder.withState { state in
                for segment in segments {
                    switch segment {
                    case .token(let id): ids.append(id)
                    case .text(let piece, _): fastEncoder.encode(piece, into: &ids, state: &state)
                    }
                }
            }
        } else {
            for segment in segments {
                switch segment {
                case .token(let id): ids.append(id)
                case .text(let piece, let atStart): encodeGeneric(piece, atTextStart: atStart, into: &ids)
                }
            }
        }
        return postProcess(ids, addSpecialTokens: addSpecialTokens)
    }

    /// Pre-tokenizer and model on one normalized text piece.
    private func encodeGeneric(_ text: String, atTextStart: Bool, into ids: inout [Int]) {
        var pieces = [PreToken(text: text, atTextStart: atTextStart)]
        if let preTokenizer { pieces = preTokenizer.preTokenize(pieces) }
        if let bpe = model as? BPEModel {
            bpe.statePool.withState { state in
                for piece in pieces where !piece.text.isEmpty { bpe.tokenize(piece.text, into: &ids, state: &state) }
            }
        } else {
            for piece in pieces where !piece.text.isEmpty { model.tokenize(piece.text, into: &ids) }
        }
    }

    private func postProcess(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        if let template = bosEosTemplate {
            guard addSpecialTokens else { return ids }
            var out: [Int] = []
            out.reserveCapacity(ids.count + 2)
            if let bos = template.bos { out.append(bos) }
            out.append(contentsOf: ids)
            if let eos = template.eos { out.append(eos) }
            return out
        }
        return postProcessor?.process(ids, addSpecialTokens: addSpecialTokens) ?? ids
    }

    // MARK: Decoding

    /// The text of `ids` (unknown ids are left out). With `skipSpecialTokens`, added tokens marked special
    /// are left out too.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        let special = addedVocabulary.specialIds
        if let byteDecoder {
            return byteDecoder.decode(ids, skip: skipSpecialTokens ? special : [])
        }
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens && special.contains(id) { continue }
            if let token = idToToken(id) { tokens.append(token) }
        }
        let text = decoder.map { $0.decodeChain(tokens).joined() } ?? tokens.joined(separator: " ")
        return cleanUpTokenizationSpaces ? Tokenizer.cleanUpTokenization(text) : text
    }

    /// transformers' `clean_up_tokenization` (applied when the config asks for it and the model is not BPE).
    static func cleanUpTokenization(_ text: String) -> String {
        var s = text
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacing(from, with: to)
        }
        return s
    }

    /// A streaming detokenizer for this tokenizer. `context` ids (e.g. the prompt) give the first new
    /// tokens their left context and are not emitted themselves.
    public func makeIncrementalDetokenizer(skipSpecialTokens: Bool = false, context: [Int] = []) -> IncrementalDetokenizer {
        IncrementalDetokenizer(tokenizer: self, skipSpecialTokens: skipSpecialTokens, context: context)
    }
}

/// The raw bytes of every token for a `ByteLevel` decoder, so decoding is a table-driven byte copy.
struct ByteLevelDecodeTable: Sendable {
    private let offsets: [Int32]
    private let bytes: [UInt8]

    init(model: any TokenizerModel, added: AddedVocabulary) {
        var addedById: [Int: String] = [:]
        for token in added.tokens where addedById[token.id] == nil { addedById[token.id] = added.content(of: token.id) }
        let count = max(model.vocabSize, (addedById.keys.max() ?? -1) + 1, (model as? BPEModel)?.vocabReverse.count ?? 0)
        var offsets: [Int32] = [0]
        var bytes: [UInt8] = []
        offsets.reserveCapacity(count + 1)
        for id in 0..<count {
            if let token = addedById[id] ?? model.idToToken(id) {
                bytes.append(contentsOf: ByteLevelAlphabet.decode(token) ?? Array(token.utf8))
            }
            offsets.append(Int32(bytes.count))
        }
        self.offsets = offsets
        self.bytes = bytes
    }

    func decode(_ ids: [Int], skip: Set<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        let n = offsets.count - 1
        for id in ids where id >= 0 && id < n {
            if !skip.isEmpty && skip.contains(id) { continue }
            out.append(contentsOf: bytes[Int(offsets[id])..<Int(offsets[id + 1])])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
