import Foundation
import JSON
import Runtime

/// What the OpenAI stream formatters share: the closing usage chunk and the mid-stream error chunk.
protocol OpenAIStreamFormatter: StreamFormatter {
    /// The chunks' `object` field.
    static var chunkObject: String { get }
    var header: OpenAIHeader { get }
    var options: OpenAIOptions { get }
    /// Samples per prompt.
    var n: Int { get }
    /// Final outputs by choice index.
    var finals: [Int: GenerateOutput] { get }
}

extension OpenAIStreamFormatter {
    /// With `stream_options.include_usage`: one chunk with no choices and the usage of every final output.
    mutating func finish() -> [String] {
        guard options.includeUsage else { return [] }
        let outputs = finals.keys.sorted().compactMap { finals[$0] }
        var o = header.object(Self.chunkObject)
        o["choices"] = .array([])
        o["usage"] = header.usage(outputs, n: n)
        return [SSEStream.json(.object(o))]
    }

    func error(_ error: ServerError) -> String {
        SSEStream.json(.object(JSONObject([("error", error.openAIJSON)])))
    }
}
