import GGUF

/// The `tokenizer.*` metadata of a GGUF file, type-checked.
struct GGUFTokenizerMetadata {
    /// llama.cpp token types (`tokenizer.ggml.token_type`).
    enum TokenType: Int {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    let architecture: String
    let model: String
    let pre: String?
    let tokens: [String]
    let scores: [Double]?
    let tokenTypes: [Int]?
    let merges: [String]?
    let bosTokenId: Int?
    let eosTokenId: Int?
    let unknownTokenId: Int?
    let paddingTokenId: Int?
    let addBosToken: Bool?
    let addEosToken: Bool?
    let chatTemplate: String?

    init(_ file: GGUFFile, source: String) throws {
        func fail(_ reason: String) -> TokenizerError { .invalidFile(path: source, reason: reason) }
        func string(_ key: String) throws -> String? {
            guard let value = file[key] else { return nil }
            guard let s = value.stringValue else { throw fail("\(key) must be a string, found \(value.type)") }
            return s
        }
        func tokenId(_ key: String) throws -> Int? {
            guard let value = file[key] else { return nil }
            guard let id = value.intValue else { throw fail("\(key) must be an integer, found \(value.type)") }
            return id
        }
        func flag(_ key: String) throws -> Bool? {
            guard let value = file[key] else { return nil }
            guard let b = value.boolValue else { throw fail("\(key) must be a boolean, found \(value.type)") }
            return b
        }

        guard let architecture = try string("general.architecture") else {
            throw fail("general.architecture is missing")
        }
        guard let model = try string("tokenizer.ggml.model") else {
            throw fail("tokenizer.ggml.model is missing: the file has no tokenizer")
        }
        guard let tokensValue = file["tokenizer.ggml.tokens"] else {
            throw fail("tokenizer.ggml.tokens is missing")
        }
        guard let tokens = tokensValue.stringArray else {
            throw fail("tokenizer.ggml.tokens must be an array of strings")
        }
        self.architecture = architecture
        self.model = model
        self.tokens = tokens
        pre = try string("tokenizer.ggml.pre")

        if let value = file["tokenizer.ggml.scores"] {
            guard let scores = value.doubleArray, scores.count == tokens.count else {
                throw fail("tokenizer.ggml.scores must be \(tokens.count) numbers, one per token")
            }
            self.scores = scores
        } else {
            scores = nil
        }
        if let value = file["tokenizer.ggml.token_type"] {
            guard let types = value.intArray, types.count == tokens.count else {
                throw fail("tokenizer.ggml.token_type must be \(tokens.count) integers, one per token")
            }
            tokenTypes = types
        } else {
            tokenTypes = nil
        }
        if let value = file["tokenizer.ggml.merges"] {
            guard let merges = value.stringArray else {
                throw fail("tokenizer.ggml.merges must be an array of strings")
            }
            self.merges = merges
        } else {
            merges = nil
        }
        bosTokenId = try tokenId("tokenizer.ggml.bos_token_id")
        eosTokenId = try tokenId("tokenizer.ggml.eos_token_id")
        unknownTokenId = try tokenId("tokenizer.ggml.unknown_token_id")
        paddingTokenId = try tokenId("tokenizer.ggml.padding_token_id")
        for (key, id) in [("bos", bosTokenId), ("eos", eosTokenId), ("unknown", unknownTokenId),
                          ("padding", paddingTokenId)] {
            if let id, !tokens.indices.contains(id) {
                throw fail("tokenizer.ggml.\(key)_token_id \(id) is outside the vocabulary (\(tokens.count) tokens)")
            }
        }
        addBosToken = try flag("tokenizer.ggml.add_bos_token")
        addEosToken = try flag("tokenizer.ggml.add_eos_token")
        chatTemplate = try string("tokenizer.chat_template")
    }

    /// The token string of an id read from the metadata (validated to be in range).
    func token(_ id: Int?) -> String? {
        guard let id, tokens.indices.contains(id) else { return nil }
        return tokens[id]
    }

    /// The tokens of type `type`, in id order.
    func tokens(ofType type: TokenType) -> [String] {
        guard let tokenTypes else { return [] }
        var out: [String] = []
        for (token, t) in zip(tokens, tokenTypes) where t == type.rawValue {
            out.append(token)
        }
        return out
    }
}
