import Foundation
import JSON

/// Generates text into variable `name` (SGLang's `gen`, spec §1.3). Every argument left nil inherits the
/// run's default. With `choices` it is a `select`. `dtype` constrains the output to an int, float, bool or
/// quoted string (read it back with `ProgramState.int(_:)` etc.); `regex` and `jsonSchema` constrain it too.
/// `stopRegex` ends it where one of the patterns matches its text (SGLang HEAD's `stop_regex`).
public func gen(
    _ name: String? = nil, maxTokens: Int? = nil, stop: [String]? = nil, stopTokenIds: [Int]? = nil,
    temperature: Double? = nil, topP: Double? = nil, topK: Int? = nil, minP: Double? = nil,
    frequencyPenalty: Double? = nil, presencePenalty: Double? = nil, ignoreEOS: Bool? = nil,
    returnLogprob: Bool? = nil, logprobStartLen: Int? = nil, topLogprobsNum: Int? = nil,
    returnTextInLogprobs: Bool? = nil, dtype: GenType? = nil, choices: [String]? = nil,
    choicesMethod: ChoicesMethod? = nil, regex: String? = nil, jsonSchema: JSONSchema? = nil,
    stopRegex: [String]? = nil
) -> Expr {
    if let choices, !choices.isEmpty {
        return select(name, choices: choices, temperature: temperature ?? 0,
                      choicesMethod: choicesMethod ?? .tokenLengthNormalized)
    }
    let o = SamplingOverrides(
        maxNewTokens: maxTokens, stop: stop, stopTokenIds: stopTokenIds, temperature: temperature, topP: topP,
        topK: topK, minP: minP, frequencyPenalty: frequencyPenalty, presencePenalty: presencePenalty,
        ignoreEOS: ignoreEOS, returnLogprob: returnLogprob, logprobStartLen: logprobStartLen,
        topLogprobsNum: topLogprobsNum, returnTextInLogprobs: returnTextInLogprobs, jsonSchema: jsonSchema?.text,
        dtype: dtype, regex: regex, stopRegex: stopRegex)
    return Expr([.gen(GenNode(name: name, overrides: o))])
}

/// A stop string as one element (`gen("x", stop: "\n")` reads like SGLang's `stop="\n"`).
public func gen(_ name: String? = nil, maxTokens: Int? = nil, stop: String, temperature: Double? = nil,
                dtype: GenType? = nil, regex: String? = nil) -> Expr {
    gen(name, maxTokens: maxTokens, stop: [stop], temperature: temperature, dtype: dtype, regex: regex)
}

/// `gen` with `dtype: .int`.
public func genInt(_ name: String? = nil, maxTokens: Int? = nil, stop: [String]? = nil,
                   temperature: Double? = nil) -> Expr {
    gen(name, maxTokens: maxTokens, stop: stop, temperature: temperature, dtype: .int)
}

/// `gen` with `dtype: .string` (a double-quoted string of word characters and spaces).
public func genString(_ name: String? = nil, maxTokens: Int? = nil, stop: [String]? = nil,
                      temperature: Double? = nil) -> Expr {
    gen(name, maxTokens: maxTokens, stop: stop, temperature: temperature, dtype: .string)
}

/// Picks one of `choices` by likelihood, appends it and stores it in `name` (spec §1.3, §1.11).
public func select(_ name: String? = nil, choices: [String], temperature: Double = 0,
                   choicesMethod: ChoicesMethod = .tokenLengthNormalized) -> Expr {
    Expr([.select(SelectNode(name: name, choices: choices, temperature: temperature, method: choicesMethod))])
}

/// An image from a file (base64-encoded when it runs); appends the template's image token.
public func image(_ path: String) -> Expr { Expr([.image(.file(path))]) }
/// An image by URL (passed to the backend as it is).
public func image(url: String) -> Expr { Expr([.image(.url(url))]) }
/// An image from encoded bytes.
public func image(data: [UInt8]) -> Expr { Expr([.image(.data(data))]) }

/// A system message around `expr` (SGLang's `system(expr)`).
public func system(_ expr: Expr) -> Expr { role("system", expr) }
/// A user message around `expr`.
public func user(_ expr: Expr) -> Expr { role("user", expr) }
/// An assistant message around `expr`.
public func assistant(_ expr: Expr) -> Expr { role("assistant", expr) }
/// A system message around text.
public func system(_ text: String) -> Expr { role("system", Expr(text)) }
/// A user message around text.
public func user(_ text: String) -> Expr { role("user", Expr(text)) }
/// An assistant message around text.
public func assistant(_ text: String) -> Expr { role("assistant", Expr(text)) }

/// A message of any role around `expr`.
public func role(_ name: String, _ expr: Expr) -> Expr {
    Expr([.roleBegin(name)] + expr.nodes + [.roleEnd(name)])
}

/// Opens a system message (close it with `systemEnd()`).
public func systemBegin() -> Expr { Expr([.roleBegin("system")]) }
/// Closes a system message.
public func systemEnd() -> Expr { Expr([.roleEnd("system")]) }
/// Opens a user message.
public func userBegin() -> Expr { Expr([.roleBegin("user")]) }
/// Closes a user message.
public func userEnd() -> Expr { Expr([.roleEnd("user")]) }
/// Opens an assistant message.
public func assistantBegin() -> Expr { Expr([.roleBegin("assistant")]) }
/// Closes an assistant message.
public func assistantEnd() -> Expr { Expr([.roleEnd("assistant")]) }
