import JSON

// Builds pipeline components from their tokenizer.json objects by switching on `type`.
// Sequence components of every kind call back into these functions for their children.

/// The `type` string of a component object, or an error naming the component kind.
private func componentType(_ json: JSONValue, kind: String) throws -> String {
    guard json.objectValue != nil else {
        throw TokenizerError.invalidComponent(kind: kind, reason: "expected an object, found \(json.typeName)")
    }
    guard let type = json["type"]?.stringValue else {
        throw TokenizerError.invalidComponent(kind: kind, reason: "missing string field 'type'")
    }
    return type
}

/// Builds a normalizer from its tokenizer.json object.
func makeNormalizer(_ json: JSONValue) throws -> any Normalizer {
    switch try componentType(json, kind: "normalizer") {
    case "Sequence": return try SequenceNormalizer(json: json)
    case "NFC": return try NFCNormalizer(json: json)
    case "NFD": return try NFDNormalizer(json: json)
    case "NFKC": return try NFKCNormalizer(json: json)
    case "NFKD": return try NFKDNormalizer(json: json)
    case "Lowercase": return try LowercaseNormalizer(json: json)
    case "Strip": return try StripNormalizer(json: json)
    case "StripAccents": return try StripAccentsNormalizer(json: json)
    case "Replace": return try ReplaceNormalizer(json: json)
    case "Prepend": return try PrependNormalizer(json: json)
    case "BertNormalizer": return try BertNormalizer(json: json)
    case "Precompiled": return try PrecompiledNormalizer(json: json)
    case let other: throw TokenizerError.unknownComponent(kind: "normalizer", type: other)
    }
}

/// Builds a pre-tokenizer from its tokenizer.json object. A `Split` whose regex is one of the GPT-2,
/// Llama-3 or Qwen2 patterns (Isolated, not inverted) gets the hand-written scanner instead of a regex.
func makePreTokenizer(_ json: JSONValue) throws -> any PreTokenizer {
    switch try componentType(json, kind: "pre_tokenizer") {
    case "Sequence": return try SequencePreTokenizer(json: json)
    case "ByteLevel": return try ByteLevelPreTokenizer(json: json)
    case "Split":
        if let scanner = ScannerPreTokenizer(splitJSON: json) { return scanner }
        return try SplitPreTokenizer(json: json)
    case "Metaspace": return try MetaspacePreTokenizer(json: json)
    case "Digits": return try DigitsPreTokenizer(json: json)
    case "Whitespace": return try WhitespacePreTokenizer(json: json)
    case "WhitespaceSplit": return try WhitespaceSplitPreTokenizer(json: json)
    case "BertPreTokenizer": return try BertPreTokenizer(json: json)
    case "Punctuation": return try PunctuationPreTokenizer(json: json)
    case let other: throw TokenizerError.unknownComponent(kind: "pre_tokenizer", type: other)
    }
}

/// Builds the model from its tokenizer.json object. Old files omit `type`; it is inferred from the fields.
func makeModel(_ json: JSONValue) throws -> any TokenizerModel {
    guard json.objectValue != nil else {
        throw TokenizerError.invalidComponent(kind: "model", reason: "expected an object, found \(json.typeName)")
    }
    let type: String
    if let t = json["type"]?.stringValue {
        type = t
    } else if json["merges"] != nil {
        type = "BPE"
    } else if json["vocab"]?.arrayValue != nil {
        type = "Unigram"
    } else if json["max_input_chars_per_word"] != nil {
        type = "WordPiece"
    } else {
        throw TokenizerError.invalidComponent(kind: "model", reason: "missing field 'type' and the fields do not identify a model")
    }
    switch type {
    case "BPE": return try BPEModel(json: json)
    case "WordPiece": return try WordPieceModel(json: json)
    case "Unigram": return try UnigramModel(json: json)
    case let other: throw TokenizerError.unknownComponent(kind: "model", type: other)
    }
}

/// Builds a post-processor from its tokenizer.json object.
func makePostProcessor(_ json: JSONValue) throws -> any PostProcessor {
    switch try componentType(json, kind: "post_processor") {
    case "TemplateProcessing": return try TemplateProcessingPostProcessor(json: json)
    case "BertProcessing": return try BertPostProcessor(json: json)
    case "RobertaProcessing": return try RobertaPostProcessor(json: json)
    case "ByteLevel": return try ByteLevelPostProcessor(json: json)
    case "Sequence": return try SequencePostProcessor(json: json)
    case let other: throw TokenizerError.unknownComponent(kind: "post_processor", type: other)
    }
}

/// Builds a decoder from its tokenizer.json object.
func makeDecoder(_ json: JSONValue) throws -> any TokenDecoder {
    switch try componentType(json, kind: "decoder") {
    case "Sequence": return try SequenceDecoder(json: json)
    case "ByteLevel": return try ByteLevelDecoder(json: json)
    case "Metaspace": return try MetaspaceDecoder(json: json)
    case "ByteFallback": return try ByteFallbackDecoder(json: json)
    case "Fuse": return try FuseDecoder(json: json)
    case "Strip": return try StripDecoder(json: json)
    case "Replace": return try ReplaceDecoder(json: json)
    case "WordPiece": return try WordPieceDecoder(json: json)
    case let other: throw TokenizerError.unknownComponent(kind: "decoder", type: other)
    }
}

/// The optional variants for the top-level tokenizer.json fields, where `null` (or absence) means "none".
func makeOptionalNormalizer(_ json: JSONValue?) throws -> (any Normalizer)? {
    guard let json, !json.isNull else { return nil }
    return try makeNormalizer(json)
}

func makeOptionalPreTokenizer(_ json: JSONValue?) throws -> (any PreTokenizer)? {
    guard let json, !json.isNull else { return nil }
    return try makePreTokenizer(json)
}

func makeOptionalPostProcessor(_ json: JSONValue?) throws -> (any PostProcessor)? {
    guard let json, !json.isNull else { return nil }
    return try makePostProcessor(json)
}

func makeOptionalDecoder(_ json: JSONValue?) throws -> (any TokenDecoder)? {
    guard let json, !json.isNull else { return nil }
    return try makeDecoder(json)
}
