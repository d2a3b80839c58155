// swift-tools-version: 6.2
import PackageDescription

/// Settings shared by every target: Swift 6 language mode (strict concurrency) everywhere.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "sglang-swift",
    products: [
        .executable(name: "sglang", targets: ["SGLangCLI"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "Jinja", targets: ["Jinja"]),
        .library(name: "GGUF", targets: ["GGUF"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Compute", targets: ["Compute"]),
        .library(name: "Grammar", targets: ["Grammar"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "SGLang", targets: ["SGLang"]),
        .executable(name: "sglang-examples", targets: ["SGLangExamples"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // A small ordered JSON value type with a fast parser and a Python-compatible writer.
        .target(name: "JSON", swiftSettings: swiftSettings),
        // The Jinja template interpreter used for Hugging Face chat templates.
        .target(name: "Jinja", dependencies: ["JSON"], swiftSettings: swiftSettings),
        // GGUF file format: header, metadata, tensor directory.
        .target(name: "GGUF", swiftSettings: swiftSettings),
        // tokenizer.json / GGUF vocabularies, BPE/WordPiece/Unigram, chat templates.
        .target(name: "Tokenizers", dependencies: ["JSON", "Jinja", "GGUF"], swiftSettings: swiftSettings),
        // Constrained decoding: regex / JSON Schema -> byte DFA, token masks, jump-forward.
        .target(name: "Grammar", dependencies: ["JSON", "Tokenizers"], swiftSettings: swiftSettings),
        // OpenBLAS's CBLAS (apt: libopenblas-dev) for dense GEMMs on the CPU.
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        // SIMD integer dot kernels for block-quantized weights (portable C, AVX2, AVX-512 VNNI; runtime dispatch).
        .target(name: "CQuantKernels"),
        // Tensors, the ComputeBackend protocol, the CPU backend, KV pools and ForwardBatch metadata.
        .target(name: "Compute", dependencies: ["COpenBLAS", "CQuantKernels", "GGUF"], swiftSettings: swiftSettings),
        // Our own minimal CUDA driver / NVRTC / cuBLASLt declarations and their dlopen loader (no CUDA at build time).
        .target(name: "CCUDA"),
        // One POD params struct per CUDA kernel, shared by Swift and the kernels (NVRTC gets it in memory).
        .target(name: "CKernelParams"),
        // The CUDA backend foundation: driver wrappers, NVRTC kernel compiler and cache, kernels, cuBLASLt GEMM.
        .target(
            name: "CUDA", dependencies: ["CCUDA", "CKernelParams", "Compute"], resources: [.embedInCode("Kernels")],
            swiftSettings: swiftSettings),
        // Image decoding (PNG, JPEG) and the vision processors (CLIP / SigLIP resize, crop, pad, normalize).
        .target(name: "Imaging", swiftSettings: swiftSettings),
        // Model configs (model_type registry), weight loaders (safetensors, GGUF, dummy), architectures.
        .target(name: "Models", dependencies: ["JSON", "GGUF", "Compute"], swiftSettings: swiftSettings),
        // The device-resident model on CUDA: bf16 weights and KV cache on the GPU, kernels, cuBLASLt, CUDA graphs.
        .target(name: "CUDAModels", dependencies: ["CUDA", "Models", "Compute", "JSON"], swiftSettings: swiftSettings),
        // Model loading, sampling, single-request generation and the one-batch benchmark.
        .target(
            name: "Runtime", dependencies: ["Models", "Compute", "Tokenizers", "JSON", "Grammar", "Imaging", "CUDAModels"],
            swiftSettings: swiftSettings),
        // The HTTP server: SGLang's native API and the OpenAI-compatible API over the Engine.
        .target(
            name: "Server",
            dependencies: [
                "Runtime", "Tokenizers", "JSON", "Models", "Imaging", "Bench",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks that drive the engine or a server: datasets, bench-offline, bench-serving (HTTP client on NIO).
        .target(
            name: "Bench",
            dependencies: [
                "Runtime", "JSON", "Tokenizers",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The frontend language (programs, gen/select/roles/fork, run/runBatch) and its backends; the runtime is
        // reached only through the in-process adapter (EngineBackend.swift), HTTP through Bench's NIO client.
        .target(
            name: "SGLang",
            dependencies: [
                "JSON", "Tokenizers", "Grammar", "Runtime", "Bench",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // `sglang-examples NAME`: the README's frontend programs, runnable in process or against a server.
        .executableTarget(name: "SGLangExamples", dependencies: ["SGLang", "JSON", "Runtime"], path: "examples",
                          swiftSettings: swiftSettings),
        // The `sglang` command-line tool: argument parsing only, no logic of its own.
        .executableTarget(
            name: "SGLangCLI",
            dependencies: [
                "Tokenizers", "Jinja", "JSON", "GGUF", "Grammar", "Models", "Compute", "Runtime", "Server", "Bench", "CUDA",
                "CUDAModels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: swiftSettings),
        .testTarget(name: "JinjaTests", dependencies: ["Jinja", "JSON"], swiftSettings: swiftSettings),
        .testTarget(name: "GrammarTests", dependencies: ["Grammar", "Tokenizers", "JSON"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ComputeTests", dependencies: ["Compute"], resources: [.copy("Resources")], swiftSettings: swiftSettings),
        .testTarget(
            name: "RuntimeTests", dependencies: ["Runtime", "Models", "Compute", "Tokenizers", "JSON", "CUDAModels"],
            swiftSettings: swiftSettings),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"], swiftSettings: swiftSettings),
        .testTarget(name: "CUDATests", dependencies: ["CUDA", "Compute"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ImagingTests", dependencies: ["Imaging"], resources: [.copy("Resources")], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServerTests", dependencies: ["Server", "Runtime", "Bench", "JSON", "Tokenizers", "Models"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SGLangTests", dependencies: ["SGLang", "Server", "Runtime", "Tokenizers", "JSON"],
            swiftSettings: swiftSettings),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "Runtime", "JSON"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelsTests",
            dependencies: ["Models", "JSON", "GGUF"],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenizersTests",
            dependencies: ["Tokenizers", "JSON", "GGUF"],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
