import ArgumentParser

/// The `sglang` command-line tool.
@main
struct SGLangCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sglang",
        abstract: "SGLang for Swift: structured generation language and serving runtime.",
        subcommands: [TokenizeCommand.self, DetokenizeCommand.self, BenchTokenizerCommand.self, ChatTemplateCommand.self, BenchGrammarCommand.self, EvalGrammarCommand.self, GenerateCommand.self, BenchOneBatchCommand.self, BenchOfflineCommand.self, BenchServingCommand.self, ServeCommand.self, CUDACheckCommand.self, CUDABenchAttentionCommand.self, CUDABenchSamplerCommand.self, CUDACheckModelsCommand.self]
    )
}
