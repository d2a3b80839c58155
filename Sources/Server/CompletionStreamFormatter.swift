import Foundation
import JSON
import Runtime

/// `/v1/completions` stream chunks: text deltas (the echo first), logprob deltas, the finish reason on the
/// last content chunk, an optional usage chunk.
struct CompletionStreamFormatter: OpenAIStreamFormatter {
    static let chunkObject = "text_completion"
    let header: OpenAIHeader
    let options: OpenAIOptions
    let n: Int
    let echo: [String]
    let promptLengths: [Int]
    var sent: [Int: Int] = [:]
    var sentLogprobs: [Int: Int] = [:]
    var echoed: Set<Int> = []
    var finals: [Int: GenerateOutput] = [:]

    init(header: OpenAIHeader, options: OpenAIOptions, n: Int, echo: [String], promptLengths: [Int]) {
        self.header = header
        self.options = options
        self.n = n
        self.echo = echo
        self.promptLengths = promptLengths
    }

    mutating func chunks(for event: RunEvent) -> [String] {
        let k = event.index, out = event.output
        var sentBytes = sent[k] ?? 0
        var text = textDelta(out.text, sent: &sentBytes)
        sent[k] = sentBytes
        var offset = 0
        if options.echo, !echoed.contains(k) {
            echoed.insert(k)
            text = echo[k / n] + text
        }
        var logprobs: JSONValue = .null
        if options.logprobs != nil {
            var entries = out.outputTokenLogprobs ?? []
            var tops = out.outputTopLogprobs ?? []
            if options.echo {
                let input = out.inputTokenLogprobs ?? []
                entries = input + entries
                tops = (out.inputTopLogprobs ?? Array(repeating: nil, count: input.count)) + tops
            }
            let from = sentLogprobs[k] ?? 0
            if entries.count > from {
                offset = entries[..<from].reduce(0) { $0 + ($1.text ?? "").unicodeScalars.count }
                logprobs = ResponseEncoding.completionLogprobs(
                    Array(entries[from...]), top: Array(tops.dropFirst(from)), offset: offset)
                sentLogprobs[k] = entries.count
            }
        }
        if out.isFinished { finals[k] = out }
        guard !text.isEmpty || out.isFinished || !logprobs.isNull else { return [] }
        var o = header.object(Self.chunkObject)
        o["choices"] = .array([.object(JSONObject([
            ("index", .int(k)), ("text", .string(text)), ("logprobs", logprobs),
            ("finish_reason", ResponseEncoding.openAIFinishReason(out.finishReason)),
            ("matched_stop", ResponseEncoding.matchedStop(out.finishReason)),
        ]))])
        if options.continuousUsage {
            o["usage"] = ResponseEncoding.usage(prompt: out.promptTokens, completion: out.completionTokens, cached: nil)
        }
        return [SSEStream.json(.object(o))]
    }
}
