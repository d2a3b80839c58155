import Foundation
import JSON
import Runtime
import SGLang

/// `sglang-examples NAME [--url URL | --model-path PATH] [--temperature T]`: runs one README example against a
/// server (RuntimeEndpoint) or in process (EngineBackend) and prints its variables as JSON.
func usage() -> String {
    var text = "usage: sglang-examples NAME [--url http://HOST:PORT] [--api-key KEY] [--model-path PATH] [--temperature T]"
        + " [--image PATH] [--question TEXT]\n\nexamples:\n"
    for e in Examples.all { text += "  \(e.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(e.summary)\n" }
    return text
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sglang-examples: \(message)\n".utf8))
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
guard let name = args.first, !name.hasPrefix("-") else {
    print(usage(), terminator: "")
    exit(args.contains("--help") || args.contains("-h") ? 0 : 2)
}
args.removeFirst()
var options: [String: String] = [:]
while let flag = args.first {
    args.removeFirst()
    guard ["--url", "--api-key", "--model-path", "--temperature", "--image", "--question"].contains(flag),
          let value = args.first else {
        fail("unknown or incomplete option \(flag)\n" + usage())
    }
    args.removeFirst()
    options[flag] = value
}
guard let example = Examples.all.first(where: { $0.name == name }) else { fail("no example named \(name)\n" + usage()) }
// image-qa reads its inputs from the environment (the examples share one signature).
if let image = options["--image"] { setenv(ImageQA.imageVariable, image, 1) }
if let question = options["--question"] { setenv(ImageQA.questionVariable, question, 1) }
let temperature = options["--temperature"].map { Double($0) ?? -1 } ?? 0
guard temperature >= 0 else { fail("--temperature takes a number ≥ 0") }

do {
    let backend: any Backend
    if let url = options["--url"] {
        backend = try await RuntimeEndpoint(url: url, apiKey: options["--api-key"])
    } else {
        let path = options["--model-path"] ?? "models/SmolLM2-135M-Instruct.Q4_1.gguf"
        // A small KV cache: the examples are short.
        backend = try EngineBackend(modelPath: path, options: EngineOptions(contextLength: 2048, maxTotalTokens: 16384))
    }
    let result = try await example.run(backend, SamplingParameters(temperature: temperature))
    print(JSONValue.object(result).serialized(.python(indent: 2, ensureASCII: false)))
    exit(0)
} catch {
    fail("\(error)")
}
