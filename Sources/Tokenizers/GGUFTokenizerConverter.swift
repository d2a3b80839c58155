import GGUF
import JSON

/// Builds tokenizer.json / tokenizer_config.json content from a GGUF file's `tokenizer.*` metadata, the way
/// Hugging Face transformers does when it loads a tokenizer from a GGUF file
/// (`integrations/gguf/gguf_tokenizer_mapping.py`: `get_gguf_tokenizer`, `convert_gguf_tokenizer`), so that
/// `Tokenizer(tokenizerJSON:config:chatTemplate:)` behaves exactly like `AutoTokenizer.from_pretrained(dir,
/// gguf_file=...)`.
///
/// Supported `tokenizer.ggml.model` values: `gpt2` (byte-level BPE; `tokenizer.ggml.pre` picks the split regex)
/// and `llama` (SentencePiece-style BPE with byte fallback; merges come from the file or are derived from the
/// scores; `phi3` and `gemma*` architectures get their own variants) and `gemma4`.
public enum GGUFTokenizerConverter {
    /// The tokenizer.json-shaped JSON, the tokenizer_config.json-shaped JSON and the chat template of `file`.
    public static func convert(_ file: GGUFFile) throws -> (tokenizer: JSONValue, config: JSONValue, chatTemplate: String?) {
        let source = file.path ?? "GGUF data"
        let metadata = try GGUFTokenizerMetadata(file, source: source)
        var builder: GGUFTokenizerJSONBuilder
        switch metadata.model {
        case "gpt2":
            builder = try GGUFTokenizerJSONBuilder.byteLevel(metadata, source: source)
        case "llama":
            builder = try GGUFTokenizerJSONBuilder.sentencePiece(metadata, source: source)
        case "gemma4":
            builder = try GGUFTokenizerJSONBuilder.gemma4(metadata, source: source)
        default:
            throw TokenizerError.invalidFile(
                path: source,
                reason: "tokenizer.ggml.model '\(metadata.model)' is not supported (supported: gpt2, llama, gemma4)")
        }
        builder.addGGUFSpecialTokens(metadata)
        builder.setSplitRegex(pre: metadata.pre)
        let (tokenizer, config) = builder.finish(metadata)
        return (tokenizer, config, metadata.chatTemplate)
    }
}
