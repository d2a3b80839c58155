import ArgumentParser
import Foundation
import Tokenizers

/// `sglang detokenize`: prints the text of token ids exactly (no newline added).
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Print the text of comma-separated token ids, exactly (no newline is added)."
    )

    @Option(name: .long, help: "A model folder, a tokenizer.json, or a .gguf file.")
    var tokenizer: String

    @Option(name: .long, help: "Comma-separated token ids, e.g. 1,2,3.")
    var ids: String

    @Flag(name: .long, help: "Leave out added tokens marked special.")
    var skipSpecialTokens = false

    func run() throws {
        var list: [Int] = []
        for part in ids.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let id = Int(trimmed), id >= 0 else { throw ValidationError("'\(trimmed)' is not a token id") }
            list.append(id)
        }
        let tok = try Tokenizer.load(from: tokenizer)
        let text = tok.decode(list, skipSpecialTokens: skipSpecialTokens)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
