import Foundation

/// Runs a child process (curl, python3) on a thread of its own and awaits it, so the blocking pipe reads and
/// `waitUntilExit` never hold one of the cooperative threads that the in-process server needs (CI has two).
enum ChildProcess {
    struct Finished: Sendable {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    static func run(_ arguments: [String], stdin: [UInt8]? = nil) async throws -> Finished {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Finished, any Error>) in
            let thread = Thread {
                do { c.resume(returning: try runBlocking(arguments, stdin: stdin)) } catch { c.resume(throwing: error) }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private static func runBlocking(_ arguments: [String], stdin: [UInt8]?) throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // stdin and stderr are served by threads of their own so no pipe can fill up and deadlock the child.
        if let stdin {
            Thread {
                input.fileHandleForWriting.write(Data(stdin))
                try? input.fileHandleForWriting.close()
            }.start()
        }
        let stderrBox = ByteBox()
        let stderrDone = DispatchSemaphore(value: 0)
        Thread {
            stderrBox.bytes = [UInt8](errors.fileHandleForReading.readDataToEndOfFile())
            stderrDone.signal()
        }.start()
        let out = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        stderrDone.wait()
        process.waitUntilExit()
        return Finished(status: process.terminationStatus, stdout: out, stderr: stderrBox.bytes)
    }

    /// Bytes handed from the stderr reader thread (ordered by the semaphore).
    private final class ByteBox: @unchecked Sendable {
        var bytes: [UInt8] = []
    }
}
