import JSON

/// The parts of tokenizer_config.json the tokenizer uses.
struct TokenizerSettings: Sendable {
    var bosToken: String?
    var eosToken: String?
    var padToken: String?
    var unkToken: String?
    /// nil when the config does not say (transformers then keeps tokenizer.json's post-processor).
    var addBosToken: Bool?
    var addEosToken: Bool?
    var chatTemplate: String?
    var namedChatTemplates: [String: String] = [:]
    var addedTokensDecoder: [AddedToken] = []
    var cleanUpTokenizationSpaces = false

    init(config: JSONValue?) throws {
        guard let config, !config.isNull else { return }
        func fail(_ reason: String) -> TokenizerError { .invalidComponent(kind: "tokenizer_config", reason: reason) }
        guard config.objectValue != nil else { throw fail("expected an object, found \(config.typeName)") }

        /// A special token written as a string or as an AddedToken object `{"content": ...}`.
        func token(_ key: String) throws -> String? {
            guard let value = config[key], !value.isNull else { return nil }
            if let s = value.stringValue { return s }
            if let s = value["content"]?.stringValue { return s }
            throw fail("'\(key)' must be a string or an object with 'content'")
        }
        bosToken = try token("bos_token")
        eosToken = try token("eos_token")
        padToken = try token("pad_token")
        unkToken = try token("unk_token")
        addBosToken = config["add_bos_token"]?.boolValue
        addEosToken = config["add_eos_token"]?.boolValue
        cleanUpTokenizationSpaces = config["clean_up_tokenization_spaces"]?.boolValue ?? false

        if let template = config["chat_template"], !template.isNull {
            if let s = template.stringValue {
                chatTemplate = s
            } else if let list = template.arrayValue {
                for item in list {
                    guard let name = item["name"]?.stringValue, let text = item["template"]?.stringValue else {
                        throw fail("'chat_template' list entries need string 'name' and 'template'")
                    }
                    namedChatTemplates[name] = text
                }
                chatTemplate = namedChatTemplates["default"]
            } else {
                throw fail("'chat_template' must be a string or a list of {name, template}")
            }
        }

        if let decoderTokens = config["added_tokens_decoder"], !decoderTokens.isNull {
            guard let object = decoderTokens.objectValue else { throw fail("'added_tokens_decoder' must be an object") }
            for (key, value) in object {
                guard let id = Int(key) else { throw fail("'added_tokens_decoder' key '\(key)' is not an id") }
                addedTokensDecoder.append(try AddedToken(json: value, defaultId: id))
            }
            addedTokensDecoder.sort { $0.id < $1.id }
        }
    }
}
