import ArgumentParser
import Dispatch
import Foundation
import Tokenizers

/// `sglang bench-tokenizer`: single-thread encoding throughput on a text file.
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Measure single-thread encode throughput (MB/s, tokens/s): whole text and line by line."
    )

    @Option(name: .long, help: "A model folder, a tokenizer.json, or a .gguf file.")
    var tokenizer: String

    @Option(name: .long, help: "The text corpus to encode.")
    var file: String

    @Option(name: .long, help: "Timed repetitions of each mode (the best is reported).")
    var repeats = 3

    @Option(name: .long, help: "Write the ids of the whole-text encoding here (one per line) for comparison.")
    var dumpIds: String?

    func run() throws {
        let tok = try Tokenizer.load(from: tokenizer)
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read --file \(file)") }
        let text = String(decoding: data, as: UTF8.self)
        // Split on the byte 0x0A (not on Characters, where "\r\n" is one) exactly as the Python peer does.
        let lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) + "\n" }
        let megabytes = Double(text.utf8.count) / 1_000_000
        print("file: \(file) (\(String(format: "%.2f", megabytes)) MB, \(lines.count) lines)")

        func measure(_ body: () -> Int) -> (seconds: Double, tokens: Int) {
            var best = Double.infinity
            var tokens = 0
            for _ in 0..<max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                tokens = body()
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return (best, tokens)
        }
        // A fresh tokenizer per mode would hide nothing: the word cache lives per encode call.
        let whole = measure { tok.encode(text, addSpecialTokens: false).count }
        let perLine = measure {
            var n = 0
            for line in lines { n += tok.encode(line, addSpecialTokens: false).count }
            return n
        }
        for (name, r) in [("whole text", whole), ("line by line", perLine)] {
            print(String(format: "%-13@ %8.2f MB/s  %12.0f tokens/s  (%d tokens, %.3f s)",
                         name as NSString, megabytes / r.seconds, Double(r.tokens) / r.seconds, r.tokens, r.seconds))
        }
        if let dumpIds {
            let ids = tok.encode(text, addSpecialTokens: false)
            try ids.map(String.init).joined(separator: "\n").appending("\n").write(toFile: dumpIds, atomically: true, encoding: .utf8)
        }
    }
}
