import Glibc
public import Logging
import PaddockCore

/// The log lines of `paddockd` and `paddock-gateway`: one line per event on
/// standard error, written with one `write`, so that lines from several
/// threads never mix.
///
/// ```
/// paddockd: serving /var/lib/paddock/paddockd.sock
/// paddockd: warning: not restored code=105 error="python3.12 not found" plugin=weather-forecast
/// paddock-gateway: request duration_ms=2.41 method=POST path=/v1/plugins/text-tools/tools/word_count request_id=3f2a... status=200 tenant=acme
/// ```
///
/// The label, then the level unless it is `info` or `notice`, the message,
/// and the metadata as `key=value`, sorted by key. A value is quoted when it
/// is empty or holds a space, a quote, `=` or a backslash; control
/// characters are escaped in the message and the values alike, so no text
/// from a request or a plugin can forge a line.
public struct LineLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let fileDescriptor: Int32

    /// - Parameter fileDescriptor: where the lines go; standard error unless given.
    public init(label: String, level: Logger.Level = .info, fileDescriptor: Int32 = 2) {
        self.label = label
        self.logLevel = level
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        if let error = event.error { all["error"] = .string("\(error)") }
        let line = Self.line(label: label, level: event.level, message: event.message.description, metadata: all)
        Self.write(Array(line.utf8), to: fileDescriptor)
    }

    /// One event as its line, with the newline.
    public static func line(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = label + ": "
        if level != .info && level != .notice { line += level.rawValue + ": " }
        line += escaped(message, quoting: false)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " " + escaped(key, quoting: false) + "=" + escaped(value.description, quoting: true)
        }
        return line + "\n"
    }

    /// `text` with control characters escaped; quoted as well when asked
    /// and it is empty or holds a space, a quote, `=` or a backslash.
    static func escaped(_ text: String, quoting: Bool) -> String {
        let needsQuotes = quoting && (text.isEmpty || text.utf8.contains { [0x20, 0x22, 0x3D, 0x5C].contains($0) })
        guard needsQuotes else { return text.escapingControlCharacters() }
        var quoted = "\""
        for character in text.escapingControlCharacters(backslashes: true) {
            if character == "\"" { quoted += "\\\"" } else { quoted.append(character) }
        }
        return quoted + "\""
    }

    /// Writes `bytes` whole: a short write goes on, an interrupted one is retried, an error loses the line.
    private static func write(_ bytes: [UInt8], to fileDescriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}

extension LineLogHandler {
    /// Sends every `Logger` of the process to a ``LineLogHandler`` at
    /// `level`. Once, at the start of an executable, before any logger is made.
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level) }
    }
}
