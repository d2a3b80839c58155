import Foundation
import Hummingbird
import JSON
import Runtime

/// The OpenAI-compatible endpoints (spec §4).
extension SGLangServer {
    func addOpenAIRoutes(to router: Router<ServerContext>) {
        router.get("/v1/models") { _, _ in
            SGLangServer.json(.object(JSONObject([("object", .string("list")), ("data", .array([self.modelCard()]))])))
        }
        router.get("/v1/models/{model}") { _, context in
            let name = context.parameters.get("model") ?? ""
            try self.checkModel(name)
            return SGLangServer.json(self.modelCard())
        }
        router.post("/v1/completions") { request, context in try await self.completions(request, context: context) }
        router.post("/v1/chat/completions") { request, context in try await self.chatCompletions(request, context: context) }
    }

    func modelCard() -> JSONValue {
        .object(JSONObject([
            ("id", .string(arguments.modelName)), ("object", .string("model")),
            ("created", .int(Int(startTime.timeIntervalSince1970))), ("owned_by", .string("sglang")),
            ("root", .string(arguments.modelName)), ("max_model_len", .int(engine.contextLength)),
        ]))
    }

    /// Accepts the served name, the model path and "default"; anything else is 404 as OpenAI answers.
    func checkModel(_ name: String?) throws {
        guard let name else { return }
        if name == arguments.modelName || name == arguments.modelPath || name == "default" { return }
        throw ServerError(status: 404, "The model `\(name)` does not exist.", param: "model")
    }

    // MARK: /v1/completions

    func completions(_ request: Request, context: ServerContext) async throws -> Response {
        let body = try await readJSON(request)
        logRequest("/v1/completions", body)
        let input = try OpenAIRequestParser.completion(body, defaults: defaults, defaultTimeout: arguments.requestTimeout)
        try checkModel(input.options.model)
        let prepared = try input.items.map(runner.prepare)
        let echo: [String] = input.options.echo ? zip(input.prompts, prepared).map { prompt, p in
            switch prompt {
            case .text(let s): return s
            case .ids(let ids): return model.tokenizer?.decode(ids) ?? ""
            }
        } : []
        let n = prepared.first?.samples.count ?? 1
        let header = OpenAIHeader(
            id: input.items[0].request.rid, created: Int(Date().timeIntervalSince1970),
            model: input.options.model ?? arguments.modelName, cacheReport: arguments.enableCacheReport)
        if input.options.stream {
            let formatter = CompletionStreamFormatter(header: header, options: input.options, n: n, echo: echo,
                                                      promptLengths: prepared.map(\.promptIds.count))
            return SSEStream.response(runner.run(prepared), channel: context.channel, formatter: formatter,
                                      onEvent: recorder())
        }
        let outputs = try await runner.collect(prepared, channel: context.channel)
        record(outputs)
        logFinished(outputs)
        if let error = outputs.lazy.compactMap({ ServerError.fromAbort($0.finishReason) }).first { throw error }
        let choices: [JSONValue] = outputs.enumerated().map { k, out in
            let p = k / n
            let prefix = input.options.echo ? echo[p] : ""
            var logprobs: JSONValue = .null
            if input.options.logprobs != nil {
                var entries = out.outputTokenLogprobs ?? []
                var tops = out.outputTopLogprobs ?? []
                if input.options.echo {
                    entries = (out.inputTokenLogprobs ?? []) + entries
                    tops = (out.inputTopLogprobs ?? Array(repeating: nil, count: out.inputTokenLogprobs?.count ?? 0)) + tops
                }
                logprobs = ResponseEncoding.completionLogprobs(
                    entries, top: tops, offset: input.options.echo ? 0 : (prefix.isEmpty ? 0 : prefix.unicodeScalars.count))
            }
            return .object(JSONObject([
                ("index", .int(k)), ("text", .string(prefix + out.text)), ("logprobs", logprobs),
                ("finish_reason", ResponseEncoding.openAIFinishReason(out.finishReason)),
                ("matched_stop", ResponseEncoding.matchedStop(out.finishReason)),
            ]))
        }
        var o = header.object("text_completion")
        o["choices"] = .array(choices)
        o["usage"] = header.usage(outputs, n: n)
        return SGLangServer.json(.object(o))
    }

    // MARK: /v1/chat/completions

    func chatCompletions(_ request: Request, context: ServerContext) async throws -> Response {
        let body = try await readJSON(request)
        logRequest("/v1/chat/completions", body)
        let input = try OpenAIRequestParser.chat(body, defaults: defaults, defaultTimeout: arguments.requestTimeout)
        try checkModel(input.options.model)
        let rendered = try ChatImages.render(chat, messages: input.messages, tools: input.tools,
                                             extra: input.templateKwargs, tokenizer: model.tokenizer, vision: model.vision)
        var item = input.item
        item.request.imageData = try await ImageDataResolver.resolve(input.images.map(ImageDataResolver.item))
        item.request.prompt = .ids(rendered.ids)
        for s in rendered.stop where !item.request.sampling.stop.contains(s) { item.request.sampling.stop.append(s) }
        let (chatItem, runner) = (item, self.runner)
        let prepared = [try await ImageDataResolver.preparing(hasImages: !item.request.imageData.isEmpty) {
            try runner.prepare(chatItem)
        }]
        let n = prepared[0].samples.count
        let header = OpenAIHeader(
            id: item.request.rid, created: Int(Date().timeIntervalSince1970),
            model: input.options.model ?? arguments.modelName, cacheReport: arguments.enableCacheReport)
        if input.options.stream {
            let formatter = ChatStreamFormatter(header: header, options: input.options, n: n)
            return SSEStream.response(runner.run(prepared), channel: context.channel, formatter: formatter,
                                      onEvent: recorder())
        }
        let outputs = try await runner.collect(prepared, channel: context.channel)
        record(outputs)
        logFinished(outputs)
        if let error = outputs.lazy.compactMap({ ServerError.fromAbort($0.finishReason) }).first { throw error }
        let choices: [JSONValue] = outputs.enumerated().map { k, out in
            var logprobs: JSONValue = .null
            if let top = input.options.logprobs {
                let content = ResponseEncoding.chatLogprobContent(
                    out.outputTokenLogprobs ?? [], top: out.outputTopLogprobs ?? [], topCount: top)
                logprobs = .object(JSONObject([("content", .array(content))]))
            }
            return .object(JSONObject([
                ("index", .int(k)),
                ("message", .object(JSONObject([("role", .string("assistant")), ("content", .string(out.text))]))),
                ("logprobs", logprobs),
                ("finish_reason", ResponseEncoding.openAIFinishReason(out.finishReason)),
                ("matched_stop", ResponseEncoding.matchedStop(out.finishReason)),
            ]))
        }
        var o = header.object("chat.completion")
        o["choices"] = .array(choices)
        o["usage"] = header.usage(outputs, n: n)
        return SGLangServer.json(.object(o))
    }
}

/// The fields every OpenAI response and chunk starts with, and the usage block.
struct OpenAIHeader: Sendable {
    var id: String
    var created: Int
    var model: String
    var cacheReport: Bool

    func object(_ kind: String) -> JSONObject {
        JSONObject([("id", .string(id)), ("object", .string(kind)), ("created", .int(created)), ("model", .string(model))])
    }

    /// Usage over final outputs (prompt-major, `n` per prompt): prompt tokens counted once per prompt.
    func usage(_ outputs: [GenerateOutput], n: Int) -> JSONValue {
        var prompt = 0, completion = 0, cached = 0
        for (k, o) in outputs.enumerated() {
            if k % max(1, n) == 0 {
                prompt += o.promptTokens
                cached += o.cachedTokens
            }
            completion += o.completionTokens
        }
        return ResponseEncoding.usage(prompt: prompt, completion: completion, cached: cacheReport ? cached : nil)
    }
}

/// The part of a cumulative text not sent yet (by UTF-8 length).
func textDelta(_ text: String, sent: inout Int) -> String {
    let bytes = text.utf8
    guard bytes.count > sent else { return "" }
    let piece = String(decoding: bytes.dropFirst(sent), as: UTF8.self)
    sent = bytes.count
    return piece
}
