/// The HTTP server module: SGLang's native and OpenAI-compatible endpoints over `Runtime.Engine`.
enum ServerModule {}
