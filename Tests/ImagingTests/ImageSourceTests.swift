import Foundation
import Imaging
import Testing

@Suite struct ImageSourceTests {
    @Test func base64AgainstFoundation() throws {
        // Foundation's encoder is the independent reference; every length 0...40 covers all padding cases.
        for n in 0...40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            let text = Data(bytes).base64EncodedString()
            #expect(try Base64.decode(text) == bytes)
            // Unpadded and line-wrapped forms decode the same.
            #expect(try Base64.decode(text.replacingOccurrences(of: "=", with: "")) == bytes)
            let wrapped = Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            #expect(try Base64.decode(wrapped) == bytes)
        }
        #expect(throws: ImagingError.self) { try Base64.decode("ab$d") }
        #expect(throws: ImagingError.self) { try Base64.decode("abcde") }
        #expect(throws: ImagingError.self) { try Base64.decode("ab==cd") }
    }

    @Test func classifiesLikeSGLang() {
        #expect(ImageSource(imageData: "https://example.com/cat.png") == .url("https://example.com/cat.png"))
        #expect(ImageSource(imageData: "http://x/y") == .url("http://x/y"))
        #expect(ImageSource(imageData: "/tmp/a.JPG") == .file("/tmp/a.JPG"))
        #expect(ImageSource(imageData: "data:image/png;base64,AAAA") == .dataURI("data:image/png;base64,AAAA"))
        // A JPEG's base64 starts with "/9j/": still base64, not a path.
        #expect(ImageSource(imageData: "/9j/4AAQSkZJRg") == .base64("/9j/4AAQSkZJRg"))
    }

    @Test func everyFormLoadsTheSameImage() async throws {
        let bytes = try Fixtures.bytes("decode/rgb8_fixed.png")
        let expected = try ImageDecoder.decode(bytes)
        let b64 = Data(bytes).base64EncodedString()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-source-\(getpid()).png").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let fetched = ImageLoader(fetcher: { url in
            guard url == "https://example.com/x.png" else { throw ImagingError.loadFailed("unexpected \(url)") }
            return bytes
        })
        for data in ["data:image/png;base64," + b64, b64, path, "https://example.com/x.png"] {
            #expect(try await fetched.load(imageData: data) == expected)
        }
        #expect(try await fetched.load(.bytes(bytes)) == expected)
        // Without a fetcher a URL is a clear error.
        await #expect(throws: ImagingError.self) { try await ImageLoader().load(imageData: "https://example.com/x.png") }
        // Size cap applies to every source.
        await #expect(throws: ImagingError.self) { try await ImageLoader(maxBytes: 100).load(.bytes(bytes)) }
        #expect(throws: ImagingError.self) { try ImageSource.file("/nonexistent/dir/x.png").loadBytes() }
        #expect(throws: ImagingError.self) { try ImageSource.dataURI("data:image/png,plain").loadBytes() }
    }
}
