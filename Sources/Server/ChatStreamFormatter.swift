import Foundation
import JSON
import Runtime

/// `/v1/chat/completions` stream chunks: a role chunk per choice, content deltas, a finish chunk, an
/// optional usage chunk.
struct ChatStreamFormatter: OpenAIStreamFormatter {
    static let chunkObject = "chat.completion.chunk"
    let header: OpenAIHeader
    let options: OpenAIOptions
    let n: Int
    var sent: [Int: Int] = [:]
    var sentLogprobs: [Int: Int] = [:]
    var started: Set<Int> = []
    var finals: [Int: GenerateOutput] = [:]

    init(header: OpenAIHeader, options: OpenAIOptions, n: Int) {
        self.header = header
        self.options = options
        self.n = n
    }

    func chunk(_ index: Int, delta: JSONObject, logprobs: JSONValue = .null, finish: FinishReason? = nil,
               usage: GenerateOutput? = nil) -> String {
        var choice = JSONObject([("index", .int(index)), ("delta", .object(delta)), ("logprobs", logprobs),
                                 ("finish_reason", ResponseEncoding.openAIFinishReason(finish))])
        if finish != nil { choice["matched_stop"] = ResponseEncoding.matchedStop(finish) }
        var o = header.object(Self.chunkObject)
        o["choices"] = .array([.object(choice)])
        if options.continuousUsage, let u = usage {
            o["usage"] = ResponseEncoding.usage(prompt: u.promptTokens, completion: u.completionTokens, cached: nil)
        }
        return SSEStream.json(.object(o))
    }

    mutating func chunks(for event: RunEvent) -> [String] {
        let k = event.index, out = event.output
        var result: [String] = []
        if !started.contains(k) {
            started.insert(k)
            result.append(chunk(k, delta: JSONObject([("role", .string("assistant")), ("content", .string(""))])))
        }
        var sentBytes = sent[k] ?? 0
        let text = textDelta(out.text, sent: &sentBytes)
        sent[k] = sentBytes
        var logprobs: JSONValue = .null
        if let top = options.logprobs {
            let entries = out.outputTokenLogprobs ?? []
            let from = sentLogprobs[k] ?? 0
            if entries.count > from {
                let content = ResponseEncoding.chatLogprobContent(
                    Array(entries[from...]), top: Array((out.outputTopLogprobs ?? []).dropFirst(from)), topCount: top)
                logprobs = .object(JSONObject([("content", .array(content))]))
                sentLogprobs[k] = entries.count
            }
        }
        if !text.isEmpty || !logprobs.isNull {
            result.append(chunk(k, delta: JSONObject([("content", .string(text))]), logprobs: logprobs, usage: out))
        }
        if out.isFinished {
            finals[k] = out
            result.append(chunk(k, delta: JSONObject(), finish: out.finishReason, usage: out))
        }
        return result
    }
}
