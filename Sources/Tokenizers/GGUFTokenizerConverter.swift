import GGUF
import JSON

/// Builds tokenizer.json / tokenizer_config.json content from a GGUF file's `tokenizer.ggml.*` metadata.
public enum GGUFTokenizerConverter {
    /// The tokenizer.json-shaped JSON, the tokenizer_config.json-shaped JSON and the chat template of `file`.
    public static func convert(_ file: GGUFFile) throws -> (tokenizer: JSONValue, config: JSONValue, chatTemplate: String?) {
        throw TokenizerError.invalidFile(path: "gguf", reason: "GGUF tokenizer conversion is being written")
    }
}
