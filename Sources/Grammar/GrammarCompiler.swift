import Synchronization
import Tokenizers

/// What a request constrains its output with.
public enum GrammarSpec: Hashable, Sendable {
    /// A Python-`re` regex (full match).
    case regex(String)
    /// A JSON Schema given as JSON text.
    case jsonSchema(String)
    /// Any JSON object (`response_format: {"type": "json_object"}`).
    case jsonObject
    /// A frontend `dtype` (`int`, `float`, `bool`, `str`).
    case dtype(String)
}

/// Compiles grammars for one tokenizer and caches them by (kind, text), as SGLang's grammar backends do;
/// thread-safe, so one instance serves every request. Failed compilations are cached too (as errors), so a
/// bad grammar repeated by clients costs one compile.
public final class GrammarCompiler: Sendable {
    /// The tokenizer's token table and trie, shared by every compiled grammar.
    public let index: TokenIndex
    /// How JSON schemas are translated (whitespace, recursion depth).
    public let schemaOptions: JSONSchemaOptions
    /// The DFA state budget per grammar.
    public let maxDFAStates: Int
    private let cache = Mutex<[GrammarSpec: Result<CompiledGrammar, GrammarError>]>([:])

    /// A compiler for one tokenizer.
    public init(index: TokenIndex, schemaOptions: JSONSchemaOptions = JSONSchemaOptions(),
                maxDFAStates: Int = RegexCompiler.defaultMaxDFAStates) {
        self.index = index
        self.schemaOptions = schemaOptions
        self.maxDFAStates = maxDFAStates
    }

    /// The regex a spec stands for.
    public func regex(for spec: GrammarSpec) throws(GrammarError) -> String {
        switch spec {
        case let .regex(pattern): return pattern
        case let .jsonSchema(text): return try JSONSchemaConverter.regex(schemaText: text, options: schemaOptions)
        case .jsonObject: return JSONSchemaConverter.anyJSONObject(options: schemaOptions)
        case let .dtype(name):
            guard let regex = BuiltinRegex.regex(forDType: name) else {
                throw .invalidSchema(path: "dtype", reason: "unknown dtype \(name); expected int, float, bool or str")
            }
            return regex
        }
    }

    /// The compiled grammar of `spec`, from the cache when it was compiled before.
    public func compile(_ spec: GrammarSpec) throws(GrammarError) -> CompiledGrammar {
        if let hit = cache.withLock({ $0[spec] }) { return try hit.get() }
        let result: Result<CompiledGrammar, GrammarError>
        do {
            let dfa = try RegexCompiler.compile(try regex(for: spec), maxDFAStates: maxDFAStates)
            result = .success(CompiledGrammar(dfa: dfa, index: index))
        } catch {
            result = .failure(error)
        }
        // A concurrent compile of the same spec may have finished first: keep the first so requests share it.
        let stored = cache.withLock { cache -> Result<CompiledGrammar, GrammarError> in
            if let existing = cache[spec] { return existing }
            cache[spec] = result
            return result
        }
        return try stored.get()
    }

    /// A matcher at the start of `spec`.
    public func matcher(for spec: GrammarSpec) throws(GrammarError) -> GrammarMatcher {
        GrammarMatcher(grammar: try compile(spec))
    }

    /// The number of cached specs.
    public var cachedCount: Int { cache.withLock { $0.count } }
}
