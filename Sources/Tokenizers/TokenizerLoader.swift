import Foundation
import GGUF
import JSON

extension Tokenizer {
    /// Loads a tokenizer from a model folder (tokenizer.json, tokenizer_config.json, chat_template.jinja),
    /// a tokenizer.json file (its folder's config and template are used when present), or a `.gguf` file.
    public static func load(from path: String) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizerError.fileNotFound(path)
        }
        if !isDirectory.boolValue && path.lowercased().hasSuffix(".gguf") {
            let file: GGUFFile
            do {
                file = try GGUFFile(path: path)
            } catch {
                throw TokenizerError.invalidFile(path: path, reason: "\(error)")
            }
            let converted = try GGUFTokenizerConverter.convert(file)
            return try Tokenizer(tokenizerJSON: converted.tokenizer, config: converted.config, chatTemplate: converted.chatTemplate)
        }
        let folder: URL
        let tokenizerFile: URL
        if isDirectory.boolValue {
            folder = URL(fileURLWithPath: path)
            tokenizerFile = folder.appendingPathComponent("tokenizer.json")
        } else {
            tokenizerFile = URL(fileURLWithPath: path)
            folder = tokenizerFile.deletingLastPathComponent()
        }
        let tokenizerJSON = try readJSON(tokenizerFile.path, required: true) ?? .null
        let config = try readJSON(folder.appendingPathComponent("tokenizer_config.json").path, required: false)
        let templatePath = folder.appendingPathComponent("chat_template.jinja").path
        var template: String? = nil
        if FileManager.default.fileExists(atPath: templatePath) {
            guard let data = FileManager.default.contents(atPath: templatePath) else {
                throw TokenizerError.fileNotFound(templatePath)
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw TokenizerError.invalidFile(path: templatePath, reason: "not valid UTF-8")
            }
            template = text
        }
        do {
            return try Tokenizer(tokenizerJSON: tokenizerJSON, config: config, chatTemplate: template)
        } catch let error as TokenizerError {
            switch error {
            case .invalidComponent, .unknownComponent:
                throw TokenizerError.invalidFile(path: tokenizerFile.path, reason: error.description)
            default:
                throw error
            }
        }
    }

    /// Parses a JSON file; a missing optional file is nil, a missing required one an error.
    static func readJSON(_ path: String, required: Bool) throws -> JSONValue? {
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw TokenizerError.fileNotFound(path) }
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError.fileNotFound(path)
        }
        do {
            return try JSONValue.parse(bytes: [UInt8](data))
        } catch {
            throw TokenizerError.invalidFile(path: path, reason: "malformed JSON: \(error)")
        }
    }
}
