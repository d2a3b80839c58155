import ArgumentParser
import Foundation
import Tokenizers

/// `sglang tokenize`: prints the token ids of a text.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text (special tokens written in the text are recognised)."
    )

    @Option(name: .long, help: "A model folder, a tokenizer.json, or a .gguf file.")
    var tokenizer: String

    @Option(name: .long, help: "The text to tokenize.")
    var text: String?

    @Option(name: .long, help: "A file whose contents to tokenize.")
    var file: String?

    @Flag(name: .long, help: "Let the post-processor add its special tokens (e.g. BOS).")
    var addSpecialTokens = false

    @Flag(name: .long, help: "Print {\"ids\": [...]} instead of space-separated ids.")
    var json = false

    func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("give exactly one of --text or --file") }
    }

    func run() throws {
        let tok = try Tokenizer.load(from: tokenizer)
        let input: String
        if let text {
            input = text
        } else if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read --file \(file)")
            }
            input = String(decoding: data, as: UTF8.self)
        } else {
            input = ""
        }
        let ids = tok.encode(input, addSpecialTokens: addSpecialTokens)
        let list = ids.map(String.init)
        print(json ? "{\"ids\": [\(list.joined(separator: ", "))]}" : list.joined(separator: " "))
    }
}
